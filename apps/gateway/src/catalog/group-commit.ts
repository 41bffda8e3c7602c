import { Histogram, type Counter } from 'prom-client';
import type { DataSource } from 'typeorm';
import {
  commitCatalogChanges,
  isNonceConflict,
  peekCatalogAccounts,
  type CatalogChange,
  type CatalogGroupOutcome,
  type CatalogPeek,
  type CatalogPeekPair,
} from '@cryptomesh/persistence';
import type { MetricsService } from '@cryptomesh/service';
import { GroupBatcher } from './group-batcher';

/** One fast-path change's own outcome in its group (docs/design/gateway.md "Group commit"). */
export type GroupOutcome = CatalogGroupOutcome | { readonly outcome: 'replayed' };

/** How a failed group write is handled: without the replayed changes, again, or not at all. */
export type GroupFailure = 'nonce' | 'retry' | 'fail';

/** The database side of `writeGroup`, injected so that its logic is tested without one. */
export interface GroupWriter<C> {
  /** Writes the changes atomically (all or nothing) and commits; as `commitCatalogChanges`. */
  write(changes: readonly C[]): Promise<readonly CatalogGroupOutcome[]>;
  /** For each change, whether its nonce is recorded now (after a write failed on a recorded nonce). */
  recorded(changes: readonly C[]): Promise<readonly boolean[]>;
  classify(error: unknown): GroupFailure;
  /** Told each time the group (what is left of it) is written again after `error`. */
  rewritten?(error: unknown, failure: Exclude<GroupFailure, 'fail'>): void;
}

/**
 * Writes a group of changes, each with its own outcome. A change whose nonce another transaction
 * recorded first (a concurrent replay) fails the whole statement, so nothing was written: it is
 * answered `replayed` and the others are written again without it. A deadlock with another process's
 * group is retried as is. `maxAttempts` bounds the attempts that made no progress; beyond it, and on
 * any other error, rejects: NOTHING of the remaining changes was written, each one's request fails.
 */
export async function writeGroup<C>(
  changes: readonly C[],
  writer: GroupWriter<C>,
  maxAttempts = 3,
): Promise<GroupOutcome[]> {
  const outcomes: GroupOutcome[] = new Array<GroupOutcome>(changes.length);
  let remaining = changes.map((_, i) => i);
  let failures = 0;
  while (remaining.length > 0) {
    const batch = remaining.map((i) => changes[i]!);
    try {
      const written = await writer.write(batch);
      remaining.forEach((i, k) => (outcomes[i] = written[k]!));
      return outcomes;
    } catch (error) {
      const failure = writer.classify(error);
      if (failure === 'fail') throw error;
      let progress = false;
      if (failure === 'nonce') {
        const recorded = await writer.recorded(batch);
        remaining = remaining.filter((i, k) => {
          if (recorded[k] !== true) return true;
          outcomes[i] = { outcome: 'replayed' };
          progress = true;
          return false;
        });
      }
      if (!progress && ++failures >= maxAttempts) throw error;
      if (remaining.length > 0) writer.rewritten?.(error, failure);
    }
  }
  return outcomes;
}

/** SQLSTATEs of a group that lost to another transaction and may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);

function sqlState(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  return e.code ?? e.driverError?.code;
}

/** Why a group was written again (`gateway_group_rewrites_total{reason}`). */
export type RewriteReason = 'replay' | 'deadlock' | 'serialization';

/**
 * `writeGroup`'s database side for the catalog: `commitCatalogChanges`, the nonces' peek after a
 * conflict, the SQLSTATEs that are retried, and each rewrite's reason told to `rewritten`.
 */
export function catalogGroupWriter(
  dataSource: DataSource,
  rewritten: (reason: RewriteReason) => void = () => undefined,
): GroupWriter<CatalogChange> {
  return {
    write: (changes) => commitCatalogChanges(dataSource.manager, changes),
    recorded: async (changes) =>
      (
        await peekCatalogAccounts(
          dataSource.manager,
          changes.map((c) => ({ accountUdf: c.account.accountUdf, nonce: c.nonce })),
        )
      ).map((p) => p.replayed),
    classify: (error) => {
      if (isNonceConflict(error)) return 'nonce';
      return RETRYABLE.has(sqlState(error) as string) ? 'retry' : 'fail';
    },
    rewritten: (error, failure) =>
      rewritten(failure === 'nonce' ? 'replay' : sqlState(error) === '40P01' ? 'deadlock' : 'serialization'),
  };
}

