import { alignHistory, windowStart } from './status-history';

const NOW = Date.UTC(2026, 10, 22, 10, 30, 42);
const minute = (m: number) => Date.UTC(2026, 10, 22, 10, m);

describe('alignHistory', () => {
  it('has one bucket per whole minute, oldest first, ending with the current minute', () => {
    const h = alignHistory(NOW, 3, [], []);
    expect(h.buckets).toEqual([minute(28), minute(29), minute(30)]);
    expect(windowStart(NOW, 60)).toBe(minute(30) - 59 * 60_000);
    expect(h.throughput).toEqual({ self: [0, 0, 0] });
    expect(h.lag).toEqual({});
  });

  it('places each log’s entries in its minute, zero elsewhere, and leaves out rows outside the window', () => {
    const h = alignHistory(
      NOW,
      3,
      [
        { log: 'self', minuteMs: minute(29), entries: 40 },
        { log: 'beta', minuteMs: minute(30), entries: 7 },
        { log: 'beta', minuteMs: minute(20), entries: 999 },
        { log: 'beta', minuteMs: minute(31), entries: 999 },
      ],
      [
        { peer: 'beta', minuteMs: minute(28), meanSeconds: 0.4, maxSeconds: 1.5 },
        { peer: 'beta', minuteMs: minute(10), meanSeconds: 9, maxSeconds: 9 },
      ],
    );
    expect(h.throughput).toEqual({ self: [0, 40, 0], beta: [0, 0, 7] });
    expect(h.lag).toEqual({ beta: { mean: [0.4, null, null], max: [1.5, null, null] } });
  });
});
