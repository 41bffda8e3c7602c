import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, makeNoteSigner } from '@cryptomesh/log';
import {
  FederationConfigError,
  defaultCosignatureQuorum,
  parseFederationPeers,
  type FederationPeers,
} from './federation-peers';

const seed = (n: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + n) & 255);
const logKey = (origin: string, n: number) =>
  makeNoteSigner(origin, KEY_TYPE_ED25519, seed(n), nodeEd25519).verifierKey;
const witnessKey = (name: string, n: number) =>
  makeNoteSigner(name, KEY_TYPE_COSIGNATURE_V1, seed(100 + n), nodeEd25519).verifierKey;

function portal(id: string, n: number) {
  const origin = `localhost/cryptomesh/${id}`;
  return {
    id,
    origin,
    verifierKey: logKey(origin, n).text,
    witnessKey: witnessKey(`${id}.example/witness`, n).text,
    queryUrl: `http://127.0.0.1:${4000 + n}`,
  };
}

const alpha = portal('alpha', 1);
const beta = portal('beta', 2);
const gamma = portal('gamma', 3);
const SOURCE = 'FEDERATION_PEERS';
const parse = (value: unknown, self = 'alpha'): FederationPeers =>
  parseFederationPeers(value, { self, source: SOURCE });

function faultOf(value: unknown, self = 'alpha'): { path: string; message: string } | undefined {
  try {
    parse(value, self);
  } catch (error) {
    if (!(error instanceof FederationConfigError)) throw error;
    return { path: error.path, message: error.message };
  }
  return undefined;
}

