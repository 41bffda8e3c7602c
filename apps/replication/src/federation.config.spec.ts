import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, formatSignerKey, makeNoteSigner } from '@cryptomesh/log';
import { ConfigError, type Env } from '@cryptomesh/service';
import { loadFederation } from './federation.config';

// loadFederation (docs/design/federation.md "Configuration"): FEDERATION_PEERS or FEDERATION_FILE,
// WITNESS_KEY(_FILE) and COSIGNATURE_QUORUM; every fault is one line naming the variable and the peer.

const seed = (n: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + n) & 255);

function portal(id: string, n: number) {
  const origin = `localhost/cryptomesh/${id}`;
  return {
    id,
    origin,
    verifierKey: makeNoteSigner(origin, KEY_TYPE_ED25519, seed(n), nodeEd25519).verifierKey.text,
    witnessKey: makeNoteSigner(`${id}.example/witness`, KEY_TYPE_COSIGNATURE_V1, seed(100 + n), nodeEd25519)
      .verifierKey.text,
    queryUrl: `http://127.0.0.1:${4000 + n}`,
  };
}

const alpha = portal('alpha', 1);
const beta = portal('beta', 2);
const gamma = portal('gamma', 3);
const delta = portal('delta', 4);
const witnessKeyOf = (id: string, n: number) =>
  formatSignerKey(`${id}.example/witness`, KEY_TYPE_COSIGNATURE_V1, seed(100 + n), nodeEd25519);
const WITNESS_KEY = witnessKeyOf('alpha', 1);
const peers = (...list: unknown[]) => JSON.stringify(list);

