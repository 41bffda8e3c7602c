import { WakeableDelay } from './wakeable-delay';

describe('WakeableDelay', () => {
  it('waits the given time', async () => {
    const started = Date.now();
    await new WakeableDelay().wait(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('ends a long wait at once when woken', async () => {
    const delay = new WakeableDelay();
    const started = Date.now();
    const waiting = delay.wait(60_000);
    delay.wake();
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('does not wait for 0 ms, and a wake with no waiter is harmless', async () => {
    const delay = new WakeableDelay();
    delay.wake();
    const started = Date.now();
    await delay.wait(0);
    expect(Date.now() - started).toBeLessThan(50);
  });
});
