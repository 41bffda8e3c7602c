/**
 * When the log-signer closes a part (DESIGN.md "Services", "The log"): as soon as the open part holds
 * PART_MAX_ENTRIES entries; when it holds any entry and SEAL_INTERVAL_MS have passed since the last
 * seal — or sooner, once its oldest entry would otherwise not be sealed within SEAL_INTERVAL_MS of
 * being queued (the seal's own time, `sealBudgetMs`, counted in: issue #17, docs/design/log-signer.md
 * "When a part is sealed"); and, with no entry at all, when HEARTBEAT_MS have passed since the last
 * seal — an empty part that tells peers the portal is alive. A log with no seal yet is sealed at once
 * (an empty part 0 if nothing is queued), so that a new portal has a checkpoint from its first second.
 */
export type SealReason = 'full' | 'interval' | 'heartbeat';

export interface SealLimits {
  readonly sealIntervalMs: number;
  readonly heartbeatMs: number;
  readonly partMaxEntries: number;
}

export interface OpenPart {
  /** Entries sequenced since the last seal. */
  readonly entries: number;
  /** Monotonic milliseconds since the last seal; undefined when nothing was ever sealed. */
  readonly sinceLastSealMs: number | undefined;
  /** Milliseconds since the oldest entry of the open part was queued (undefined: not known). */
  readonly oldestEntryAgeMs?: number;
  /**
   * How long before its deadline an entry's part must be cut so that its seal is committed within
   * SEAL_INTERVAL_MS of the entry being queued (`sealBudget`); 0 when not known.
   */
  readonly sealBudgetMs?: number;
}

/**
 * What the budget keeps in hand beyond the sealing itself, for scheduling. 150 ms was tried
 * (2026-12-05, docs/BENCHMARKS.md): neither the signer's p99 nor the client's moved beyond the
 * spread between runs, and parts came more often; so 50.
 */
export const SEAL_MARGIN_MS = 50;

/**
 * The time to keep in hand for sealing: twice the recent seals' duration (their moving average) plus
 * one queue poll and SEAL_MARGIN_MS, never more than half the interval — so a part is cut at the
 * latest SEAL_INTERVAL_MS − budget after its oldest entry was queued, and under a steady load parts
 * are closed a little more often than every SEAL_INTERVAL_MS.
 */
export function sealBudget(recentSealMs: number, pollMs: number, sealIntervalMs: number): number {
  return Math.min(Math.floor(sealIntervalMs / 2), Math.ceil(2 * recentSealMs) + pollMs + SEAL_MARGIN_MS);
}

/** Milliseconds until the open part's oldest entry reaches its cut-off; undefined when no entry is known. */
function untilDeadline(part: OpenPart, limits: SealLimits): number | undefined {
  if (part.entries === 0 || part.oldestEntryAgeMs === undefined) return undefined;
  return limits.sealIntervalMs - (part.sealBudgetMs ?? 0) - part.oldestEntryAgeMs;
}

/** The reason to seal now, or undefined to keep the part open. Pure: the caller supplies the time. */
export function sealReason(part: OpenPart, limits: SealLimits): SealReason | undefined {
  if (part.entries >= limits.partMaxEntries) return 'full';
  const since = part.sinceLastSealMs;
  if (part.entries > 0) {
    const deadline = untilDeadline(part, limits);
    const due =
      since === undefined || since >= limits.sealIntervalMs || (deadline !== undefined && deadline <= 0);
    return due ? 'interval' : undefined;
  }
  return since === undefined || since >= limits.heartbeatMs ? 'heartbeat' : undefined;
}

/** How many queued entries the next sequencing batch may take without overfilling the open part. */
export function batchLimit(part: OpenPart, limits: SealLimits, batchSize: number): number {
  return Math.max(0, Math.min(batchSize, limits.partMaxEntries - part.entries));
}

/**
 * Milliseconds the loop may sleep before a seal falls due with no new entry: the rest of the seal
 * interval (entries waiting) or of the heartbeat (none), never more than `pollMs` (new entries
 * must be noticed) and never negative.
 */
export function idleDelay(part: OpenPart, limits: SealLimits, pollMs: number): number {
  if (part.sinceLastSealMs === undefined) return 0;
  const period = part.entries > 0 ? limits.sealIntervalMs : limits.heartbeatMs;
  const deadline = untilDeadline(part, limits) ?? Infinity;
  return Math.max(0, Math.min(pollMs, period - part.sinceLastSealMs, deadline));
}
