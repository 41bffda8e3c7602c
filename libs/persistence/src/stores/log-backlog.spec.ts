import { backlogPushback } from './log-backlog';

describe('backlogPushback', () => {
  const limits = { PUSHBACK_QUEUE_DEPTH: 100, PUSHBACK_QUEUE_AGE_MS: 30_000 };

  it.each([
    [{ depth: 0, oldestQueuedMs: null }, undefined],
    [{ depth: 99, oldestQueuedMs: 29_999 }, undefined],
    [{ depth: 100, oldestQueuedMs: 10 }, /holds 100 entries \(bound 100\)/],
    [{ depth: 1, oldestQueuedMs: 30_001 }, /waited 30 s \(bound 30 s\)/],
  ])('%j → %s', (backlog, expected) => {
    const reason = backlogPushback(backlog, limits);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });

  it('never pushes back on a bound set to 0', () => {
    const off = { PUSHBACK_QUEUE_DEPTH: 0, PUSHBACK_QUEUE_AGE_MS: 0 };
    expect(backlogPushback({ depth: 1e9, oldestQueuedMs: 1e9 }, off)).toBeUndefined();
  });
});
