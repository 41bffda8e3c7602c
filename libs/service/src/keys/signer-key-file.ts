import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { formatSignerKey, isLogError, parseSignerKey, type KeyType, type NoteSigner } from '@cryptomesh/log';
import { ConfigError } from '../config/config-error';
import type { Env } from '../config/env';

/** Which key a service loads: its variables, its signed-note type, and what to say when it is wrong. */
export interface SignerKeySpec {
  /** `LOG_KEY_FILE`, `WITNESS_KEY_FILE`. */
  readonly fileVar: string;
  /** `LOG_KEY`, `WITNESS_KEY`. */
  readonly inlineVar: string;
  readonly type: KeyType;
  /** Said when a key of the other type is given, e.g. "the log key is an Ed25519 signed-note key (type 0x01)". */
  readonly wrongType: string;
}

/**
 * A signer key (the Go `sumdb/note` format `PRIVATE+KEY+<name>+<hex key ID>+<base64(type ‖ seed)>`)
 * from a file (`fileVar`, a path) or the environment (`inlineVar`) — at most one of them; undefined
 * when neither is set (the caller decides whether the key is required). Errors are one-line
 * ConfigErrors that name the variable and never echo the secret; a key of another type is refused.
 */
export function loadSignerKey(env: Env, spec: SignerKeySpec): NoteSigner | undefined {
  const file = env[spec.fileVar]?.trim() ?? '';
  const inline = env[spec.inlineVar]?.trim() ?? '';
  if (file !== '' && inline !== '')
    throw new ConfigError(spec.inlineVar, `set ${spec.inlineVar} or ${spec.fileVar}, not both`);
  if (file === '' && inline === '') return undefined;
  const variable = file !== '' ? spec.fileVar : spec.inlineVar;
  let text = inline;
  if (file !== '') {
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(spec.fileVar, `cannot read ${JSON.stringify(file)} (${reason})`);
    }
  }
  let signer: NoteSigner;
  try {
    signer = parseSignerKey(text, nodeEd25519);
  } catch (error) {
    if (!isLogError(error)) throw error;
    throw new ConfigError(
      variable,
      `is not a signer key PRIVATE+KEY+<name>+<hex key ID>+<base64 key>: ${error.message}`,
    );
  }
  if (signer.verifierKey.type !== spec.type) throw new ConfigError(variable, spec.wrongType);
  return signer;
}

/** A new key named `name` of `type`: the secret signer-key string and the public verifier key. */
export function generateSignerKey(name: string, type: KeyType): { signerKey: string; verifierKey: string } {
  const signerKey = formatSignerKey(name, type, randomBytes(32), nodeEd25519);
  return { signerKey, verifierKey: parseSignerKey(signerKey, nodeEd25519).verifierKey.text };
}

export interface KeygenIo {
  stdout(line: string): void;
  stderr(line: string): void;
}

const defaultIo: KeygenIo = {
  stdout: (l) => process.stdout.write(`${l}\n`),
  stderr: (l) => process.stderr.write(`${l}\n`),
};

/**
 * A service's `keygen` subcommand: `keygen <flag> <name> [--out FILE]`. With `--out`, writes the
 * secret signer key to FILE (mode 0600, refusing to overwrite an existing file: a portal's key is
 * never replaced by accident) and prints only the verifier key. Without it, prints the signer key on
 * the first line and the verifier key on the second. Exit 0, or 2 for bad usage.
 *
 * @param flags the accepted name flags (the first is the one the usage line shows), e.g. `--origin`
 */
export function runKeygen(
  args: readonly string[],
  options: { readonly flags: readonly [string, ...string[]]; readonly type: KeyType },
  io: KeygenIo = defaultIo,
): number {
  const [flag] = options.flags;
  const what = flag.replace(/^--/, '');
  const usage = `usage: main.js keygen ${flag} <${what}> [--out <file>]`;
  let name: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = args[i + 1];
    if (options.flags.includes(arg) && value !== undefined) {
      name = value;
      i++;
    } else if (arg === '--out' && value !== undefined) {
      out = value;
      i++;
    } else {
      io.stderr(`keygen: unexpected argument ${JSON.stringify(arg)}; ${usage}`);
      return 2;
    }
  }
  if (name === undefined) {
    io.stderr(`keygen: ${flag} is required; ${usage}`);
    return 2;
  }
  let key: { signerKey: string; verifierKey: string };
  try {
    key = generateSignerKey(name, options.type);
  } catch (error) {
    if (!isLogError(error)) throw error;
    io.stderr(`keygen: bad ${what} ${JSON.stringify(name)}: ${error.message}`);
    return 2;
  }
  if (out === undefined) {
    io.stdout(key.signerKey);
    io.stdout(key.verifierKey);
    return 0;
  }
  try {
    writeFileSync(out, `${key.signerKey}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    io.stderr(`keygen: cannot create ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 2;
  }
  io.stdout(key.verifierKey);
  return 0;
}
