import { countCosigners, type Ed25519, type VerifierKey } from '@cryptomesh/log';
import { cosignedCheckpoint, witnessKeysFor } from './cosigned-checkpoint';
import type { FederationPeer, FederationPortal, FederationReader } from './federation-reader';
import type { CosignedSeal, LogHead, LogHeadsLoader, LogHeadsSnapshot } from './log-heads';
import type { MirrorLogs, PublishedLog } from './published-log';
import { SELF } from './query-params';

/** Cosigned parts examined per round trip while looking for a seal that meets the quorum. */
export const COSIGNED_PAGE = 16;

/** Verdicts kept by checkpoint text (a text and a key list give one count forever). */
const MAX_REMEMBERED_COUNTS = 1024;

/** Parts at the top of a log (and above its floor) searched for a quorum candidate at each read. */
export const HEADS_SEARCH_WINDOW = 256;

/** How often each log's candidate is searched all the way down to its floor. */
export const HEADS_FULL_SEARCH_MS = 300_000;

export interface LogHeadsSources {
  readonly own: PublishedLog;
  readonly mirrors: MirrorLogs;
  readonly federation: FederationReader;
  readonly ed25519: Ed25519;
}

export interface LogHeadsSearchOptions {
  /** HEADS_SEARCH_WINDOW by default. */
  readonly window?: number;
  /** HEADS_FULL_SEARCH_MS by default. */
  readonly fullSearchMs?: number;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
}

/** What the loader remembers of one subject's search between reads. */
interface SearchMemory {
  /** The quorum and witness keys that `floor` was verified with. */
  readonly verdictsId: string;
  /** The newest part verified to meet the quorum: no newer candidate is below it. */
  floor?: number;
  /** When the last read that searched the whole log above `floor` started. */
  fullAt?: number;
}

/**
 * The `LogHeadsLoader` over the stores: the roster, every log's latest seal with the stored
 * cosignatures over it and, with a quorum, the latest seal that meets it (federation.md "Query":
 * cosignatures counted only if they verify with the witness keys of the roster, as a client would).
 * One statement (`FederationReader.heads`) reads the roster, the latest seals and each log's newest
 * part with enough cosignature rows; only when that part's rows do not verify to the quorum does the
 * search page on below it. The verdict of `countCosigners` is kept per checkpoint text and key
 * list, so a refresh that finds nothing new verifies nothing.
 *
 * The search is bounded (query.md "Log heads"): a log's newest part verified to meet the quorum is
 * remembered as its floor, and a read searches only the `window` parts at the top of the log and the
 * `window` parts from the floor up, the whole log above the floor once every `fullSearchMs` (and at
 * the first read, and again at once in a refresh that finds the quorum or the witness keys changed).
 * The fallback pages only within what was searched. A log whose cosigners stopped short of the
 * quorum costs two windows a read, not its whole history; a quorum reached late on a part between
 * the two windows is served from the next full search.
 */
