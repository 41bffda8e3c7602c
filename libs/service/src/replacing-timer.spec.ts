import { ReplacingTimer } from './replacing-timer';

describe('ReplacingTimer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('a later set replaces the earlier: only its call runs, at its own time', () => {
    const timer = new ReplacingTimer();
    const calls: string[] = [];
    timer.set(1_000, () => calls.push('first'));
    jest.advanceTimersByTime(500);
    timer.set(2_000, () => calls.push('second'));
    jest.advanceTimersByTime(600); // past the first's time: it must not run
    expect(calls).toEqual([]);
    expect(timer.pending).toBe(true);
    jest.advanceTimersByTime(1_400);
    expect(calls).toEqual(['second']);
    expect(timer.pending).toBe(false);
  });

  it('clear cancels the pending call', () => {
    const timer = new ReplacingTimer();
    const call = jest.fn();
    timer.set(10, call);
    timer.clear();
    jest.advanceTimersByTime(100);
    expect(call).not.toHaveBeenCalled();
    expect(timer.pending).toBe(false);
  });
});
