import type { EntityManager } from 'typeorm';

/** The log queue as one sample: what the gateway's pushback and the status page judge. */
export interface LogBacklog {
  /** Entries queued and not yet sequenced. */
  readonly depth: number;
  /** How long the oldest of them has waited, by the database's clock; null when the queue is empty. */
  readonly oldestQueuedMs: number | null;
}

export interface LogBacklogLimits {
  /** Refuse beyond this many queued entries; 0: no limit. */
  readonly PUSHBACK_QUEUE_DEPTH: number;
  /** Refuse while the oldest queued entry is older than this; 0: no limit. */
  readonly PUSHBACK_QUEUE_AGE_MS: number;
}

/**
 * Reads the queue in one statement. The depth is an exact count: the queue is short in normal
 * operation (one seal interval of entries), and a long one is what this sample exists to notice.
 */
export async function readLogBacklog(manager: EntityManager): Promise<LogBacklog> {
  const rows = await manager.query<Array<{ depth: string; oldest_ms: number | null }>>(
    `SELECT count(*) AS depth,
            extract(epoch FROM clock_timestamp() - min(queued_at))::float8 * 1000 AS oldest_ms
       FROM log_queue`,
  );
  const row = rows[0]!;
  return {
    depth: Number(row.depth),
    oldestQueuedMs: row.oldest_ms === null ? null : Math.max(0, row.oldest_ms),
  };
}

/**
 * Why a portal should stop queueing (tessera's pushback), or undefined while it may go on: the
 * queue is deeper than its bound, or its oldest entry has waited longer than the log-signer ever
 * should (the signer is down or cannot seal). Pure.
 */
export function backlogPushback(backlog: LogBacklog, limits: LogBacklogLimits): string | undefined {
  const { PUSHBACK_QUEUE_DEPTH: depth, PUSHBACK_QUEUE_AGE_MS: age } = limits;
  if (depth > 0 && backlog.depth >= depth)
    return `the log queue holds ${backlog.depth} entries (bound ${depth}): the log-signer is behind`;
  if (age > 0 && backlog.oldestQueuedMs !== null && backlog.oldestQueuedMs > age)
    return `the oldest queued entry has waited ${Math.round(backlog.oldestQueuedMs / 1000)} s (bound ${Math.round(age / 1000)} s): the log-signer is not sequencing`;
  return undefined;
}