describe('parseFederationPeers', () => {
  it('reads an array of peers (FEDERATION_PEERS)', () => {
    const { peers, self } = parse([beta, gamma]);
    expect(self).toBeUndefined();
    expect(peers.map((p) => p.id)).toEqual(['beta', 'gamma']);
    const [b] = peers;
    expect(b!.origin).toBe('localhost/cryptomesh/beta');
    expect(b!.verifierKey.text).toBe(beta.verifierKey);
    expect(b!.verifierKey.type).toBe(KEY_TYPE_ED25519);
    expect(b!.witnessKey.text).toBe(beta.witnessKey);
    expect(b!.witnessKey.type).toBe(KEY_TYPE_COSIGNATURE_V1);
    expect(b!.queryUrl).toBe('http://127.0.0.1:4002');
  });

  it('reads no peer from nothing, [] and {"portals": []}', () => {
    expect(parse(undefined)).toEqual({ peers: [] });
    expect(parse([])).toEqual({ peers: [] });
    expect(parse({ portals: [] })).toEqual({ peers: [] });
  });

  it('reads .federation/portals.json, skipping this portal and ignoring gatewayUrl', () => {
    const file = {
      portals: [alpha, beta, gamma].map((p, i) => ({ ...p, gatewayUrl: `http://127.0.0.1:${3000 + i}` })),
    };
    const { peers, self } = parse(file, 'beta');
    expect(peers.map((p) => p.id)).toEqual(['alpha', 'gamma']);
    expect(peers[0]).not.toHaveProperty('gatewayUrl');
    expect(self!.id).toBe('beta');
    expect(self!.origin).toBe(beta.origin);
    expect(self!.verifierKey!.text).toBe(beta.verifierKey);
    expect(self!.witnessKey!.text).toBe(beta.witnessKey);
    expect(self!.queryUrl).toBe(beta.queryUrl);
  });

  it('accepts a self entry with only its id, and returns it in the array form too', () => {
    expect(parse([{ id: 'alpha' }, beta])).toEqual({
      peers: [expect.objectContaining({ id: 'beta' })],
      self: { id: 'alpha' },
    });
    expect(parse([alpha, beta]).self!.verifierKey!.text).toBe(alpha.verifierKey);
  });

  it.each([
    ['http://peer.example:8080/', 'http://peer.example:8080'],
    ['https://peer.example/query/', 'https://peer.example/query'],
    ['https://peer.example/query', 'https://peer.example/query'],
    ['http://[::1]:4000', 'http://[::1]:4000'],
  ])('takes queryUrl %s as %s', (url, expected) => {
    expect(parse([{ ...beta, queryUrl: url }]).peers[0]!.queryUrl).toBe(expected);
  });

  it.each<[string, unknown, string]>([
    ['a string', 'beta', ''],
    ['a number', 3, ''],
    ['null', null, ''],
    ['an object without portals', { peers: [beta] }, '.peers'],
    ['a portals file with another field', { portals: [beta], version: 1 }, '.version'],
    ['portals not an array', { portals: { beta } }, '.portals'],
    ['an entry that is not an object', [beta, 'gamma'], '[1]'],
    ['an entry that is an array', [[beta]], '[0]'],
    ['an unknown field', [{ ...beta, weight: 1 }], '[0].weight'],
    ['gatewayUrl outside a portals file', [{ ...beta, gatewayUrl: 'http://x' }], '[0].gatewayUrl'],
    [
      'an unknown field in a portals file',
      { portals: [alpha, { ...beta, logUrl: 'x' }] },
      '.portals[1].logUrl',
    ],
    ['an unknown field in the self entry', [{ ...alpha, extra: true }], '[0].extra'],
    ['a missing id', [{ ...beta, id: undefined }], '[0].id'],
    ['an upper-case id', [beta, { ...gamma, id: 'Gamma' }], '[1].id'],
    ['an id with a dot', [{ ...beta, id: 'beta.example' }], '[0].id'],
    ['a numeric id', [{ ...beta, id: 2 }], '[0].id'],
    ['a duplicate id', [beta, { ...gamma, id: 'beta' }], '[1].id'],
    ['a duplicate self id', { portals: [alpha, beta, { ...gamma, id: 'alpha' }] }, '.portals[2].id'],
    ['a missing origin', [{ ...beta, origin: undefined }], '[0].origin'],
    ['an empty origin', [{ ...beta, origin: '' }], '[0].origin'],
    ['an origin with a newline', [{ ...beta, origin: 'localhost/cryptomesh/beta\n' }], '[0].origin'],
    [
      'a duplicate origin',
      [beta, { ...gamma, origin: beta.origin, verifierKey: logKey(beta.origin, 3).text }],
      '[1].origin',
    ],
    ['a missing verifierKey', [{ ...beta, verifierKey: undefined }], '[0].verifierKey'],
    ['a verifierKey named otherwise', [{ ...beta, verifierKey: gamma.verifierKey }], '[0].verifierKey'],
    [
      'a witness key as verifierKey',
      [{ ...beta, verifierKey: witnessKey(beta.origin, 2).text }],
      '[0].verifierKey',
    ],
    [
      'a malformed verifierKey',
      [{ ...beta, verifierKey: `${beta.verifierKey.slice(0, -4)}AAA=` }],
      '[0].verifierKey',
    ],
    ['a verifierKey not a string', [{ ...beta, verifierKey: { name: beta.origin } }], '[0].verifierKey'],
    ['a missing witnessKey', [{ ...beta, witnessKey: undefined }], '[0].witnessKey'],
    ['a log key as witnessKey', [{ ...beta, witnessKey: beta.verifierKey }], '[0].witnessKey'],
    [
      'a witnessKey with a wrong key ID',
      [{ ...beta, witnessKey: beta.witnessKey.replace(/\+[0-9a-f]{8}\+/, '+00000000+') }],
      '[0].witnessKey',
    ],
    [
      'a witnessKey of the self entry reused',
      { portals: [alpha, { ...beta, witnessKey: alpha.witnessKey }] },
      '.portals[1].witnessKey',
    ],
    ['a witnessKey shared by two peers', [beta, { ...gamma, witnessKey: beta.witnessKey }], '[1].witnessKey'],
    ['a malformed self witnessKey', [{ id: 'alpha', witnessKey: 'alpha' }, beta], '[0].witnessKey'],
    ['a missing queryUrl', [{ ...beta, queryUrl: undefined }], '[0].queryUrl'],
    ['an empty queryUrl', [{ ...beta, queryUrl: '' }], '[0].queryUrl'],
    ['a relative queryUrl', [{ ...beta, queryUrl: '/query' }], '[0].queryUrl'],
    ['a host without a scheme', [{ ...beta, queryUrl: '127.0.0.1:4002' }], '[0].queryUrl'],
    ['an ftp: queryUrl', [{ ...beta, queryUrl: 'ftp://peer.example/' }], '[0].queryUrl'],
    ['a queryUrl with a query', [{ ...beta, queryUrl: 'http://peer.example/?a=1' }], '[0].queryUrl'],
    ['a queryUrl with a fragment', [{ ...beta, queryUrl: 'http://peer.example/#x' }], '[0].queryUrl'],
    [
      'a queryUrl with credentials',
      [{ ...beta, queryUrl: 'http://user:secret@peer.example/' }],
      '[0].queryUrl',
    ],
    ['a queryUrl with a space', [{ ...beta, queryUrl: ' http://peer.example/' }], '[0].queryUrl'],
    ['a queryUrl not a string', [{ ...beta, queryUrl: 4002 }], '[0].queryUrl'],
  ])('refuses %s at its path', (_, value, path) => {
    const fault = faultOf(value);
    expect(fault?.path).toBe(path);
    expect(fault!.message.startsWith(`${SOURCE}${path}: `)).toBe(true);
    expect(fault!.message).not.toContain('\n');
    expect(fault!.message.length).toBeLessThan(600);
  });

  it('says what it saw, cut to 200 characters, on one line', () => {
    const long = `localhost/\n${'x'.repeat(1_000)}`;
    const fault = faultOf([{ ...beta, origin: long }]);
    expect(fault!.message).toContain('saw "localhost/\\nxxx');
    expect(fault!.message).toContain('…');
    expect(fault!.message).not.toContain('\n');
    expect(fault!.message.length).toBeLessThan(300);
    expect(faultOf([{ ...beta, witnessKey: beta.verifierKey }])!.message).toMatch(
      /^FEDERATION_PEERS\[0\]\.witnessKey: must be a witness key \(type 0x04\) verifier key \(.*\), saw "localhost/,
    );
  });

  it('is a FederationConfigError with the source, the path and the cause', () => {
    let error: unknown;
    try {
      parseFederationPeers([{ ...beta, witnessKey: 'nope' }], {
        self: 'alpha',
        source: 'FEDERATION_FILE .federation/portals.json',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FederationConfigError);
    expect(error).toBeInstanceOf(Error);
    const e = error as FederationConfigError;
    expect([e.name, e.source, e.path]).toEqual([
      'FederationConfigError',
      'FEDERATION_FILE .federation/portals.json',
      '[0].witnessKey',
    ]);
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe('defaultCosignatureQuorum', () => {
  it.each([
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 2],
    [5, 3],
    [6, 3],
    [99, 50],
  ])('%i peers need %i cosignatures', (peers, quorum) => {
    expect(defaultCosignatureQuorum(peers)).toBe(quorum);
  });

  it.each([-1, 1.5, NaN, Infinity])('refuses %p peers', (peers) => {
    expect(() => defaultCosignatureQuorum(peers)).toThrow(RangeError);
  });
});
