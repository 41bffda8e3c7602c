/**
 * The status page's history (docs/design/status-page.md "History"), as the chart draws it: one
 * bucket per whole UTC minute of the window, oldest first, ending with the current minute; every
 * series aligned on the buckets. Pure: the rows come from the store, the clock from the caller.
 */

/** The window's bounds: `GET /status/history?minutes=` (default and largest). */
export const DEFAULT_HISTORY_MINUTES = 60;
export const MAX_HISTORY_MINUTES = 24 * 60;

const MINUTE_MS = 60_000;

export interface ThroughputSample {
  readonly log: string;
  readonly minuteMs: number;
  readonly entries: number;
}

export interface LagSample {
  readonly peer: string;
  readonly minuteMs: number;
  readonly meanSeconds: number;
  readonly maxSeconds: number;
}

export interface StatusHistory {
  readonly minutes: number;
  /** Unix milliseconds of each minute's start. */
  readonly buckets: number[];
  /** Entries sealed per minute, by log (`self` and each mirrored peer); 0 for a minute with none. */
  readonly throughput: Record<string, number[]>;
  /** Seconds from a peer's seal to its mirror here, per minute; null for a minute with no part. */
  readonly lag: Record<string, { mean: (number | null)[]; max: (number | null)[] }>;
}

/** The first minute of a window of `minutes` minutes ending with the minute of `nowMs`. */
export function windowStart(nowMs: number, minutes: number): number {
  return Math.floor(nowMs / MINUTE_MS) * MINUTE_MS - (minutes - 1) * MINUTE_MS;
}

/** Aligns the store's rows on the window's buckets; rows outside the window are left out. */
export function alignHistory(
  nowMs: number,
  minutes: number,
  throughput: readonly ThroughputSample[],
  lag: readonly LagSample[],
): StatusHistory {
  const start = windowStart(nowMs, minutes);
  const buckets = Array.from({ length: minutes }, (_, i) => start + i * MINUTE_MS);
  const slot = (minuteMs: number): number | undefined => {
    const i = (minuteMs - start) / MINUTE_MS;
    return Number.isInteger(i) && i >= 0 && i < minutes ? i : undefined;
  };
  const series: Record<string, number[]> = { self: new Array<number>(minutes).fill(0) };
  for (const row of throughput) {
    const i = slot(row.minuteMs);
    if (i === undefined) continue;
    const values = (series[row.log] ??= new Array<number>(minutes).fill(0));
    values[i] = (values[i] ?? 0) + row.entries;
  }
  const lags: StatusHistory['lag'] = {};
  for (const row of lag) {
    const i = slot(row.minuteMs);
    if (i === undefined) continue;
    const peer = (lags[row.peer] ??= {
      mean: new Array<number | null>(minutes).fill(null),
      max: new Array<number | null>(minutes).fill(null),
    });
    peer.mean[i] = row.meanSeconds;
    peer.max[i] = row.maxSeconds;
  }
  return { minutes, buckets, throughput: series, lag: lags };
}