export function logHeadsLoader(
  sources: LogHeadsSources,
  options: LogHeadsSearchOptions = {},
): LogHeadsLoader {
  const window = options.window ?? HEADS_SEARCH_WINDOW;
  const fullSearchMs = options.fullSearchMs ?? HEADS_FULL_SEARCH_MS;
  const now = options.now ?? (() => performance.now());
  const memory = new Map<string, SearchMemory>();
  const counts = new Map<string, number>();
  const count = (checkpoint: string, keys: readonly VerifierKey[], keysId: string): number => {
    const key = `${keysId}\n${checkpoint}`;
    let n = counts.get(key);
    if (n === undefined) {
      n = countCosigners(checkpoint, keys, sources.ed25519);
      if (counts.size >= MAX_REMEMBERED_COUNTS) counts.clear();
      counts.set(key, n);
    }
    return n;
  };
  return async (): Promise<LogHeadsSnapshot> => {
    const read = await readHeads();
    if (read.forgotten === 0) return read.snapshot;
    // A floor was verified against another quorum or other witness keys, so this read's search
    // above it may have missed the seal to serve: searched again at once, the whole log.
    return (await readHeads()).snapshot;
  };

  async function readHeads(): Promise<{ snapshot: LogHeadsSnapshot; forgotten: number }> {
    const { federation } = sources;
    const startedAt = now();
    const subjects = new Map<string, { floor?: number; full: boolean }>();
    for (const [subject, m] of memory)
      subjects.set(subject, {
        ...(m.floor === undefined ? {} : { floor: m.floor }),
        full: m.fullAt === undefined || startedAt - m.fullAt >= fullSearchMs,
      });
    // The roster and every log's latest seal, its cosignatures and the newest candidate for the
    // quorum in one statement: a checkpoint request waits for this read when the heads are stale.
    const stored = await federation.heads({ window, subjects });
    const { portal, peers } = stored;
    const members = membersOf(portal, peers);
    const quorum = portal?.quorum ?? 0;
    const searched = new Set<string>();
    let forgotten = 0;
    const heads = await Promise.all(
      stored.logs.map(async ({ peer, latest, candidate }): Promise<[string, LogHead]> => {
        const name = peer ?? SELF;
        const subject = peer ?? portal?.id;
        if (latest === undefined) return [name, { latest: undefined, cosigned: undefined }];
        const head = {
          seal: latest.seal,
          checkpoint: cosignedCheckpoint(latest.seal.note, latest.cosignatures),
        };
        if (quorum === 0 || subject === undefined) return [name, { latest: head, cosigned: undefined }];
        const keys = witnessKeysFor(subject, members);
        const keysId = keys.map((k) => k.text).join(' ');
        const meets = (c: CosignedSeal) => count(c.checkpoint, keys, keysId) >= quorum;
        searched.add(subject);
        const bounds = subjects.get(subject) ?? { full: true };
        const found = (cosigned: CosignedSeal | undefined): [string, LogHead] => {
          if (!remember(subject, `${quorum} ${keysId}`, latest.seal.part, bounds, startedAt, cosigned))
            forgotten++;
          return [name, { latest: head, cosigned }];
        };
        if (candidate === undefined) return found(undefined);
        const first =
          candidate.part === latest.seal.part
            ? head
            : candidate.seal === undefined
              ? undefined
              : {
                  seal: candidate.seal,
                  checkpoint: cosignedCheckpoint(candidate.seal.note, candidate.cosignatures),
                };
        if (first !== undefined && meets(first)) return found(first);
        // The newest candidate's rows do not verify to the quorum (a peer stored a cosignature over
        // another seal, or a witness key changed): page on below it, a statement per step, within
        // what the statement searched (down to the floor in a full search, else the two windows).
        const log = peer === undefined ? sources.own : sources.mirrors(peer);
        const ranges = fallbackRanges(bounds, latest.seal.part, candidate.part, window);
        for (const [from, before] of ranges) {
          const older = await olderCosigned(log, subject, from, before, quorum, meets);
          if (older !== undefined) return found(older);
        }
        return found(undefined);
      }),
    );
    // A subject that left the roster, or has no quorum any more, is searched afresh if it returns.
    for (const subject of memory.keys()) if (!searched.has(subject)) memory.delete(subject);
    return { snapshot: { portal, peers, quorum, heads: new Map(heads) }, forgotten };
  }

  /**
   * What a read that started at `startedAt` with `bounds` teaches about `subject`'s next search.
   * False when it forgot the subject's floor (this read's search was bounded by a stale one).
   */
  function remember(
    subject: string,
    verdictsId: string,
    latestPart: number,
    bounds: { readonly floor?: number; readonly full: boolean },
    startedAt: number,
    cosigned: CosignedSeal | undefined,
  ): boolean {
    let m = memory.get(subject);
    if (m !== undefined && (m.verdictsId !== verdictsId || (m.floor ?? -1) > latestPart)) {
      // Its floor was verified with another quorum or other keys, or is beyond a log that moved
      // back (a mirror reset): forgotten. Unless this read searched the whole log from part 0
      // anyway, its result may miss the seal to serve, and the log is searched again, whole.
      if (!bounds.full || bounds.floor !== undefined) {
        memory.set(subject, { verdictsId });
        return false;
      }
      m = undefined;
    }
    m ??= { verdictsId };
    if (bounds.full) m.fullAt = startedAt;
    if (cosigned !== undefined && cosigned.seal.part >= (m.floor ?? -1)) m.floor = cosigned.seal.part;
    memory.set(subject, m);
    return true;
  }

  /**
   * The newest part in [from, before) whose checkpoint meets the quorum, a page of candidates at a
   * time.
   */
  async function olderCosigned(
    log: PublishedLog,
    subject: string,
    from: number,
    before: number,
    quorum: number,
    meets: (c: CosignedSeal) => boolean,
  ): Promise<CosignedSeal | undefined> {
    const { federation } = sources;
    for (;;) {
      const parts = await federation.cosignedParts(subject, from, quorum, COSIGNED_PAGE, before);
      for (const part of parts) {
        const seal = await log.sealOfPart(part);
        if (seal === undefined) continue;
        const candidate = {
          seal,
          checkpoint: cosignedCheckpoint(seal.note, await federation.cosignatures(subject, part)),
        };
        if (meets(candidate)) return candidate;
      }
      if (parts.length < COSIGNED_PAGE) return undefined;
      before = parts[parts.length - 1]!;
    }
  }
}

/**
 * Where the fallback pages below a candidate `candidate` that failed, as [from, before) ranges,
 * newest first: what the statement searched below it — down to the floor (or part 0) in a full
 * search; else the window at the top of the log, then the window above the floor.
 */
export function fallbackRanges(
  bounds: { readonly floor?: number; readonly full: boolean },
  latest: number,
  candidate: number,
  window: number,
): Array<[number, number]> {
  const floor = bounds.floor ?? 0;
  if (bounds.full) return floor < candidate ? [[floor, candidate]] : [];
  const ranges: Array<[number, number]> = [];
  const top = Math.max(floor, latest - window + 1);
  if (top < candidate) ranges.push([top, candidate]);
  if (bounds.floor !== undefined) {
    const before = Math.min(candidate, bounds.floor + window, top);
    if (bounds.floor < before) ranges.push([bounds.floor, before]);
  }
  return ranges;
}

export type Member = { readonly id: string; readonly witnessKey: string | null };

export function membersOf(portal: FederationPortal | undefined, peers: readonly FederationPeer[]): Member[] {
  return [...(portal === undefined ? [] : [portal]), ...peers];
}
