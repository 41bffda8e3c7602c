import { GatewayClient, portalErrorCode } from './gateway-client';
import type { FetchLike } from './portal-http';
import { failure } from '../test/client-failure';

/** A fetch that answers every request with `status` and `body` (an object is sent as JSON), and records it. */
function answering(status: number, body: unknown) {
  const requests: { url: string; body: unknown }[] = [];
  const fetchImpl: FetchLike = (url, init) => {
    requests.push({ url, body: JSON.parse(init?.body as string) as unknown });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return Promise.resolve(new Response(text, { status, headers: { 'content-type': 'application/json' } }));
  };
  return { fetchImpl, requests };
}

const HELLO = {
  HelloResponse: {
    Status: 200,
    StatusDescription: 'OK',
    Version: '0.1.0',
    PortalId: 'alpha',
    Origin: 'alpha.example/log',
    VerifierKey: 'alpha.example/log+3bd7a2c1+AXjQ',
    QueryUrl: 'https://query.alpha.example',
    CosignatureQuorum: 2,
    Policy: { MaxRequestBytes: 65536, MaxProfileBytes: 32768, ProofOfWork: { Level: 1 } },
  },
};

describe('GatewayClient', () => {
  it('posts {"<Name>Request": body} to /.well-known/mmm/ and resolves with the response fields', async () => {
    const { fetchImpl, requests } = answering(200, {
      EscrowGetResponse: { Status: 200, StatusDescription: 'OK', Key: 'MAOC', Blob: 'q83v' },
    });
    const gateway = new GatewayClient('https://gw.example/', fetchImpl);
    expect(await gateway.send('EscrowGet', { Key: 'MAOC' })).toMatchObject({ Key: 'MAOC', Blob: 'q83v' });
    expect(requests).toEqual([
      { url: 'https://gw.example/.well-known/mmm/', body: { EscrowGetRequest: { Key: 'MAOC' } } },
    ]);
  });

  it('reads Hello, and names the portal by its PortalId from then on', async () => {
    const gateway = new GatewayClient('https://gw.example', answering(200, HELLO).fetchImpl);
    expect(gateway.portal).toBe('https://gw.example');
    expect(await gateway.hello()).toEqual({
      version: '0.1.0',
      portalId: 'alpha',
      origin: 'alpha.example/log',
      verifierKey: 'alpha.example/log+3bd7a2c1+AXjQ',
      queryUrl: 'https://query.alpha.example',
      cosignatureQuorum: 2,
      maxRequestBytes: 65536,
      maxProfileBytes: 32768,
      proofOfWorkLevel: 1,
    });
    expect(gateway.portal).toBe('alpha');
  });

  it('turns a refusal into portal.refused with the status, the portal’s code, reason and description', async () => {
    const refused = {
      PublishResponse: {
        Status: 409,
        StatusDescription: 'MBOL-…: delete of a deleted object',
        Error: 'persistence.conflict',
        Reason: 'persistence.inactive',
      },
    };
    const error = await failure(
      new GatewayClient('https://gw.example', answering(409, refused).fetchImpl).send('Publish', {}),
    );
    expect(error).toMatchObject({
      code: 'portal.refused',
      portal: 'https://gw.example',
      evidence: {
        transaction: 'Publish',
        status: 409,
        code: 'persistence.conflict',
        reason: 'persistence.inactive',
        message: 'MBOL-…: delete of a deleted object',
      },
    });
    expect(error.message).toContain('persistence.conflict');
    expect(portalErrorCode(error)).toBe('persistence.conflict');
  });

  it('turns an ErrorResponse and a bare HTTP error into portal.refused too', async () => {
    const envelope = {
      ErrorResponse: { Status: 413, StatusDescription: 'too large', Error: 'request.too-large' },
    };
    const tooLarge = await failure(
      new GatewayClient('https://gw.example', answering(413, envelope).fetchImpl).send('Get', {}),
    );
    expect(tooLarge).toMatchObject({
      code: 'portal.refused',
      evidence: { status: 413, code: 'request.too-large' },
    });
    const proxy = await failure(
      new GatewayClient('https://gw.example', answering(502, '<html>bad gateway').fetchImpl).send('Get', {}),
    );
    expect(proxy).toMatchObject({ code: 'portal.refused', evidence: { status: 502 } });
    expect(portalErrorCode(proxy)).toBeUndefined();
  });

  it('refuses a 200 that is not the transaction’s response (verify.answer)', async () => {
    for (const body of [
      'not json',
      { GetResponse: { StatusDescription: 'OK' } },
      { PublishResponse: { Status: 200 } },
    ]) {
      const error = await failure(
        new GatewayClient('https://gw.example', answering(200, body).fetchImpl).send('Get', {}),
      );
      expect(error.code).toBe('verify.answer');
    }
    const hello = { HelloResponse: { ...HELLO.HelloResponse, VerifierKey: undefined } };
    expect(
      (await failure(new GatewayClient('https://gw.example', answering(200, hello).fetchImpl).hello())).code,
    ).toBe('verify.answer');
  });

  it('reports a network failure as portal.unreachable', async () => {
    const down: FetchLike = () => Promise.reject(new TypeError('fetch failed'));
    const error = await failure(new GatewayClient('https://gw.example', down).send('Hello', {}));
    expect(error).toMatchObject({ code: 'portal.unreachable', portal: 'https://gw.example' });
  });
});

