import { fakeFetch, federation, type FakePortal } from '../test/fake-portal';
import { ClientError, isClientError } from './client-error';
import { globalFetch, refusalCode, type FetchLike } from './portal-http';
import { QueryClient } from './query-client';
import { sampleEntry } from '../../log/testdata/log-fixture';

function setUp() {
  const [alpha] = federation(['alpha', 'beta'], 1) as [FakePortal, FakePortal];
  const fetchImpl = fakeFetch([alpha]);
  return { alpha, fetchImpl, query: new QueryClient(`${alpha.url}/`, fetchImpl, { portal: 'alpha' }) };
}

async function failure(read: Promise<unknown>): Promise<ClientError> {
  try {
    await read;
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

/** A fetch that answers `text` with `status` to everything. */
const answering =
  (status: number, text: string): FetchLike =>
  () =>
    Promise.resolve(new Response(text, { status }));

describe('QueryClient', () => {
  it('reads a checkpoint as text, and undefined for a log with no seal yet (404 log.empty)', async () => {
    const { alpha, query, fetchImpl } = setUp();
    expect(await query.checkpoint('self')).toBeUndefined();
    const note = alpha.log.seal([sampleEntry(0)]);
    expect(await query.checkpoint('self')).toBe(note);
    expect(fetchImpl.calls.at(-1)).toBe('GET https://alpha.example/logs/self/checkpoint');
  });

  it('refuses an unknown log with the service’s code, and encodes the name in the path', async () => {
    const { query, fetchImpl } = setUp();
    const error = await failure(query.checkpoint('a b/c'));
    expect(error).toMatchObject({
      code: 'portal.refused',
      portal: 'alpha',
      evidence: { status: 404, code: 'peer.unknown' },
    });
    expect(refusalCode(error)).toBe('peer.unknown');
    expect(fetchImpl.calls).toEqual(['GET https://alpha.example/logs/a%20b%2Fc/checkpoint']);
  });

  it('reads a consistency proof and the federation', async () => {
    const { alpha, query } = setUp();
    alpha.log.seal([sampleEntry(0), sampleEntry(1)]);
    alpha.log.seal([sampleEntry(2)]);
    expect(await query.consistency('self', 2, 3)).toMatchObject({
      from: 2,
      to: 3,
      path: [expect.any(String)],
    });
    expect(await query.federation()).toMatchObject({
      portal: { id: 'alpha', quorum: 1 },
      peers: [{ id: 'beta' }],
    });
  });

  it.each<[string, (q: QueryClient) => Promise<unknown>, string]>([
    [
      'a profile answer without a proof',
      (q) => q.profile('MBUA-YC66-H7YO-ABTL-WX4K'),
      '{"log":"self","id":"x"}',
    ],
    ['an answer that is not JSON', (q) => q.profile('MBUA-YC66-H7YO-ABTL-WX4K'), '<html>'],
    ['a JSON array', (q) => q.federation(), '[]'],
    [
      'a consistency proof for other sizes',
      (q) => q.consistency('self', 2, 3),
      '{"from":1,"to":3,"path":[]}',
    ],
    [
      'a peer without keys',
      (q) => q.federation(),
      '{"portal":{"id":"a","witnessKey":null,"quorum":0},"peers":[{"id":"b"}]}',
    ],
    ['an empty checkpoint', (q) => q.checkpoint('self'), ''],
  ])('refuses %s: verify.answer', async (_name, read, text) => {
    const query = new QueryClient('https://q.example', answering(200, text));
    expect(await failure(read(query))).toMatchObject({
      code: 'verify.answer',
      portal: 'https://q.example',
      check: 'answer shape',
    });
  });

  it('reports a server error as portal.refused, even without a JSON body', async () => {
    const query = new QueryClient('https://q.example', answering(502, 'Bad Gateway'));
    const error = await failure(query.federation());
    expect(error).toMatchObject({
      code: 'portal.refused',
      evidence: { url: 'https://q.example/federation', status: 502 },
    });
    expect(refusalCode(error)).toBeUndefined();
  });

  it('bounds each request: no answer within the timeout is portal.unreachable', async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)),
      );
    const query = new QueryClient('https://slow.example', hanging, { portal: 'slow', timeoutMs: 20 });
    const error = await failure(query.checkpoint('self'));
    expect(error).toMatchObject({ code: 'portal.unreachable', portal: 'slow' });
    expect(error.message).toBe(
      'GET https://slow.example/logs/self/checkpoint failed: no answer within 20 ms',
    );
  });

  it('reports a network failure as portal.unreachable naming the URL', async () => {
    const query = new QueryClient('https://gone.example', () =>
      Promise.reject(new TypeError('fetch failed')),
    );
    const error = await failure(query.federation());
    expect(error).toMatchObject({ code: 'portal.unreachable', portal: 'https://gone.example' });
    expect(error.message).toContain('https://gone.example/federation');
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('names what failed under a platform fetch\'s "fetch failed" (e.g. an untrusted certificate)', async () => {
    const untrusted = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const query = new QueryClient('https://private-ca.example', () =>
      Promise.reject(new TypeError('fetch failed', { cause: untrusted })),
    );
    const error = await failure(query.federation());
    expect(error.message).toBe(
      'GET https://private-ca.example/federation failed: fetch failed: self-signed certificate in certificate chain',
    );
  });

  it('calls the global fetch unbound, as browsers require, when given none', async () => {
    const seen: unknown[] = [];
    const spy = jest.spyOn(globalThis, 'fetch').mockImplementation(function (this: unknown, input) {
      seen.push(this, typeof input === 'string' ? input : 'not a string');
      return Promise.resolve(new Response('note\n', { status: 200 }));
    });
    try {
      expect(await new QueryClient('https://q.example').checkpoint('self')).toBe('note\n');
      expect(await globalFetch('https://q.example/x').then((r) => r.status)).toBe(200);
      expect(seen).toEqual([
        globalThis,
        'https://q.example/logs/self/checkpoint',
        globalThis,
        'https://q.example/x',
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});
