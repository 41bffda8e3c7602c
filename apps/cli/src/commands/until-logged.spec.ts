import { ClientError } from '@cryptomesh/client';
import { untilLogged } from './profile.command';

/**
 * `mesh profile show --verify` right after a write: what passes with time is asked again until the
 * log holds the profile, proven — not sealed yet, sealed but not cosigned yet (found by tls.spec),
 * the left log's value after a portal switch — and anything else fails at once.
 */
describe('untilLogged', () => {
  function clock() {
    let now = 0;
    const progress: string[] = [];
    return {
      context: {
        now: () => now,
        sleep: (ms: number) => {
          now += ms;
          return Promise.resolve();
        },
        progress: (line: string) => progress.push(line),
      },
      progress,
      elapsed: () => now,
    };
  }

  it.each([
    [
      'not sealed yet',
      () => new ClientError('portal.refused', 'no such profile', { evidence: { code: 'profile.not-found' } }),
    ],
    [
      'sealed, not cosigned yet',
      () => new ClientError('verify.quorum', '0 valid peer cosignatures, 1 are required'),
    ],
    ['only the left log after a switch', () => new ClientError('verify.stale', 'an older value')],
  ])('asks again while %s, then answers', async (_what, error) => {
    const c = clock();
    let calls = 0;
    const answer = await untilLogged(c.context as never, () => {
      calls += 1;
      return calls < 4 ? Promise.reject(error()) : Promise.resolve('proven');
    });
    expect(answer).toBe('proven');
    expect(calls).toBe(4);
    expect(c.progress).toEqual(['waiting for the log to include the profile …']);
  });

  it('gives up at the deadline with the last error', async () => {
    const c = clock();
    await expect(
      untilLogged(c.context as never, () =>
        Promise.reject(new ClientError('verify.quorum', 'never cosigned')),
      ),
    ).rejects.toMatchObject({ code: 'verify.quorum' });
    expect(c.elapsed()).toBeGreaterThanOrEqual(15_000);
  });

  it('fails at once on anything else (a bad signature is not a matter of time)', async () => {
    const c = clock();
    let calls = 0;
    await expect(
      untilLogged(c.context as never, () => {
        calls += 1;
        return Promise.reject(new ClientError('verify.checkpoint-signature', 'forged'));
      }),
    ).rejects.toMatchObject({ code: 'verify.checkpoint-signature' });
    expect(calls).toBe(1);
  });
});
