import { fakeFetch, federation, trustAt, type FakeAnswer, type FakePortal } from '../test/fake-portal';
import { isClientError, type ClientError } from './client-error';
import {
  cosignerKeysFor,
  discoverTrust,
  logOwner,
  trustFromJson,
  trustToJson,
  type PortalTrust,
} from './trust';

function setUp(quorum = 2) {
  const portals = federation(['alpha', 'beta', 'gamma'], quorum) as [FakePortal, FakePortal, FakePortal];
  return { portals, alpha: portals[0], beta: portals[1], gamma: portals[2], fetchImpl: fakeFetch(portals) };
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

/** Rewrites alpha's `/federation` answer. */
const editFederation = (
  portal: FakePortal,
  edit: (body: { portal: Record<string, unknown>; peers: Record<string, unknown>[] }) => void,
) => {
  portal.tamper = (path: string, answer: FakeAnswer) => {
    if (path === '/federation') edit(answer.body as never);
    return answer;
  };
};

describe('discoverTrust', () => {
  it('pins the portal from Hello and its peers from /federation, with Hello’s quorum', async () => {
    const { alpha, beta, gamma, fetchImpl } = setUp();
    alpha.hello = { CosignatureQuorum: 1 };
    const trust = await discoverTrust(alpha.url, undefined, fetchImpl);
    expect(trust).toEqual({
      home: alpha.pinned(),
      peers: [beta.pinned(), gamma.pinned()].map(({ gatewayUrl: _, ...p }) => p),
      quorum: 1,
    });
    expect(fetchImpl.calls).toEqual([
      'POST https://alpha.example/.well-known/mmm/',
      'GET https://alpha.example/federation',
    ]);
  });

  it('takes the quorum from /federation when Hello has none, and the query service from Hello’s QueryUrl', async () => {
    const { alpha, fetchImpl } = setUp(2);
    alpha.queryUrl = 'https://alpha.example/query/';
    alpha.hello = { CosignatureQuorum: undefined, QueryUrl: alpha.queryUrl };
    const trust = await discoverTrust(alpha.url, undefined, fetchImpl);
    expect(trust.quorum).toBe(2);
    expect(trust.home).toMatchObject({ queryUrl: 'https://alpha.example/query/', gatewayUrl: alpha.url });
    expect(fetchImpl.calls[1]).toBe('GET https://alpha.example/query/federation');
  });

  it('uses the query URL it is given over Hello’s', async () => {
    const { alpha, fetchImpl } = setUp();
    alpha.hello = { QueryUrl: 'https://elsewhere.example' };
    const trust = await discoverTrust(alpha.url, alpha.url, fetchImpl);
    expect(trust.home.queryUrl).toBe(alpha.url);
  });

  it('accepts a single portal that has no federation yet (portal id null, no peers, quorum 0)', async () => {
    const { alpha, fetchImpl } = setUp();
    alpha.hello = { CosignatureQuorum: undefined, WitnessKey: undefined };
    editFederation(alpha, (body) => {
      body.portal = { id: null, witnessKey: null, quorum: 0 };
      body.peers = [];
    });
    const trust = await discoverTrust(alpha.url, undefined, fetchImpl);
    expect(trust).toEqual({
      home: {
        id: 'alpha',
        origin: alpha.origin,
        verifierKey: alpha.verifierKey,
        queryUrl: alpha.url,
        gatewayUrl: alpha.url,
      },
      peers: [],
      quorum: 0,
    });
  });

  it('refuses a /federation of another portal than Hello’s', async () => {
    const { alpha, fetchImpl } = setUp();
    editFederation(alpha, (body) => {
      body.portal['id'] = 'mallory';
    });
    const error = await failure(discoverTrust(alpha.url, undefined, fetchImpl));
    expect(error).toMatchObject({ code: 'verify.answer', portal: 'alpha', check: 'trust on first use' });
    expect(error.message).toContain('mallory');
  });

  it('refuses a /federation whose witness key is not Hello’s', async () => {
    const { alpha, beta, fetchImpl } = setUp();
    editFederation(alpha, (body) => {
      body.portal['witnessKey'] = beta.witness.verifierKey.text;
    });
    expect(await failure(discoverTrust(alpha.url, undefined, fetchImpl))).toMatchObject({
      code: 'verify.answer',
    });
  });

  it.each<[string, (p: { alpha: FakePortal; beta: FakePortal }) => void]>([
    [
      'a verifier key that does not parse',
      ({ alpha }) => (alpha.hello = { VerifierKey: 'alpha.example/log+00000000+AAAA' }),
    ],
    [
      'a witness key given as the verifier key',
      ({ alpha }) => (alpha.hello = { VerifierKey: alpha.witness.verifierKey.text }),
    ],
    ['a log key given as the witness key', ({ alpha }) => (alpha.hello = { WitnessKey: alpha.verifierKey })],
    ['no PortalId', ({ alpha }) => (alpha.hello = { PortalId: undefined })],
    [
      'a peer key that does not parse',
      ({ alpha }) => editFederation(alpha, (body) => (body.peers[0]!['verifierKey'] = 'garbage')),
    ],
    [
      'a peer witness key of the wrong type',
      ({ alpha, beta }) => editFederation(alpha, (body) => (body.peers[0]!['witnessKey'] = beta.verifierKey)),
    ],
    ['a peer listed twice', ({ alpha }) => editFederation(alpha, (body) => body.peers.push(body.peers[0]!))],
    [
      'the portal as its own peer',
      ({ alpha }) => editFederation(alpha, (body) => (body.peers[0]!['id'] = 'alpha')),
    ],
    [
      'a peer without a query URL',
      ({ alpha }) => editFederation(alpha, (body) => delete body.peers[0]!['queryUrl']),
    ],
  ])('refuses %s: verify.answer', async (_name, spoil) => {
    const { alpha, beta, fetchImpl } = setUp();
    spoil({ alpha, beta });
    expect(await failure(discoverTrust(alpha.url, undefined, fetchImpl))).toMatchObject({
      code: 'verify.answer',
    });
  });

  it('reports a refused Hello and an unreachable gateway with the URL', async () => {
    const { alpha, fetchImpl } = setUp();
    alpha.tamper = () => ({
      status: 503,
      body: { HelloResponse: { Status: 503, StatusDescription: 'down', Error: 'service.unavailable' } },
    });
    const refused = await failure(discoverTrust(alpha.url, undefined, fetchImpl));
    expect(refused).toMatchObject({
      code: 'portal.refused',
      evidence: { status: 503, code: 'service.unavailable' },
    });
    const unreachable = await failure(discoverTrust('https://nowhere.example', undefined, fetchImpl));
    expect(unreachable).toMatchObject({ code: 'portal.unreachable', portal: 'https://nowhere.example' });
    expect(unreachable.message).toContain('https://nowhere.example/.well-known/mmm/');
  });
});

describe('the pinned trust', () => {
  it('round-trips through trust.json', () => {
    const { alpha } = setUp();
    const trust = trustAt(alpha);
    expect(trustFromJson(trustToJson(trust))).toEqual(trust);
  });

  it.each<[string, (json: Record<string, unknown>) => void]>([
    ['another version', (json) => (json['version'] = 2)],
    ['no quorum', (json) => delete json['quorum']],
    ['a home without an id', (json) => delete (json['home'] as Record<string, unknown>)['id']],
    [
      'a peer key that does not parse',
      (json) => ((json['peers'] as Record<string, unknown>[])[0]!['witnessKey'] = 'x+y+z'),
    ],
  ])('refuses a trust.json with %s: state.corrupt', (_name, spoil) => {
    const { alpha } = setUp();
    const json = JSON.parse(trustToJson(trustAt(alpha))) as Record<string, unknown>;
    spoil(json);
    const codeOf = (text: string): unknown => {
      try {
        return trustFromJson(text);
      } catch (error) {
        return isClientError(error) ? error.code : error;
      }
    };
    expect(codeOf(JSON.stringify(json))).toBe('state.corrupt');
    expect(codeOf('{')).toBe('state.corrupt');
  });

  it('finds the owner of a log and the witnesses whose cosignatures count for it', () => {
    const { alpha, beta, gamma } = setUp();
    const trust: PortalTrust = trustAt(alpha);
    expect(logOwner(trust, 'alpha')).toBe(trust.home);
    expect(logOwner(trust, 'gamma')?.verifierKey).toBe(gamma.verifierKey);
    expect(logOwner(trust, 'self')).toBeUndefined();
    expect(cosignerKeysFor(trust, 'alpha').map((k) => k.text)).toEqual([
      beta.witness.verifierKey.text,
      gamma.witness.verifierKey.text,
    ]);
    expect(cosignerKeysFor(trust, 'beta').map((k) => k.text)).toEqual([
      alpha.witness.verifierKey.text,
      gamma.witness.verifierKey.text,
    ]);
  });
});
