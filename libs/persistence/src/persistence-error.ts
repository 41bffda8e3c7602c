export type PersistenceErrorCode = 'progress.invalid' | 'progress.backwards' | 'schema.outdated';

/** A refusal by a store: the write did not happen. */
export class PersistenceError extends Error {
  constructor(
    readonly code: PersistenceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PersistenceError';
  }
}
