import type { FederationPeer, FederationPortal } from './federation-reader';
import type { PublishedSeal } from './published-log';

/** A seal and its checkpoint text (the note with the stored cosignatures over it). */
export interface CosignedSeal {
  readonly seal: PublishedSeal;
  readonly checkpoint: string;
}

/** What the query service keeps of one log between two reads of the database (query.md "Log heads"). */
export interface LogHead {
  /** The latest seal and its checkpoint; undefined before the first seal. */
  readonly latest: CosignedSeal | undefined;
  /**
   * The latest seal, at or below `latest`, whose checkpoint carries at least `quorum` cosignatures
   * that verify with the log's witness keys; undefined with quorum 0, or when no seal has them.
   */
  readonly cosigned: CosignedSeal | undefined;
}

/** The heads of every log the portal serves, with the roster they were read with. */
export interface LogHeadsSnapshot {
  readonly portal: FederationPortal | undefined;
  /** Every peer of the roster, configured or not, by id. */
  readonly peers: readonly FederationPeer[];
  /** `federation_portal.quorum`; 0 without the row. */
  readonly quorum: number;
  /** By log name: `self` and each peer id of `peers`. */
  readonly heads: ReadonlyMap<string, LogHead>;
}

/** Reads a snapshot from the database; each read MUST see every commit made before it started. */
export type LogHeadsLoader = () => Promise<LogHeadsSnapshot>;

/** What happened to one refresh, for the metrics. */
export type RefreshOutcome = 'advanced' | 'unchanged' | 'failed';

/**
 * The latest checkpoint of every log, its cosignatures, the roster and the witness keys, kept in
 * memory (issue #17; docs/design/query.md "Log heads"), so that a checkpoint costs no statement and a
 * profile answer two. Refresh rules:
 *
 * - **Bounded age.** An answer uses a snapshot whose read STARTED at most `maxAgeMs` before the
 *   request arrived: a seal or cosignature committed at t is in every answer to a request that
 *   arrives after t + `maxAgeMs`. A request that finds the snapshot older waits for a read that
 *   started after that point. With `maxAgeMs` 0 every answer reads the heads anew (read-through).
 * - **One read at a time.** Requests that need a fresher snapshot share the read in flight when it
 *   is fresh enough for them, else the next one; a read is started ahead, without waiting, once the
 *   snapshot is three quarters as old as the bound, so that under a steady load no request waits
 *   and the heads are read at most about once per bound (half: once per half bound, and each read
 *   was then four statements on a loaded database — 12 % of a checkpoint read's CPU, issue #17;
 *   it is one statement now, more only while a log's newest quorum candidate fails to verify).
 * - **Never backwards.** A log's head never moves to a lower part than it had, whatever a read says
 *   (a read from a lagging replica, or one that overtook another): a client that saw a checkpoint
 *   here never gets an older one from this instance. Other instances keep their own heads.
 * - A failed read fails the requests that waited for it and keeps the previous snapshot; the next
 *   request reads again.
 */
export class LogHeads {
  /** Owned by `refresh`: replaced only when a read completes. */
  private snapshot: { readonly value: LogHeadsSnapshot; readonly readAt: number } | undefined;
  /** The read in flight, if any, and when it started. */
  private inflight: { readonly startedAt: number; readonly done: Promise<void> } | undefined;

  constructor(
    private readonly load: LogHeadsLoader,
    private readonly maxAgeMs: number,
    /** Monotonic milliseconds. */
    private readonly now: () => number,
    private readonly onRefresh: (outcome: RefreshOutcome, error?: unknown) => void = () => undefined,
  ) {}

  /** The snapshot held now, whatever its age (undefined before the first read). */
  held(): LogHeadsSnapshot | undefined {
    return this.snapshot?.value;
  }

  /** A snapshot read no earlier than `maxAgeMs` before this call. */
  async current(): Promise<LogHeadsSnapshot> {
    const oldest = this.now() - this.maxAgeMs;
    for (;;) {
      const held = this.snapshot;
      if (held !== undefined && held.readAt >= oldest) {
        if (
          this.maxAgeMs > 0 &&
          this.inflight === undefined &&
          this.now() - held.readAt > (this.maxAgeMs * 3) / 4
        )
          this.refresh().catch(() => undefined); // ahead of need: failures are counted in onRefresh
        return held.value;
      }
      // A read in flight that started before `oldest` cannot serve this request: it is waited
      // out, and the loop then starts (or joins) a later one.
      await (this.inflight?.done ?? this.refresh());
    }
  }

  private refresh(): Promise<void> {
    if (this.inflight !== undefined) return this.inflight.done;
    const startedAt = this.now();
    const done = this.load().then(
      (value) => {
        const previous = this.snapshot?.value;
        const merged = previous === undefined ? value : neverBackwards(previous, value);
        // Unchanged: the same object is kept, so that what was derived from a snapshot (the
        // profile answers of ProfileService) stays valid for as long as nothing moved.
        const unchanged =
          previous !== undefined && sameHeads(previous, merged) && sameRoster(previous, merged);
        this.snapshot = { value: unchanged ? previous : merged, readAt: startedAt };
        this.inflight = undefined;
        this.onRefresh(unchanged ? 'unchanged' : 'advanced');
      },
      (error: unknown) => {
        this.inflight = undefined;
        this.onRefresh('failed', error);
        throw error;
      },
    );
    this.inflight = { startedAt, done };
    return done;
  }
}

/**
 * `next`, except that a log whose latest part in `previous` is higher keeps its previous head. The
 * roster, the quorum and `cosigned` are taken from `next` (a roster change may rightly retire a
 * cosigner, and with it a quorum), but `cosigned` never reaches beyond the head it is kept with.
 */
export function neverBackwards(previous: LogHeadsSnapshot, next: LogHeadsSnapshot): LogHeadsSnapshot {
  let heads: Map<string, LogHead> | undefined;
  for (const [name, head] of next.heads) {
    const before = previous.heads.get(name);
    if (before?.latest === undefined) continue;
    if (head.latest !== undefined && head.latest.seal.part >= before.latest.seal.part) continue;
    heads ??= new Map(next.heads);
    const cosigned = head.cosigned ?? before.cosigned;
    heads.set(name, {
      latest: before.latest,
      cosigned:
        cosigned !== undefined && cosigned.seal.part <= before.latest.seal.part ? cosigned : undefined,
    });
  }
  return heads === undefined ? next : { ...next, heads };
}

/** The same portal row and peers (ids, keys, every field): compared as JSON, a few peers at most. */
function sameRoster(a: LogHeadsSnapshot, b: LogHeadsSnapshot): boolean {
  return JSON.stringify([a.portal, a.peers]) === JSON.stringify([b.portal, b.peers]);
}

function sameHeads(a: LogHeadsSnapshot, b: LogHeadsSnapshot): boolean {
  if (a.heads.size !== b.heads.size || a.quorum !== b.quorum) return false;
  for (const [name, head] of b.heads) {
    const other = a.heads.get(name);
    if (other?.latest?.checkpoint !== head.latest?.checkpoint) return false;
    if (other?.cosigned?.checkpoint !== head.cosigned?.checkpoint) return false;
  }
  return true;
}
