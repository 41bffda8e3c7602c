import { TILE_WIDTH, addCosignature, toBase64 } from '@cryptomesh/log';
import { sampleEntry } from '../../log/testdata/log-fixture';
import {
  aliceLog,
  fakeFetch,
  federation,
  trustAt,
  type AliceLog,
  type FakeAnswer,
  type FakePortal,
} from '../test/fake-portal';
import { failure } from '../test/client-failure';
import { storeCheckpointMemory, verifyCheckpoint } from './checkpoint-verifier';
import { MemoryClientStore } from './client-store';
import { QueryClient, type ProofSource } from './query-client';
import { fetchVerifiedProfile } from './verified-profile';

/**
 * Issue #18: the SDK builds its inclusion and consistency proofs from the log's C2SP tlog-tiles when
 * the portal serves them (`proofs: 'auto'`, the default), and from the query service's answers when
 * it does not. Either way the proof is verified against the signed checkpoint: a wrong tile is as
 * much a failed check as a wrong JSON proof.
 */

let alice: AliceLog;
let padding: Uint8Array[];
beforeAll(async () => {
  alice = await aliceLog();
  // More than a tile of other entries before alice's: her entries' proofs need level-1 tiles.
  padding = Array.from({ length: TILE_WIDTH + 3 }, (_, i) => sampleEntry(i));
});

/** alpha's log: 259 other entries, then alice's life, in two parts (sizes 200 and 259 + alice's). */
function setUp(servesTiles: boolean) {
  const [alpha, beta, gamma] = federation(['alpha', 'beta', 'gamma'], 2) as [
    FakePortal,
    FakePortal,
    FakePortal,
  ];
  const witnesses = [beta.witness, gamma.witness];
  const first = alpha.log.seal(padding.slice(0, 200), witnesses);
  alpha.log.seal([...padding.slice(200), ...alice.entries], witnesses);
  beta.mirrors.set('alpha', alpha.log);
  for (const portal of [alpha, beta]) portal.servesTiles = servesTiles;
  const fetchImpl = fakeFetch([alpha, beta, gamma]);
  const store = new MemoryClientStore();
  const trust = trustAt(alpha);
  const read = (proofs?: ProofSource, via = trust.home) =>
    fetchVerifiedProfile(`mmm:${alice.personal.profile.id}:alice@example.com`, {
      trust,
      via,
      store,
      fetchImpl,
      kind: 'personal',
      ...(proofs === undefined ? {} : { proofs }),
    });
  return { alpha, beta, fetchImpl, store, trust, first, read };
}

/** The root of a checkpoint note (its third line), base64 as the checkpoint memory keeps it. */
const rootOf = (note: string): string => note.split('\n')[2]!;

/** Rewrites answers of `portal` whose path matches. */
function tamper(portal: FakePortal, match: RegExp, edit: (answer: FakeAnswer) => void): void {
  portal.tamper = (path, answer) => {
    if (match.test(path)) edit(answer);
    return answer;
  };
}

const garbagePath = (answer: FakeAnswer) => {
  const body = answer.body as { proof?: { path: string[] } };
  if (body.proof !== undefined) body.proof.path = body.proof.path.map(() => toBase64(new Uint8Array(32)));
};

