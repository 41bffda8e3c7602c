import { batchLimit, idleDelay, sealBudget, sealReason, type SealLimits } from './seal-policy';

const limits: SealLimits = { sealIntervalMs: 1_000, heartbeatMs: 60_000, partMaxEntries: 10 };

describe('sealReason (the clock is the caller’s: sinceLastSealMs)', () => {
  it.each([
    // entries, since last seal, reason
    [0, undefined, 'heartbeat'], // a new log gets its empty part 0 at once
    [3, undefined, 'interval'],
    [0, 0, undefined],
    [0, 59_999, undefined],
    [0, 60_000, 'heartbeat'],
    [1, 999, undefined],
    [1, 1_000, 'interval'],
    [9, 10, undefined],
    [10, 0, 'full'],
    [10, 5_000, 'full'],
    [11, 0, 'full'],
  ] as const)('%i entries, %s ms since the last seal → %s', (entries, since, reason) => {
    expect(sealReason({ entries, sinceLastSealMs: since }, limits)).toBe(reason);
  });
});

describe('batchLimit', () => {
  it('never lets a part grow past PART_MAX_ENTRIES', () => {
    expect(batchLimit({ entries: 0, sinceLastSealMs: 0 }, limits, 1000)).toBe(10);
    expect(batchLimit({ entries: 7, sinceLastSealMs: 0 }, limits, 1000)).toBe(3);
    expect(batchLimit({ entries: 7, sinceLastSealMs: 0 }, limits, 2)).toBe(2);
    expect(batchLimit({ entries: 10, sinceLastSealMs: 0 }, limits, 1000)).toBe(0);
  });
});

describe('idleDelay', () => {
  it('wakes for the next due seal, polls at least every pollMs, never negative', () => {
    expect(idleDelay({ entries: 0, sinceLastSealMs: undefined }, limits, 50)).toBe(0);
    expect(idleDelay({ entries: 2, sinceLastSealMs: 980 }, limits, 50)).toBe(20);
    expect(idleDelay({ entries: 2, sinceLastSealMs: 5_000 }, limits, 50)).toBe(0);
    expect(idleDelay({ entries: 0, sinceLastSealMs: 100 }, limits, 50)).toBe(50);
    expect(idleDelay({ entries: 0, sinceLastSealMs: 59_990 }, limits, 50)).toBe(10);
  });
});

describe('the deadline: a part is cut so that its oldest entry is sealed within SEAL_INTERVAL_MS (issue #17)', () => {
  it('seals before the interval when the oldest entry would otherwise miss it, seal time counted in', () => {
    const part = { entries: 5, sinceLastSealMs: 300, sealBudgetMs: 150 };
    expect(sealReason({ ...part, oldestEntryAgeMs: 849 }, limits)).toBeUndefined();
    expect(sealReason({ ...part, oldestEntryAgeMs: 850 }, limits)).toBe('interval');
    // Without a known age, the interval since the last seal alone.
    expect(sealReason(part, limits)).toBeUndefined();
  });

  it('never makes an empty part or a heartbeat due earlier', () => {
    expect(
      sealReason({ entries: 0, sinceLastSealMs: 300, oldestEntryAgeMs: 5_000, sealBudgetMs: 150 }, limits),
    ).toBe(undefined);
  });

  it('wakes the loop at the deadline', () => {
    expect(
      idleDelay({ entries: 2, sinceLastSealMs: 100, oldestEntryAgeMs: 830, sealBudgetMs: 150 }, limits, 50),
    ).toBe(20);
    expect(
      idleDelay({ entries: 2, sinceLastSealMs: 100, oldestEntryAgeMs: 900, sealBudgetMs: 150 }, limits, 50),
    ).toBe(0);
  });

  it('keeps twice the recent sealing time, a poll and 50 ms in hand, at most half the interval', () => {
    expect(sealBudget(20, 50, 1_000)).toBe(140);
    expect(sealBudget(0, 50, 1_000)).toBe(100);
    expect(sealBudget(400, 50, 1_000)).toBe(500);
    expect(sealBudget(10, 5, 40)).toBe(20);
  });
});