describe('GatewayClient: a short wait the portal asks for is waited out', () => {
  /** A fetch that answers with each of `answers` in turn (the last one again), and records the bodies. */
  function inTurn(...answers: Array<{ status: number; body: unknown; retryAfter?: string }>) {
    const bodies: string[] = [];
    const fetchImpl: FetchLike = (_url, init) => {
      bodies.push(init?.body as string);
      const a = answers[Math.min(bodies.length - 1, answers.length - 1)]!;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (a.retryAfter !== undefined) headers['retry-after'] = a.retryAfter;
      return Promise.resolve(new Response(JSON.stringify(a.body), { status: a.status, headers }));
    };
    return { fetchImpl, bodies };
  }
  const refusal = (code: string, status: number) => ({
    GetResponse: { Status: status, StatusDescription: 'wait', Error: code },
  });
  const ok = { status: 200, body: { GetResponse: { Status: 200, StatusDescription: 'OK', Id: 'x' } } };

  it.each([
    ['rate.limited', 429],
    ['log.pushback', 503],
  ])(
    '%s (%i) with Retry-After: the same bytes are sent again, and the answer is the next one',
    async (code, status) => {
      const { fetchImpl, bodies } = inTurn({ status, body: refusal(code, status), retryAfter: '0' }, ok);
      const gateway = new GatewayClient('https://gw.example', fetchImpl);
      await expect(gateway.send('Get', { Id: 'x' })).resolves.toMatchObject({ Id: 'x' });
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
    },
  );

  it('gives up after three more tries, with the refusal', async () => {
    const { fetchImpl, bodies } = inTurn({
      status: 429,
      body: refusal('rate.limited', 429),
      retryAfter: '0',
    });
    const gateway = new GatewayClient('https://gw.example', fetchImpl);
    const error = await failure(gateway.send('Get', { Id: 'x' }));
    expect(error).toMatchObject({ code: 'portal.refused', evidence: { status: 429, code: 'rate.limited' } });
    expect(bodies).toHaveLength(4);
  });

  it.each([
    ['a long wait', 429, 'rate.limited', '60'],
    ['no Retry-After', 429, 'rate.limited', undefined],
    ['another refusal with a wait', 429, 'connect.address-limit', '0'],
    ['a 503 that is no push-back', 503, 'unavailable', '0'],
  ])('%s: refused at once', async (_what, status, code, retryAfter) => {
    const { fetchImpl, bodies } = inTurn({
      status,
      body: refusal(code, status),
      ...(retryAfter === undefined ? {} : { retryAfter }),
    });
    const gateway = new GatewayClient('https://gw.example', fetchImpl);
    await expect(gateway.send('Get', { Id: 'x' })).rejects.toMatchObject({ code: 'portal.refused' });
    expect(bodies).toHaveLength(1);
  });
});
