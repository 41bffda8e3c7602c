import { SerialTicker } from './serial-ticker';

describe('SerialTicker', () => {
  it('never runs two rounds at once: ticks during a round are skipped and counted', async () => {
    let active = 0;
    let most = 0;
    let rounds = 0;
    let release: () => void = () => undefined;
    const ticker = new SerialTicker(async () => {
      active++;
      most = Math.max(most, active);
      rounds++;
      await new Promise<void>((resolve) => (release = resolve));
      active--;
    });
    ticker.tick();
    ticker.tick();
    ticker.tick();
    expect({ rounds, skipped: ticker.skipped }).toEqual({ rounds: 1, skipped: 2 });
    release();
    await new Promise((r) => setImmediate(r));
    ticker.tick();
    expect(rounds).toBe(2);
    release();
    await ticker.stop();
    expect(most).toBe(1);
  });

  it('passes a failed round to onError and goes on with the next tick', async () => {
    const errors: unknown[] = [];
    let rounds = 0;
    const ticker = new SerialTicker(
      () => {
        rounds++;
        return Promise.reject(new Error(`round ${rounds}`));
      },
      (error) => errors.push(error),
    );
    ticker.tick();
    await new Promise((r) => setImmediate(r));
    ticker.tick();
    await ticker.stop();
    expect(rounds).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['round 1', 'round 2']);
  });

  it('stop() waits for the running round and no tick starts one afterwards', async () => {
    let finished = false;
    let rounds = 0;
    const ticker = new SerialTicker(async () => {
      rounds++;
      await new Promise((r) => setTimeout(r, 20));
      finished = true;
    });
    ticker.start(1);
    while (rounds === 0) await new Promise((r) => setTimeout(r, 1));
    await ticker.stop();
    expect(finished).toBe(true);
    ticker.tick();
    expect(rounds).toBe(1);
  });
});