function configError(env: Env): ConfigError {
  try {
    loadFederation(env, 'alpha');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadFederation', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'federation-config-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the peers of FEDERATION_PEERS with the witness key, quorum ⌈peers/2⌉ by default', () => {
    const config = loadFederation({ FEDERATION_PEERS: peers(beta, gamma), WITNESS_KEY }, 'alpha');
    expect(
      config.peers.map((p) => [p.id, p.origin, p.verifierKey.text, p.witnessKey.text, p.queryUrl]),
    ).toEqual([
      ['beta', beta.origin, beta.verifierKey, beta.witnessKey, beta.queryUrl],
      ['gamma', gamma.origin, gamma.verifierKey, gamma.witnessKey, gamma.queryUrl],
    ]);
    expect(config.witnessKey?.verifierKey.text).toBe(alpha.witnessKey);
    expect(config.quorum).toBe(1);
  });

  it.each([{}, { FEDERATION_PEERS: '' }, { FEDERATION_PEERS: ' [] ' }, { FEDERATION_FILE: '  ' }])(
    'has no peer, no witness key required and quorum 0 for %j',
    (env) => {
      expect(loadFederation(env, 'alpha')).toEqual({ peers: [], witnessKey: undefined, quorum: 0 });
    },
  );

  it('reads a portals.json through FEDERATION_FILE, skipping this portal', () => {
    const portals = [alpha, beta, gamma].map((p, i) => ({
      ...p,
      gatewayUrl: `http://127.0.0.1:${5000 + i}`,
    }));
    const path = file('portals.json', JSON.stringify({ portals }, null, 2));
    const config = loadFederation({ FEDERATION_FILE: path, WITNESS_KEY }, 'alpha');
    expect(config.peers.map((p) => p.id)).toEqual(['beta', 'gamma']);
    expect(config.quorum).toBe(1);
    // Another portal reading the same file skips its own entry and keeps alpha.
    const asBeta = loadFederation({ FEDERATION_FILE: path, WITNESS_KEY: witnessKeyOf('beta', 2) }, 'beta');
    expect(asBeta.peers.map((p) => p.id)).toEqual(['alpha', 'gamma']);
  });

  it("refuses this portal's entry in FEDERATION_FILE with another witness key than WITNESS_KEY", () => {
    const portals = [beta, { ...alpha, witnessKey: delta.witnessKey }];
    const error = configError({
      FEDERATION_FILE: file('wrong-self.json', JSON.stringify({ portals })),
      WITNESS_KEY,
    });
    expect(error.variable).toBe('FEDERATION_FILE.portals[1].witnessKey');
    expect(error.message).toContain(delta.witnessKey);
    expect(error.message).not.toContain('\n');
  });

  describe('faults: one line naming the variable and the peer, the path once', () => {
    const logKeyAsWitness = { ...gamma, witnessKey: gamma.verifierKey };
    const cases: Array<[string, () => Env, string, RegExp]> = [
      ['not JSON', () => ({ FEDERATION_PEERS: '[{"id": beta}]' }), 'FEDERATION_PEERS', /is not JSON/],
      [
        'not JSON, over several lines',
        () => ({ FEDERATION_PEERS: '[\n  {"id": "beta",\n   "origin": x}\n]' }),
        'FEDERATION_PEERS',
        /is not JSON/,
      ],
      ['not an array', () => ({ FEDERATION_PEERS: '"beta"' }), 'FEDERATION_PEERS', /must be a JSON array/],
      [
        'a log key as witness key',
        () => ({ FEDERATION_PEERS: peers(beta, logKeyAsWitness), WITNESS_KEY }),
        'FEDERATION_PEERS[1].witnessKey',
        /must be a witness key \(type 0x04\)/,
      ],
      [
        'a verifier key named after another origin',
        () => ({ FEDERATION_PEERS: peers({ ...beta, origin: 'elsewhere/log' }) }),
        'FEDERATION_PEERS[0].verifierKey',
        /must be named after the origin "elsewhere\/log"/,
      ],
      [
        'a missing field',
        () => ({ FEDERATION_PEERS: peers(beta, { ...gamma, queryUrl: undefined }) }),
        'FEDERATION_PEERS[1].queryUrl',
        /is missing \(peer gamma\)/,
      ],
      [
        'an unknown field',
        () => ({ FEDERATION_PEERS: peers({ ...beta, gatewayUrl: 'http://x' }) }),
        'FEDERATION_PEERS[0].gatewayUrl',
        /is not a field of a peer/,
      ],
      [
        'a duplicate id',
        () => ({ FEDERATION_PEERS: peers(beta, { ...gamma, id: 'beta' }) }),
        'FEDERATION_PEERS[1].id',
        /"beta" is already the one of \[0\]\.id/,
      ],
      [
        'a duplicate witness key',
        () => ({ FEDERATION_PEERS: peers(beta, { ...gamma, witnessKey: beta.witnessKey }) }),
        'FEDERATION_PEERS[1].witnessKey',
        /is already the one of \[0\]\.witnessKey/,
      ],
      [
        'a query URL that is not http(s)',
        () => ({ FEDERATION_PEERS: peers({ ...beta, queryUrl: 'ftp://beta\nx' }) }),
        'FEDERATION_PEERS[0].queryUrl',
        /must be an http:\/\/ or https:\/\/ URL, saw "ftp:\/\/beta\\nx"/,
      ],
      [
        'a bad entry of a portals file',
        () => ({
          FEDERATION_FILE: file('bad.json', JSON.stringify({ portals: [alpha, { ...beta, id: 'Beta!' }] })),
        }),
        'FEDERATION_FILE.portals[1].id',
        /must be a portal id/,
      ],
      [
        'a portals file that is not JSON',
        () => ({
          FEDERATION_FILE: file('trailing-comma.json', '{\n  "portals": [\n    {"id": "beta"},\n  ]\n}\n'),
        }),
        'FEDERATION_FILE',
        /is not JSON/,
      ],
      [
        'an unreadable file',
        () => ({ FEDERATION_FILE: join(dir, 'missing.json') }),
        'FEDERATION_FILE',
        /cannot read ".*missing\.json" \(ENOENT\)/,
      ],
      [
        'both FEDERATION_PEERS and FEDERATION_FILE',
        () => ({ FEDERATION_PEERS: peers(beta), FEDERATION_FILE: join(dir, 'portals.json'), WITNESS_KEY }),
        'FEDERATION_PEERS',
        /set FEDERATION_PEERS or FEDERATION_FILE, not both/,
      ],
      [
        'a peer without a witness key',
        () => ({ FEDERATION_PEERS: peers(beta) }),
        'WITNESS_KEY_FILE',
        /is required \(or WITNESS_KEY\) when the federation has peers/,
      ],
    ];

    it.each(cases)('%s', (_, env, variable, problem) => {
      const error = configError(env());
      expect(error.code).toBe('config.invalid');
      expect(error.variable).toBe(variable);
      expect(error.message).toMatch(problem);
      expect(error.message.startsWith(`${variable}: `)).toBe(true);
      expect(error.message).not.toMatch(/[\r\n]/);
      // The path is named once: not repeated by the reason.
      const path = variable.replace(/^[A-Z_]+/, '');
      if (path !== '') expect(error.message.split(path)).toHaveLength(2);
    });
  });

  describe('COSIGNATURE_QUORUM', () => {
    const withPeers = (n: number, quorum?: string): Env => ({
      FEDERATION_PEERS: peers(...[beta, gamma, delta, portal('epsilon', 5), portal('zeta', 6)].slice(0, n)),
      WITNESS_KEY,
      ...(quorum === undefined ? {} : { COSIGNATURE_QUORUM: quorum }),
    });

    it.each([
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 3],
    ])('defaults to ⌈peers/2⌉ (with itself, a majority of the federation): %i peers → %i', (n, quorum) => {
      expect(loadFederation(withPeers(n), 'alpha').quorum).toBe(quorum);
      expect(loadFederation(withPeers(n, ' '), 'alpha').quorum).toBe(quorum);
    });

    it('takes any integer from 0 to the number of peers', () => {
      for (const q of ['0', '1', '3', ' 2 ']) {
        expect(loadFederation(withPeers(3, q), 'alpha').quorum).toBe(Number(q));
      }
      expect(loadFederation({ COSIGNATURE_QUORUM: '0' }, 'alpha').quorum).toBe(0);
    });

    it.each([
      [3, '4'],
      [0, '1'],
      [3, '-1'],
      [3, '1.5'],
      [3, 'two'],
      [3, '1e1'],
      [3, '9007199254740993'],
    ])('refuses, with %i peers, %j', (n, quorum) => {
      const error = configError(n === 0 ? { COSIGNATURE_QUORUM: quorum } : withPeers(n, quorum));
      expect(error.variable).toBe('COSIGNATURE_QUORUM');
      expect(error.message).toContain(`the number of peers, ${n}`);
      expect(error.message).not.toContain('\n');
    });
  });
});
