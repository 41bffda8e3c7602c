import { LogGate } from './log-gate';

describe('LogGate', () => {
  it('lets one message per key through per interval and counts the ones it held back', () => {
    let now = 1_000;
    const gate = new LogGate(60_000, () => now);
    expect(gate.pass('alpha')).toBe(0);
    now += 1_000;
    expect(gate.pass('alpha')).toBeUndefined();
    expect(gate.pass('alpha')).toBeUndefined();
    // Another key has its own window.
    expect(gate.pass('beta')).toBe(0);
    now += 59_000;
    expect(gate.pass('alpha')).toBe(2);
    expect(gate.pass('alpha')).toBeUndefined();
  });

  it('lets the next message through at once after clear', () => {
    const gate = new LogGate(60_000, () => 5);
    expect(gate.pass('alpha')).toBe(0);
    expect(gate.pass('alpha')).toBeUndefined();
    gate.clear('alpha');
    expect(gate.pass('alpha')).toBe(0);
  });
});
