import { RetryLoop } from './retry-loop';

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('not within the deadline');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('RetryLoop', () => {
  it('runs rounds back to back while there is more, pauses when idle, and stops between rounds', async () => {
    let rounds = 0;
    let more = 3;
    const loop = new RetryLoop({
      pollMs: 60_000,
      retryMaxMs: 1_000,
      step: () => {
        rounds++;
        return Promise.resolve(more-- > 0);
      },
    });
    loop.start();
    // Three rounds with more work, then one that found nothing: the loop now waits pollMs.
    await until(() => rounds === 4);
    await new Promise((r) => setTimeout(r, 50));
    expect(rounds).toBe(4);
    const started = Date.now();
    await loop.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(loop.lastError).toBeUndefined();
  });

  it('backs off exponentially after failures, reports the last error, and clears it on success', async () => {
    const waits: number[] = [];
    const errors: Array<string | undefined> = [];
    const health: string[] = [];
    let failures = 3;
    const loop = new RetryLoop({
      pollMs: 60_000,
      retryMinMs: 10,
      retryMaxMs: 25,
      step: () => {
        errors.push(loop.lastError);
        void loop.healthCheck().then(
          () => health.push('up'),
          (error: Error) => health.push(error.message),
        );
        return failures-- > 0 ? Promise.reject(new Error('broker down')) : Promise.resolve(false);
      },
      onFailure: (_error, retryMs) => {
        waits.push(retryMs);
      },
    });
    loop.start();
    await until(() => errors.length === 4 && loop.lastError === undefined);
    expect(waits).toEqual([10, 20, 25]);
    expect(errors).toEqual([undefined, 'broker down', 'broker down', 'broker down']);
    expect(health).toEqual(['up', 'broker down', 'broker down', 'broker down']);
    await expect(loop.healthCheck()).resolves.toBeUndefined();
    await loop.stop();
  });
});
