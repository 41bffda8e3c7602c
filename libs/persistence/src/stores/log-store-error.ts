/**
 * Codes of the log stores' refusals. Every one means the write did not happen (its transaction
 * rolled back); none is retryable as such, except that a signer which lost its connection
 * (`leader.lost`) MAY lead again after re-reading the database.
 */
export type LogStoreErrorCode =
  /** A seal for this part index is already stored (DESIGN.md invariant 2). */
  | 'seal.conflict'
  /** The part does not start where the previous part ended, or skips a part index. */
  | 'seal.gap'
  /** A stored value does not fit a JavaScript safe integer or is otherwise impossible. */
  | 'store.corrupt'
  /**
   * The profile index does not end where a batch starts (log_profile_index_state): the caller's
   * view is stale. Retryable after re-reading the database (the log-signer re-leads and backfills).
   */
  | 'index.out-of-step'
  /**
   * The log-signer's account states do not end where a batch starts (log_account_states_state):
   * retryable after re-reading the database, like `index.out-of-step`.
   */
  | 'rules.out-of-step'
  /** The leader's database session ended: the leadership lock is gone with it. */
  | 'leader.lost'
  /**
   * A mirror write that does not follow the stored head of that peer (or moves its progress back):
   * the caller's view is stale. Retryable after re-reading the mirror head.
   */
  | 'mirror.out-of-step';

export class LogStoreError extends Error {
  constructor(
    readonly code: LogStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LogStoreError';
  }
}
