/**
 * When the log-signer closes a part (DESIGN.md "Services", "The log"): as soon as the open part holds
 * PART_MAX_ENTRIES entries; when it holds any entry and SEAL_INTERVAL_MS have passed since the last
 * seal; and, with no entry at all, when HEARTBEAT_MS have passed since the last seal — an empty part
 * that tells peers the portal is alive. A log with no seal yet is sealed at once (an empty part 0 if
 * nothing is queued), so that a new portal has a checkpoint from its first second.
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
}

/** The reason to seal now, or undefined to keep the part open. Pure: the caller supplies the time. */
export function sealReason(part: OpenPart, limits: SealLimits): SealReason | undefined {
  if (part.entries >= limits.partMaxEntries) return 'full';
  const since = part.sinceLastSealMs;
  if (part.entries > 0) return since === undefined || since >= limits.sealIntervalMs ? 'interval' : undefined;
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
  return Math.max(0, Math.min(pollMs, period - part.sinceLastSealMs));
}