describe('inclusion proofs from tiles', () => {
  it('builds the proof from the tiles when they are served (auto): the served path is not used', async () => {
    const { alpha, fetchImpl, read } = setUp(true);
    tamper(alpha, /^\/profiles\//, garbagePath);
    const verified = await read();
    expect(verified).toMatchObject({ proofSource: 'tiles', log: 'alpha' });
    expect(verified.index).toBeGreaterThan(TILE_WIDTH);
    // A tree of more than 256 entries: the proof needs the level-0 and the level-1 tiles.
    const tiles = fetchImpl.calls.filter((c) => c.includes('/tile/'));
    expect(tiles.some((c) => c.includes('/logs/self/tile/0/'))).toBe(true);
    expect(tiles.some((c) => c.includes('/logs/self/tile/1/000.p/'))).toBe(true);
  });

  it('falls back to the served proof when the portal serves no tiles (auto), and says so', async () => {
    const { fetchImpl, read } = setUp(false);
    expect(await read()).toMatchObject({ proofSource: 'json' });
    expect(fetchImpl.calls.filter((c) => c.includes('/tile/')).length).toBeGreaterThan(0);
  });

  it('fails with the served path when told to use it (json), and with no tiles when told to use them', async () => {
    const served = setUp(true);
    tamper(served.alpha, /^\/profiles\//, garbagePath);
    expect(await failure(served.read('json'))).toMatchObject({ code: 'verify.inclusion', portal: 'alpha' });
    expect(served.fetchImpl.calls.filter((c) => c.includes('/tile/'))).toEqual([]);
    const none = setUp(false);
    expect(await failure(none.read('tiles'))).toMatchObject({ code: 'portal.refused', portal: 'alpha' });
  });

  it('catches a wrong hash tile as a failed inclusion check, and changes no memory', async () => {
    const { alpha, store, read } = setUp(true);
    tamper(alpha, /\/tile\/0\//, (answer) => {
      const tile = answer.body as Uint8Array;
      tile[5] = tile[5]! ^ 1;
    });
    const error = await failure(read());
    expect(error).toMatchObject({ code: 'verify.inclusion', portal: 'alpha', check: 'inclusion proof' });
    expect(error.evidence?.['proof']).toMatchObject({ source: 'tiles' });
    expect(await storeCheckpointMemory(store).get('alpha')).toBeUndefined();
  });

  it('catches a tile of the wrong length as a bad answer', async () => {
    const { alpha, read } = setUp(true);
    tamper(alpha, /\/tile\/1\//, (answer) => {
      answer.body = (answer.body as Uint8Array).subarray(0, 31);
    });
    expect(await failure(read())).toMatchObject({ code: 'verify.answer', portal: 'alpha' });
  });

  it('reads no more of a tile than it can hold: a larger answer is a bad answer, not buffered', async () => {
    const { alpha, read } = setUp(true);
    const huge = new Uint8Array(4 << 20);
    tamper(alpha, /\/tile\/0\//, (answer) => {
      answer.body = huge;
    });
    const error = await failure(read());
    expect(error).toMatchObject({ code: 'verify.answer', portal: 'alpha' });
    expect(error.message).toMatch(/is larger than the \d+ bytes it can hold/);
  });

  it('refuses an entry index outside the checkpoint before reading any tile: verify.inclusion', async () => {
    const { alpha, fetchImpl, read } = setUp(true);
    tamper(alpha, /^\/profiles\//, (answer) => {
      (answer.body as { index: number }).index = alpha.log.entries.length;
    });
    expect(await failure(read())).toMatchObject({ code: 'verify.inclusion', portal: 'alpha' });
    expect(fetchImpl.calls.filter((c) => c.includes('/tile/'))).toEqual([]);
  });

  it('reads each tile once in a read: the consistency and inclusion proofs share them', async () => {
    const { fetchImpl, first, store, read } = setUp(true);
    // The client saw the first checkpoint: this read needs a consistency proof too.
    await storeCheckpointMemory(store).put('alpha', { size: 200, root: rootOf(first), note: first });
    await read();
    const tiles = fetchImpl.calls.filter((c) => c.includes('/tile/'));
    expect(tiles.length).toBeGreaterThan(0);
    expect(new Set(tiles).size).toBe(tiles.length);
  });

  it("reads a mirror's tiles under the name the mirror gives the log", async () => {
    const { beta, fetchImpl, trust, read } = setUp(true);
    const via = trust.peers.find((p) => p.id === 'beta')!;
    expect(await read('tiles', via)).toMatchObject({ proofSource: 'tiles', log: 'alpha' });
    expect(fetchImpl.calls.some((c) => c.startsWith(`GET ${beta.url}/logs/alpha/tile/`))).toBe(true);
  });
});

describe('consistency proofs from tiles', () => {
  function verifyContext(servesTiles: boolean, proofs?: ProofSource) {
    const set = setUp(servesTiles);
    const memory = storeCheckpointMemory(set.store);
    const query = new QueryClient(set.alpha.url, set.fetchImpl, { portal: 'alpha' });
    const verify = (note: string) =>
      verifyCheckpoint(note, {
        owner: set.trust.home,
        trust: set.trust,
        query,
        logName: 'self',
        memory,
        ...(proofs === undefined ? {} : { proofs }),
      });
    return { ...set, memory, verify };
  }

  it('moves from an older checkpoint to a newer one with a proof from tiles, never asking for one', async () => {
    const { alpha, fetchImpl, first, memory, verify } = verifyContext(true);
    await verify(first);
    await verify(alpha.log.latest!);
    expect(fetchImpl.calls.some((c) => c.includes('/proofs/consistency'))).toBe(false);
    expect(fetchImpl.calls.some((c) => c.includes('/tile/'))).toBe(true);
    expect(await memory.get('alpha')).toMatchObject({ size: alpha.log.entries.length });
  });

  it('proves an older checkpoint against the remembered one from the tiles of the remembered size', async () => {
    const { alpha, fetchImpl, first, memory, verify } = verifyContext(true);
    await verify(alpha.log.latest!);
    await verify(first);
    expect(fetchImpl.calls.some((c) => c.includes('/proofs/consistency'))).toBe(false);
    expect(await memory.get('alpha')).toMatchObject({ size: alpha.log.entries.length });
  });

  it('asks the query service when no tiles are served (auto)', async () => {
    const { alpha, fetchImpl, first, verify } = verifyContext(false);
    await verify(first);
    await verify(alpha.log.latest!);
    expect(fetchImpl.calls.filter((c) => c.includes('/proofs/consistency'))).toHaveLength(1);
  });

  it('catches a fork with a proof from tiles: verify.consistency, with both checkpoints', async () => {
    const { alpha, beta, fetchImpl, first, memory, verify } = verifyContext(true, 'tiles');
    await verify(first);
    // The log goes on from a history in which entry 7 was another: a signed, cosigned fork.
    const fork = federation(['alpha'], 2)[0]!;
    const entries = [...alpha.log.entries];
    entries[7] = sampleEntry(9_999);
    fork.log.seal(entries, []);
    alpha.log = fork.log;
    const gamma = alpha.peers.find((p) => p.id === 'gamma')!;
    const note = [beta.witness, gamma.witness].reduce(
      (text, witness) => addCosignature(text, witness, 1_800_000_000),
      fork.log.latest!,
    );
    const error = await failure(verify(note));
    expect(error).toMatchObject({ code: 'verify.consistency', portal: 'alpha' });
    expect(error.evidence?.['proof']).toBeDefined();
    expect(fetchImpl.calls.some((c) => c.includes('/tile/'))).toBe(true);
    expect(fetchImpl.calls.some((c) => c.includes('/proofs/'))).toBe(false);
    expect(error.evidence).toMatchObject({ remembered: first, served: note });
    expect(await memory.get('alpha')).toMatchObject({ size: 200 });
  });
});
