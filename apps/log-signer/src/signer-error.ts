/**
 * Why the log-signer stopped (STYLE.md §6). All of these are fatal: retrying cannot help, and
 * signing anything more could extend a log that is not the one the database says was published.
 * The signer then gives up its leadership and reports not-ready until an operator intervenes.
 * Everything else (a lost connection, a failed commit) is retried after re-reading the database.
 */
export type SignerErrorCode =
  /** The stored last seal is not signed by the configured log key, or carries another origin. */
  | 'signer.key-mismatch'
  /** Stored entries, tree nodes and the last seal disagree (e.g. the tree root is not the seal's). */
  | 'signer.state';

export class SignerError extends Error {
  readonly fatal = true;

  constructor(
    readonly code: SignerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignerError';
  }
}

export function isSignerError(error: unknown): error is SignerError {
  return error instanceof SignerError;
}