export interface GroupCommitOptions {
  /** The most changes (and peeks) in one statement. 1: no grouping. */
  readonly maxBatch: number;
  /** How long an idle batcher waits for more before it flushes (0: the end of the event loop's turn). */
  readonly windowMs: number;
  /** Statements of each kind in flight at once. */
  readonly maxInFlight: number;
  /** The heaviest account (its objects as stored) whose rows a peek carries; heavier ones are read apart. */
  readonly maxRowBytes: number;
}

/**
 * The fast path's two round trips, each shared by the requests that arrive together (issue #17):
 * the peeks go to the database as one statement (`peekCatalogAccounts`), the validated changes as
 * one statement that is its own transaction (`commitCatalogChanges`). Each promise settles only
 * after the statement carrying it: a `commit` resolves `committed` only once its group is
 * COMMITTED (acknowledged ⇒ durable).
 */
export class GroupCommit {
  private readonly peeks: GroupBatcher<CatalogPeekPair, CatalogPeek>;
  private readonly commits: GroupBatcher<CatalogChange, GroupOutcome>;

  constructor(dataSource: DataSource, options: GroupCommitOptions, metrics: MetricsService) {
    const sizes = histogram(metrics);
    const flushes = metrics.counter(
      'gateway_group_flushes_total',
      'Statements of the fast path carrying a group, by kind (peek, commit) and result (ok, error)',
      ['kind', 'result'],
    );
    const rewrites = metrics.counter(
      'gateway_group_rewrites_total',
      'Group statements written again, by reason: replay (a nonce conflict: written again without ' +
        'the changes whose nonce is now recorded), deadlock or serialization (lost to another ' +
        "transaction, often another process's group: written again as is)",
      ['reason'],
    );
    const writer = catalogGroupWriter(dataSource, (reason) => rewrites.inc({ reason }));
    this.peeks = new GroupBatcher(
      counted(flushes, 'peek', (pairs) =>
        peekCatalogAccounts(dataSource.manager, pairs, { rows: true, maxRowBytes: options.maxRowBytes }),
      ),
      (pair) => `${pair.accountUdf}\n${pair.nonce}\n${pair.kept ?? ''}`,
      options,
      (size) => sizes.observe({ kind: 'peek' }, size),
    );
    this.commits = new GroupBatcher(
      counted(flushes, 'commit', (changes) => writeGroup(changes, writer)),
      // One change per account in a group (the account queue already runs one at a time).
      (change) => change.account.accountUdf,
      options,
      (size) => sizes.observe({ kind: 'commit' }, size),
    );
  }

  /**
   * The account's current revision and whether the nonce was recorded for it; and, when the
   * account is not at the revision `kept` (or nothing is kept), its row and objects.
   */
  peek(accountUdf: string, nonce: string, kept: string | undefined): Promise<CatalogPeek> {
    return this.peeks.submit(kept === undefined ? { accountUdf, nonce } : { accountUdf, nonce, kept });
  }

  /**
   * Writes the change in the next group: `committed` (durable), `stale` (nothing written: the account
   * moved since it was validated) or `replayed` (nothing written: its nonce was recorded first by
   * another request). Rejects when its group's statement failed: nothing of it was written.
   */
  commit(change: CatalogChange): Promise<GroupOutcome> {
    return this.commits.submit(change);
  }
}

function counted<T, R>(
  flushes: Counter<'kind' | 'result'>,
  kind: string,
  flush: (items: readonly T[]) => Promise<readonly R[]>,
): (items: readonly T[]) => Promise<readonly R[]> {
  return async (items) => {
    try {
      const answers = await flush(items);
      flushes.inc({ kind, result: 'ok' });
      return answers;
    } catch (error) {
      flushes.inc({ kind, result: 'error' });
      throw error;
    }
  };
}

function histogram(metrics: MetricsService): Histogram<'kind'> {
  const name = 'gateway_group_size';
  const existing = metrics.registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Histogram<'kind'>;
  return new Histogram({
    name,
    help: 'Requests carried by one statement of the fast path, by kind (peek, commit)',
    labelNames: ['kind'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [metrics.registry],
  });
}
