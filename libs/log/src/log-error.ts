import { escapeControls } from '@cryptomesh/crypto/text';

/**
 * Every failure the log library reports. The `code` is stable: callers branch on it, tests assert
 * on it, and the edge maps it to an HTTP status or a Mesh `Status` (STYLE.md §6). The message is
 * for humans and MAY change.
 */
export type LogErrorCode =
  // Encodings shared by every format (RFC 4648 §4 base64, RFC 8785 entries).
  | 'encoding.malformed'
  | 'entry.malformed'
  | 'entry.not-canonical'
  // C2SP signed-note and verifier keys.
  | 'key.malformed'
  | 'note.malformed'
  | 'note.unknown-key'
  | 'note.bad-signature'
  // C2SP tlog-checkpoint and the Mesh seal (DESIGN.md "The log").
  | 'checkpoint.malformed'
  | 'checkpoint.origin'
  | 'seal.malformed'
  | 'seal.bad-extension'
  // C2SP tlog-cosignature.
  | 'cosignature.malformed'
  | 'cosignature.bad-signature'
  // RFC 9162 §2.1 trees and proofs.
  | 'tree.range'
  | 'proof.invalid'
  | 'store.missing-node'
  // C2SP tlog-tiles paths and entry bundles.
  | 'tile.malformed'
  // C2SP tlog-witness add-checkpoint requests.
  | 'witness.malformed'
  | 'witness.unknown-log'
  | 'witness.unknown-key'
  | 'witness.stale'
  | 'witness.conflict'
  | 'witness.bad-proof'
  // The log verifier: what a peer checks before mirroring a part.
  | 'verify.gap'
  | 'verify.size'
  | 'verify.part-digest'
  | 'verify.inconsistent'
  | 'verify.chain'
  | 'verify.time'
  | 'verify.entry-rejected'
  | 'verify.state'
  // Log key transitions (key-transition.ts).
  | 'verify.transition'
  | 'verify.retired-key'
  // Equivocation evidence.
  | 'evidence.malformed'
  | 'evidence.invalid';

/** What a violation or a malformed input was compared against, for logs and findings. */
export interface LogErrorDetails {
  /** What the check required, rendered as text (numbers in decimal, hashes in base64). */
  readonly expected?: string;
  /** What the input carried instead. */
  readonly seen?: string;
  /** The part index the failure concerns, when it concerns one. */
  readonly part?: number;
  /** The entry index (in the whole log) the failure concerns, when it concerns one. */
  readonly entry?: number;
  readonly cause?: unknown;
}

/**
 * The one error class of `@cryptomesh/log`. Functions of this library MUST throw only `LogError`
 * for bad input or a failed check, and MAY throw `TypeError`/`RangeError` for programming errors
 * (wrong argument types). A `LogError` is never retryable except `store.missing-node`: the same
 * bytes will fail the same way again.
 */
export class LogError extends Error {
  readonly code: LogErrorCode;
  readonly expected?: string;
  readonly seen?: string;
  readonly part?: number;
  readonly entry?: number;

  constructor(code: LogErrorCode, message: string, details: LogErrorDetails = {}) {
    super(escapeControls(message), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LogError';
    this.code = code;
    // What was expected and seen are quoted into findings' evidence, which is stored and signed.
    if (details.expected !== undefined) this.expected = escapeControls(details.expected);
    if (details.seen !== undefined) this.seen = escapeControls(details.seen);
    if (details.part !== undefined) this.part = details.part;
    if (details.entry !== undefined) this.entry = details.entry;
  }

  /** True only when retrying the same operation later MAY succeed (a node not yet stored). */
  get retryable(): boolean {
    return this.code === 'store.missing-node';
  }

  /** A one-line account: the code, the message, and what was expected and seen. */
  describe(): string {
    const parts = [`${this.code}: ${this.message}`];
    if (this.expected !== undefined) parts.push(`expected ${this.expected}`);
    if (this.seen !== undefined) parts.push(`seen ${this.seen}`);
    return parts.join('; ');
  }
}

/** True when `error` is a LogError, optionally with the given code. */
export function isLogError(error: unknown, code?: LogErrorCode): error is LogError {
  return error instanceof LogError && (code === undefined || error.code === code);
}
