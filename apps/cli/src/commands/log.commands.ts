import type { Command } from 'commander';
import type { FetchLike } from '@cryptomesh/client';
import { nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import {
  isLogError,
  parseVerifierKey,
  type Ed25519,
  type KeyType,
  type LogError,
  type VerifierKey,
} from '@cryptomesh/log';
import { CliUsageError, type CliIo } from '../cli-io';
import { registerLogVerifyCommand } from './log.command';
import { registerNoteVerifyCommand } from './note.command';
import { lazyTransport } from './transport';

/** What the log commands share: the streams, the verdict convention and the Ed25519 implementation. */
export interface LogCommandContext {
  readonly io: CliIo;
  /** The servers' default: OpenSSL through node:crypto (DESIGN.md "Cryptography"). */
  readonly ed25519: Ed25519;
  /** Reports a negative verdict: the reason on stderr, exit status 1. */
  fail(reason: LogError | string, where?: string): void;
  /** Parses a verifier key given on the command line or in a file; a malformed one is bad usage (exit 2). */
  verifierKey(text: string, type: KeyType, what: string): VerifierKey;
  /** The HTTPS transport of `--url` (`--ca`, else MESH_CA_FILE: transport.ts); `resolve()` checks it. */
  readonly fetchImpl: FetchLike & { resolve(): FetchLike };
}

/** `mesh log verify`, `mesh note verify` (issue #4). */
export function registerLogCommands(program: Command, io: CliIo, setStatus: (code: number) => void): void {
  const context: LogCommandContext = {
    io,
    ed25519: nodeEd25519,
    fetchImpl: lazyTransport(program, io),
    fail(reason, where) {
      io.stderr(
        `FAIL${where === undefined ? '' : ` ${where}`}: ${typeof reason === 'string' ? reason : reason.describe()}`,
      );
      setStatus(1);
    },
    verifierKey(text, type, what) {
      try {
        return parseVerifierKey(text.trim(), type);
      } catch (error) {
        if (isLogError(error))
          throw new CliUsageError(`${what} is not a valid verifier key: ${error.message} [${error.code}]`);
        throw error;
      }
    },
  };
  registerLogVerifyCommand(program, context);
  registerNoteVerifyCommand(program, context);
}
