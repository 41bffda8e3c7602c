import type { Command } from 'commander';
import {
  abortableSleep,
  isClientError,
  MeshProfileManager,
  retryRateLimited,
  type ClientError,
  type FetchLike,
} from '@cryptomesh/client';
import { CliUsageError, type CliIo } from '../cli-io';
import { FileClientStore, resolveMeshHome } from '../home/file-client-store';
import { registerAccountCommands } from './account.command';
import { registerCatalogCommands } from './catalog.command';
import { registerContactCommands } from './contact.command';
import { registerDeviceCommands } from './device.command';
import { registerEscrowCommands } from './escrow.command';
import { registerEscrowOnlineCommands } from './escrow-online.command';
import { registerMessageCommands } from './message.command';
import { registerPasswordCommands } from './password.command';
import { registerPortalCommands } from './portal.command';
import { registerProfileCommands } from './profile.command';
import { lazyTransport } from './transport';

/** The global options of `mesh` (docs/design/client.md "The `mesh` commands"). */
export interface GlobalOptions {
  readonly home?: string;
  readonly json?: boolean;
  /** A PEM file of CA certificates to trust for HTTPS instead of the system's (docs/tls.md). */
  readonly ca?: string;
}

/**
 * What the profile-manager commands share: MESH_HOME, the SDK, the output convention and the error
 * convention. Each command is a thin layer: parse its arguments, call the SDK, print the result.
 */
export interface ClientCommandContext {
  readonly io: CliIo;
  /** The store of MESH_HOME: `--home`, else env `MESH_HOME`, else `~/.mesh`. */
  store(): FileClientStore;
  /** The SDK's profile manager over that store, with fetchImpl and the platform's CSPRNG. */
  manager(): MeshProfileManager;
  /**
   * The fetch every request goes through: the platform's, waiting out a portal's rate limit (429)
   * and, for profile reads, the peers' cosignatures on a fresh checkpoint (net/).
   */
  readonly fetchImpl: FetchLike;
  /** `--json` was given: results are one JSON object on stdout, everything else on stderr. */
  json(): boolean;
  /** A progress line on stderr (anything that waits on the network says so first). */
  progress(line: string): void;
  /** The result: `value` as one JSON object under `--json`, else `lines` on stdout. */
  result(value: Record<string, unknown>, lines: readonly string[]): void;
  /**
   * Wraps a command's action. A ClientError becomes one line on stderr naming the portal and the
   * check — `mesh: <message> (portal P, check C) [code]` — and, under `--json`, `{"error": …}` on
   * stdout; exit 2 for `usage.*`, else 1. A CliUsageError is printed the same way with its exit
   * status. Anything else propagates to runMesh.
   */
  action<A extends unknown[]>(body: (...args: A) => void | Promise<void>): (...args: A) => Promise<void>;
  /** A whole decimal number given to option `name`, within [min, max], or a usage error naming it. */
  count(name: string, value: string, min: number, max: number): number;
  /** Resolves after `ms` milliseconds (injected in tests). */
  sleep(ms: number): Promise<void>;
  /** Unix milliseconds. */
  now(): number;
}

