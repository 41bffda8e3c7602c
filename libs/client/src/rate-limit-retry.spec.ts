import type { FetchLike } from './portal-http';
import { abortableSleep, MAX_RETRIES, retryRateLimited } from './rate-limit-retry';

function scripted(...answers: Array<[number, Record<string, string>?]>) {
  const bodies: string[] = [];
  const fetchImpl: FetchLike = (_url, init) => {
    bodies.push(typeof init?.body === 'string' ? init.body : '');
    const [status, headers] = answers.shift() ?? [200];
    return Promise.resolve(new Response(`answer ${status}`, { status, headers: headers ?? {} }));
  };
  return { fetchImpl, bodies };
}

describe('retryRateLimited', () => {
  const waits: number[] = [];
  const progress: string[] = [];
  const options = {
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
    progress: (line: string) => progress.push(line),
  };
  beforeEach(() => {
    waits.length = 0;
    progress.length = 0;
  });

  it('waits as Retry-After asks and sends the same request again', async () => {
    const portal = scripted([429, { 'retry-after': '2' }], [429, { 'retry-after': '1' }], [200]);
    const response = await retryRateLimited(portal.fetchImpl, options)('https://p/', {
      method: 'POST',
      body: 'x',
    });
    expect(response.status).toBe(200);
    expect(portal.bodies).toEqual(['x', 'x', 'x']);
    expect(waits).toEqual([2000, 1000]);
    expect(progress).toEqual([
      'the portal asks to wait 2 s (rate limited) …',
      'the portal asks to wait 1 s (rate limited) …',
    ]);
  });

  it.each([
    ['no Retry-After', {}],
    ['a Retry-After longer than 30 s', { 'retry-after': '31' }],
    ['an HTTP-date Retry-After', { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }],
  ])('returns the 429 as it is with %s', async (_what, headers) => {
    const portal = scripted([429, headers]);
    const response = await retryRateLimited(portal.fetchImpl, options)('https://p/');
    expect(response.status).toBe(429);
    expect(await response.text()).toBe('answer 429');
    expect(waits).toEqual([]);
  });

  it(`gives up after ${MAX_RETRIES} retries and returns the last 429`, async () => {
    const portal = scripted(
      ...Array.from({ length: 20 }, () => [429, { 'retry-after': '1' }] as [number, Record<string, string>]),
    );
    const response = await retryRateLimited(portal.fetchImpl, options)('https://p/');
    expect(response.status).toBe(429);
    expect(portal.bodies).toHaveLength(MAX_RETRIES + 1);
  });

  it('leaves every other status alone', async () => {
    const portal = scripted([503, { 'retry-after': '1' }]);
    expect((await retryRateLimited(portal.fetchImpl, options)('https://p/')).status).toBe(503);
    expect(portal.bodies).toHaveLength(1);
  });
});

describe('abortableSleep', () => {
  it('resolves after the time, and rejects with the reason when the signal aborts first', async () => {
    await expect(abortableSleep(1)).resolves.toBeUndefined();
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort(new Error('timed out'));
    await expect(sleeping).rejects.toThrow('timed out');
    await expect(abortableSleep(1, controller.signal)).rejects.toThrow('timed out');
  });
});
