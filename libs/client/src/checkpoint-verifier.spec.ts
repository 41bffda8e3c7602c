import fc from 'fast-check';
import { nobleEd25519 } from '@cryptomesh/crypto/portable';
import { addCosignature } from '@cryptomesh/log';
import { sampleEntry, witnessSigner } from '../../log/testdata/log-fixture';
import { FakeLog, fakeFetch, federation, trustAt, type FakePortal } from '../test/fake-portal';
import {
  checkpointDocument,
  storeCheckpointMemory,
  verifyCheckpoint,
  type CheckpointMemory,
  type RememberedCheckpoint,
} from './checkpoint-verifier';
import { isClientError, type ClientError } from './client-error';
import { MemoryClientStore } from './client-store';
import { QueryClient } from './query-client';
import { trustFromJson, trustToJson, type PortalTrust } from './trust';

const entries = (first: number, count: number) =>
  Array.from({ length: count }, (_, i) => sampleEntry(first + i));

/** alpha's log with parts of sizes 2, 5, 9, 16 (each cosigned by beta and gamma); quorum 2. */
function setUp(quorum = 2) {
  const [alpha, beta, gamma] = federation(['alpha', 'beta', 'gamma'], quorum) as [
    FakePortal,
    FakePortal,
    FakePortal,
  ];
  const witnesses = [beta.witness, gamma.witness];
  const notes = [2, 3, 4, 7].reduce<string[]>(
    (out, count) => [...out, alpha.log.seal(entries(alpha.log.entries.length, count), witnesses)],
    [],
  );
  const fetchImpl = fakeFetch([alpha, beta, gamma]);
  const store = new MemoryClientStore();
  const trust = trustAt(alpha, quorum);
  const memory = storeCheckpointMemory(store);
  const query = new QueryClient(alpha.url, fetchImpl, { portal: 'alpha' });
  const verify = (text: string, over: { trust?: PortalTrust; memory?: CheckpointMemory } = {}) =>
    verifyCheckpoint(text, {
      owner: (over.trust ?? trust).home,
      trust: over.trust ?? trust,
      query,
      logName: 'self',
      memory: over.memory ?? memory,
      // The query service's proofs; proofs-from-tiles.spec.ts covers the tiles.
      proofs: 'json',
    });
  return { alpha, beta, gamma, notes, fetchImpl, store, trust, memory, verify };
}