/** Hooks for tests: the SDK's fetch, the clock. The binary uses the platform's. */
export interface ClientCommandHooks {
  readonly fetchImpl?: FetchLike;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/**
 * `mesh profile|device|password|escrow|portal|account` (issue #7) and `mesh contact|message|task|confirm|catalog` (issue #20): the Mesh profile manager over
 * `@cryptomesh/client`, with MESH_HOME as a FileClientStore. Registers `--home` and `--json` on the
 * program so that they are accepted before or after the command's name.
 */
export function registerClientCommands(
  program: Command,
  io: CliIo,
  setStatus: (code: number) => void,
  hooks: ClientCommandHooks = {},
): void {
  program
    .option('--home <dir>', 'the Mesh home directory (default: $MESH_HOME, else ~/.mesh)')
    .option('--json', 'print the result as one JSON object (messages stay on stderr)')
    .option(
      '--ca <file>',
      "trust the CA certificates in this PEM file for HTTPS (default: $MESH_CA_FILE, else the system's)",
    );
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  let store: FileClientStore | undefined;
  const sleep = hooks.sleep ?? abortableSleep;
  const now = hooks.now ?? (() => Date.now());
  const progress = (line: string): void => io.stderr(line);
  // The store is resolved at the first request, after the options were parsed. A trust.json that
  // cannot be read only means "do not wait": the SDK reports it (state.corrupt) where it reads it.
  // The transport too (--ca, else MESH_CA_FILE: transport.ts).
  const platformFetch = lazyTransport(program, io);
  const fetchImpl = retryRateLimited(hooks.fetchImpl ?? platformFetch, { sleep, progress });
  const context: ClientCommandContext = {
    fetchImpl,
    io,
    store() {
      const home = globals().home;
      if (home === '') throw new CliUsageError('--home needs a directory');
      store ??= new FileClientStore(resolveMeshHome(home, io.env));
      return store;
    },
    manager() {
      return new MeshProfileManager(this.store(), {
        ...(io.random === undefined ? {} : { random: io.random }),
        fetchImpl,
        ...(hooks.sleep === undefined ? {} : { sleep: hooks.sleep }),
        ...(hooks.now === undefined ? {} : { now: hooks.now }),
      });
    },
    json: () => globals().json === true,
    progress,
    result(value, lines) {
      if (context.json()) io.stdout(JSON.stringify(value));
      else for (const line of lines) io.stdout(line);
    },
    action(body) {
      return async (...args) => {
        try {
          if (hooks.fetchImpl === undefined) platformFetch.resolve(); // a bad --ca is a usage error first
          await body(...args);
        } catch (error) {
          if (error instanceof CliUsageError) {
            io.stderr(`mesh: ${error.message}`);
            const code = error.code ?? (error.exitCode === 2 ? 'usage.invalid' : 'failed');
            if (context.json()) io.stdout(JSON.stringify({ error: { code, message: error.message } }));
            setStatus(error.exitCode);
            return;
          }
          if (!isClientError(error)) throw error;
          io.stderr(`mesh: ${describeClientError(error)}`);
          if (context.json()) io.stdout(JSON.stringify({ error: clientErrorJson(error) }));
          setStatus(error.code.startsWith('usage.') ? 2 : 1);
        }
      };
    },
    count(name, value, min, max) {
      if (!/^\d{1,6}$/.test(value))
        throw new CliUsageError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
      const n = Number(value);
      if (n < min || n > max) throw new CliUsageError(`${name} must be from ${min} to ${max}, got ${n}`);
      return n;
    },
    sleep: (ms) => sleep(ms),
    now,
  };
  registerProfileCommands(program, context);
  registerDeviceCommands(program, context);
  registerPasswordCommands(program, context);
  registerEscrowCommands(program, context);
  const escrow = program.commands.find((c) => c.name() === 'escrow');
  if (escrow !== undefined) registerEscrowOnlineCommands(escrow, context);
  registerPortalCommands(program, context);
  registerAccountCommands(program, context);
  registerContactCommands(program, context);
  registerMessageCommands(program, context);
  registerCatalogCommands(program, context);
}

/** One line: the SDK's message, then who served what failed and which check, then the stable code. */
export function describeClientError(error: ClientError): string {
  const where = [
    error.portal === undefined || error.message.includes(error.portal) ? undefined : `portal ${error.portal}`,
    error.check === undefined ? undefined : `check: ${error.check}`,
  ].filter((part) => part !== undefined);
  // "fetch failed" says little: the system's reason (ECONNREFUSED, ENOTFOUND…) is the cause's cause.
  const reason = systemCode(error.cause);
  const message = `${error.message}${reason === undefined || error.message.includes(reason) ? '' : ` (${reason})`}`;
  return `${message.replace(/\s*\n\s*/g, ' ')}${where.length === 0 ? '' : ` (${where.join(', ')})`} [${error.code}]`;
}

function systemCode(cause: unknown, depth = 0): string | undefined {
  if (typeof cause !== 'object' || cause === null || depth > 3) return undefined;
  const { code, cause: inner } = cause as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  return systemCode(inner, depth + 1);
}

/** The error as `--json` prints it: code, message, portal, check, and the evidence a portal left. */
export function clientErrorJson(error: ClientError): Record<string, unknown> {
  return {
    code: error.code,
    message: error.message,
    ...(error.portal === undefined ? {} : { portal: error.portal }),
    ...(error.check === undefined ? {} : { check: error.check }),
    ...(error.evidence === undefined ? {} : { evidence: error.evidence }),
  };
}

/** A URL option: http(s) only, or a usage error naming the option. */
export function urlOption(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliUsageError(`${name} must be a URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliUsageError(`${name} must be an http or https URL, got ${JSON.stringify(value)}`);
  return value.replace(/\/+$/, '');
}