async function failure(check: Promise<unknown>): Promise<ClientError> {
  try {
    await check;
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('the checkpoint was accepted');
}

describe('verifyCheckpoint, honest checkpoints', () => {
  it('accepts the first, remembers it, and moves forward with a consistency proof from the same service', async () => {
    const { notes, verify, memory, fetchImpl } = setUp();
    expect((await verify(notes[1]!)).size).toBe(5);
    expect(await memory.get('alpha')).toMatchObject({ size: 5, note: notes[1] });
    expect((await verify(notes[3]!)).size).toBe(16);
    expect(fetchImpl.calls).toEqual(['GET https://alpha.example/logs/self/proofs/consistency?from=5&to=16']);
    expect(await memory.get('alpha')).toMatchObject({ size: 16, note: notes[3] });
  });

  it('accepts the same checkpoint again and an older one (proof older → remembered), never moving back', async () => {
    const { notes, verify, memory, fetchImpl } = setUp();
    await verify(notes[2]!);
    await verify(notes[2]!);
    expect(fetchImpl.calls).toEqual([]);
    expect((await verify(notes[0]!)).size).toBe(2);
    expect(fetchImpl.calls).toEqual(['GET https://alpha.example/logs/self/proofs/consistency?from=2&to=9']);
    expect(await memory.get('alpha')).toMatchObject({ size: 9, note: notes[2] });
  });

  it('asks a mirror for the proof under the name it gives the log', async () => {
    const { alpha, beta, notes, trust, store } = setUp();
    beta.mirrors.set('alpha', alpha.log);
    const query = new QueryClient(beta.url, fakeFetch([beta]), { portal: 'beta' });
    const memory = storeCheckpointMemory(store);
    const context = { owner: trust.home, trust, query, logName: 'alpha', memory };
    await verifyCheckpoint(notes[0]!, context);
    await verifyCheckpoint(notes[3]!, context);
    expect(await memory.get('alpha')).toMatchObject({ size: 16 });
  });

  it('counts each trusted witness once, however many lines it has', async () => {
    const { alpha, beta, notes, verify } = setUp(2);
    await expect(verify(addCosignature(notes[0]!, beta.witness, 1_900_000_000))).resolves.toMatchObject({
      size: 2,
    });
    const log = new FakeLog(alpha.origin);
    const twice = addCosignature(log.seal(entries(0, 2), [beta.witness]), beta.witness, 1_900_000_000);
    expect(await failure(verify(twice))).toMatchObject({ code: 'verify.quorum' });
  });
});

describe('verifyCheckpoint, checkpoints that must be refused', () => {
  it('one signed with another key than the pinned one: verify.checkpoint-signature', async () => {
    const { alpha, beta, gamma, verify } = setUp();
    const forger = new FakeLog(alpha.origin, 'forger');
    const note = forger.seal(entries(0, 2), [beta.witness, gamma.witness]);
    const error = await failure(verify(note));
    expect(error).toMatchObject({
      code: 'verify.checkpoint-signature',
      portal: 'alpha',
      check: 'checkpoint signature',
    });
    expect(error.evidence).toMatchObject({ log: 'alpha', checkpoint: note, reason: 'note.unknown-key' });
  });

  it('one without the log signature line, or with a changed body: verify.checkpoint-signature', async () => {
    const { alpha, notes, verify } = setUp();
    const unsigned = notes[0]!
      .split('\n')
      .filter((line) => !line.startsWith(`— ${alpha.origin} `))
      .join('\n');
    expect(await failure(verify(unsigned))).toMatchObject({ code: 'verify.checkpoint-signature' });
    const changed = notes[0]!.replace(/^time \d+$/m, 'time 1');
    expect(await failure(verify(changed))).toMatchObject({
      code: 'verify.checkpoint-signature',
      evidence: { reason: 'note.bad-signature' },
    });
  });

  it('one of another origin than the pinned one: verify.checkpoint-signature', async () => {
    const { notes, trust, verify } = setUp();
    const moved = { ...trust, home: { ...trust.home, origin: 'elsewhere.example/log' } };
    expect(await failure(verify(notes[0]!, { trust: moved }))).toMatchObject({
      code: 'verify.checkpoint-signature',
    });
  });

  it.each<[string, (p: { alpha: FakePortal; beta: FakePortal; gamma: FakePortal }) => string[]]>([
    ['one cosignature', ({ beta }) => [beta.witness.verifierKey.name]],
    [
      'the owner’s own witness and one peer',
      ({ alpha, beta }) => [alpha.witness.verifierKey.name, beta.witness.verifierKey.name],
    ],
    [
      'an unknown witness and one peer',
      ({ beta }) => ['stranger.example/witness', beta.witness.verifierKey.name],
    ],
  ])('one under-cosigned (%s) at quorum 2: verify.quorum', async (_name, pick) => {
    const { alpha, beta, gamma, verify, store } = setUp(2);
    const signers = [
      alpha.witness,
      beta.witness,
      gamma.witness,
      witnessSigner('stranger.example/witness', nobleEd25519),
    ];
    const names = pick({ alpha, beta, gamma });
    const log = new FakeLog(alpha.origin);
    const note = log.seal(
      entries(0, 2),
      signers.filter((s) => names.includes(s.verifierKey.name)),
    );
    const error = await failure(verify(note));
    expect(error).toMatchObject({
      code: 'verify.quorum',
      portal: 'alpha',
      check: 'cosignature quorum',
      evidence: { quorum: 2 },
    });
    expect(error.evidence?.['cosigners']).toEqual([beta.witness.verifierKey.text]);
    expect(store.documents.size).toBe(0);
  });

  it('one of the remembered size with another root: verify.consistency with both notes', async () => {
    const { alpha, beta, gamma, notes, verify, memory } = setUp();
    await verify(notes[1]!);
    const fork = new FakeLog(alpha.origin); // the same key: the portal itself forked its log
    const note = fork.seal(entries(100, 5), [beta.witness, gamma.witness]);
    const error = await failure(verify(note));
    expect(error).toMatchObject({ code: 'verify.consistency', portal: 'alpha', check: 'consistency' });
    expect(error.evidence).toMatchObject({ log: 'alpha', remembered: notes[1], served: note });
    expect(await memory.get('alpha')).toMatchObject({ size: 5, note: notes[1] });
  });

  it('a larger one whose consistency proof does not verify: verify.consistency, the memory stays', async () => {
    const { alpha, beta, gamma, notes, verify, store } = setUp();
    await verify(notes[1]!);
    const before = new Map(store.documents);
    const fork = new FakeLog(alpha.origin);
    fork.seal(entries(0, 4), []);
    const note = fork.seal(entries(200, 8), [beta.witness, gamma.witness]);
    alpha.log = fork; // the portal proves from its forked tree
    const error = await failure(verify(note));
    expect(error).toMatchObject({
      code: 'verify.consistency',
      evidence: { remembered: notes[1], served: note },
    });
    expect(error.evidence?.['proof']).toBeInstanceOf(Array);
    expect(store.documents).toEqual(before);
  });

  it('a smaller one that is not a prefix of the remembered one: verify.consistency, the memory stays', async () => {
    const { alpha, beta, gamma, notes, verify, memory } = setUp();
    await verify(notes[3]!);
    const fork = new FakeLog(alpha.origin);
    const note = fork.seal(entries(300, 5), [beta.witness, gamma.witness]);
    expect(await failure(verify(note))).toMatchObject({ code: 'verify.consistency' });
    expect(await memory.get('alpha')).toMatchObject({ size: 16, note: notes[3] });
  });

  it('a consistency proof that does not decode: verify.consistency', async () => {
    const { alpha, notes, verify } = setUp();
    await verify(notes[0]!);
    alpha.tamper = (path, answer) =>
      path.includes('consistency') ? { status: 200, body: { from: 2, to: 16, path: ['AAAA'] } } : answer;
    expect(await failure(verify(notes[3]!))).toMatchObject({ code: 'verify.consistency' });
  });

  it('a refused consistency proof is the refusal, and changes nothing', async () => {
    const { alpha, notes, verify, memory } = setUp();
    await verify(notes[0]!);
    alpha.tamper = (path, answer) =>
      path.includes('consistency')
        ? { status: 400, body: { error: { code: 'range.beyond-log', message: 'no' } } }
        : answer;
    expect(await failure(verify(notes[3]!))).toMatchObject({ code: 'portal.refused', portal: 'alpha' });
    expect(await memory.get('alpha')).toMatchObject({ size: 2 });
  });
});

describe('storeCheckpointMemory', () => {
  const value = (size: number): RememberedCheckpoint => ({
    size,
    root: btoa(String.fromCharCode(...new Uint8Array(32).fill(size))),
    note: `note ${size}`,
  });

  it('keeps checkpoints/<log id>.json and never moves it back', async () => {
    const store = new MemoryClientStore();
    const memory = storeCheckpointMemory(store);
    expect(await memory.get('alpha')).toBeUndefined();
    await memory.put('alpha', value(5));
    await memory.put('alpha', value(3));
    await memory.put('alpha', value(5));
    expect(await memory.get('alpha')).toEqual(value(5));
    expect([...store.documents.keys()]).toEqual(['checkpoints/alpha.json']);
    expect(checkpointDocument('a/b')).toBe('checkpoints/a%2Fb.json');
  });

  it.each(['not json', '{"size":1,"root":"AAAA","note":"x"}', '{"size":-1,"root":"","note":"x"}', '[]'])(
    'reads %s as state.corrupt',
    async (text) => {
      const store = new MemoryClientStore();
      await store.write('checkpoints/alpha.json', text);
      await expect(storeCheckpointMemory(store).get('alpha')).rejects.toMatchObject({
        code: 'state.corrupt',
      });
    },
  );
});

describe('verifyCheckpoint, a property', () => {
  it('accepts the checkpoints of one log in any order, remembering the largest seen so far', async () => {
    const { notes, trust, alpha } = setUp();
    const sizes = [2, 5, 9, 16];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
        async (order) => {
          const memory = storeCheckpointMemory(new MemoryClientStore());
          const query = new QueryClient(alpha.url, fakeFetch([alpha]), { portal: 'alpha' });
          let largest = 0;
          for (const i of order) {
            await verifyCheckpoint(notes[i]!, { owner: trust.home, trust, query, logName: 'self', memory });
            largest = Math.max(largest, sizes[i]!);
            expect((await memory.get('alpha'))?.size).toBe(largest);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('verifyCheckpoint, required outside witnesses (issue #18)', () => {
  const outside = witnessSigner('witness.example/outside', nobleEd25519);
  const stranger = witnessSigner('witness.example/stranger', nobleEd25519);

  it('accepts a checkpoint cosigned by every required witness, refuses one without (verify.quorum), remembering nothing', async () => {
    const { notes, trust, verify, memory } = setUp(2);
    const requiring: PortalTrust = { ...trust, requiredWitnesses: [outside.verifierKey.text] };
    const without = await failure(verify(notes[1]!, { trust: requiring }));
    expect(without).toMatchObject({ code: 'verify.quorum', check: 'required witnesses' });
    expect(without.message).toMatch(/witness\.example\/outside/);
    // A cosignature by another key with the same role does not stand in for it.
    expect(
      await failure(verify(addCosignature(notes[1]!, stranger, 1_900_000_000), { trust: requiring })),
    ).toMatchObject({ code: 'verify.quorum' });
    expect(await memory.get('alpha')).toBeUndefined();
    const cosigned = addCosignature(notes[1]!, outside, 1_900_000_000);
    expect((await verify(cosigned, { trust: requiring })).size).toBe(5);
    expect(await memory.get('alpha')).toMatchObject({ size: 5 });
  });

  it('keeps the required witnesses in trust.json and refuses a malformed list', () => {
    const { trust } = setUp(2);
    const requiring: PortalTrust = { ...trust, requiredWitnesses: [outside.verifierKey.text] };
    expect(trustFromJson(trustToJson(requiring))).toEqual(requiring);
    const bad = JSON.parse(trustToJson(requiring)) as Record<string, unknown>;
    bad['requiredWitnesses'] = ['not a key'];
    expect(() => trustFromJson(JSON.stringify(bad))).toThrow(/requiredWitnesses/);
  });
});
