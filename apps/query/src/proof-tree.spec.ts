import fc from 'fast-check';
import {
  MerkleTree,
  consistencyProof,
  consistencyProofRanges,
  inclusionProof,
  inclusionProofRanges,
  toBase64,
  type Hash,
  type HashReader,
  type NodeId,
} from '@cryptomesh/log';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { FILL_CHUNK, ProofTree, type LevelReader } from './proof-tree';
import type { PublishedLog } from './published-log';
import { ServedLog, type SealCosignatures } from './served-log';

const NO_COSIGNATURES: SealCosignatures = {
  of: () => Promise.resolve([]),
  parts: () => Promise.resolve([]),
  witnessKeys: () => Promise.resolve([]),
};

/** A log of `size` entries as the database holds it: every stored node, and a count of its reads. */
function storedLog(size: number) {
  const tree = new MerkleTree();
  for (let i = 0; i < size; i++) tree.append(Uint8Array.of(i & 0xff, i >> 8, 7));
  const store = tree.reader;
  const reads = { levels: 0, nodes: 0 };
  const readLevel: LevelReader = (level, start, end) => {
    reads.levels++;
    const ids: NodeId[] = [];
    for (let index = start; index < Math.min(end, store.count(level)); index++) ids.push({ level, index });
    return Promise.resolve(store.readNodes(ids));
  };
  const database: HashReader = {
    readNodes: (ids) => {
      reads.nodes += ids.length;
      return Promise.resolve(store.readNodes(ids));
    },
  };
  return { tree, readLevel, database, reads };
}

const MIB = 2 ** 20;

describe('ProofTree (query.md "Proof tree")', () => {
  it('gives the proofs of the stored tree, from memory alone once it covers the size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 600 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 12 }),
        async (size, asks) => {
          const log = storedLog(size);
          const tree = new ProofTree(() => MIB, log.readLevel);
          const outcome = await tree.extend(size, log.tree.rootAt(size), log.database);
          expect(outcome).toEqual({ kind: 'extended', entries: size });
          expect(tree.covered).toBe(size);
          log.reads.nodes = 0;
          for (const [a, b] of asks) {
            const n = 1 + (b % size);
            const index = a % n;
            expect(await inclusionProof(tree.reader(log.database), index, n)).toEqual(
              log.tree.inclusionProof(index, n),
            );
            const from = a % (n + 1);
            expect(await consistencyProof(tree.reader(log.database), from, n)).toEqual(
              log.tree.consistencyProof(from, n),
            );
          }
          expect(log.reads.nodes).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps only the upper levels when the budget is small, and reads the rest from the database', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 64, max: 3000 }),
        fc.integer({ min: 5, max: 95 }),
        fc.nat(),
        async (size, percent, a) => {
          // Less than the 64 bytes an entry the whole tree needs.
          const budget = Math.floor((64 * size * percent) / 100);
          const log = storedLog(size);
          const tree = new ProofTree(() => budget, log.readLevel);
          await tree.extend(size, log.tree.rootAt(size), log.database);
          expect(tree.bytes).toBeLessThanOrEqual(budget);
          expect(tree.lowestLevel).toBeGreaterThan(0);
          const index = a % size;
          expect(await inclusionProof(tree.reader(log.database), index, size)).toEqual(
            log.tree.inclusionProof(index, size),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it('grows with each seal, reading only the new nodes', async () => {
    const log = storedLog(FILL_CHUNK + 300);
    const tree = new ProofTree(() => MIB, log.readLevel);
    await tree.extend(100, log.tree.rootAt(100), log.database);
    expect(log.reads.levels).toBe(1);
    expect(await tree.extend(100, log.tree.rootAt(100), log.database)).toEqual({ kind: 'current' });
    expect(log.reads.levels).toBe(1);
    // Beyond one chunk: two statements for the new nodes.
    expect(await tree.extend(FILL_CHUNK + 300, log.tree.rootAt(FILL_CHUNK + 300), log.database)).toEqual({
      kind: 'extended',
      entries: FILL_CHUNK + 200,
    });
    expect(log.reads.levels).toBe(3);
    expect(tree.range(8, 0, 32)).toEqual(concat(log.tree.reader.readNodes(ids(8, 0, 32))));
    expect(tree.range(0, FILL_CHUNK, 300)).toEqual(
      concat(log.tree.reader.readNodes(ids(0, FILL_CHUNK, 300))),
    );
    expect(tree.range(0, FILL_CHUNK, 301)).toBeUndefined();
  });

  it('gives readers no node before the fill that wrote it has checked the root, and fills once at a time', async () => {
    const log = storedLog(FILL_CHUNK * 2);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const slow: LevelReader = async (level, start, end) => {
      calls++;
      if (start > 0) await gate;
      return log.readLevel(level, start, end);
    };
    const tree = new ProofTree(() => 4 * MIB, slow);
    const root = log.tree.rootAt(FILL_CHUNK * 2);
    const first = tree.extend(FILL_CHUNK * 2, root, log.database);
    const second = tree.extend(FILL_CHUNK * 2, root, log.database);
    await until(() => calls === 2);
    // The first chunk is written, not yet checked: nothing of it is served.
    expect(tree.covered).toBe(0);
    expect(tree.node(0, 0)).toBeUndefined();
    expect(tree.rangeRoots([[0, 1]])).toBeUndefined();
    expect(tree.rangeRoots([[0, FILL_CHUNK]])).toBeUndefined();
    expect(tree.rangeRoots(inclusionProofRanges(5, FILL_CHUNK - 3))).toBeUndefined();
    release();
    expect(await first).toEqual({ kind: 'extended', entries: FILL_CHUNK * 2 });
    expect(await second).toEqual(await first);
    expect(calls).toBe(2);
    expect(tree.node(0, 0)).toEqual(log.tree.reader.readNodes([{ level: 0, index: 0 }])[0]);
  });

  it('turns itself off when the stored nodes do not give the root the seal signed', async () => {
    const log = storedLog(40);
    const corrupt: LevelReader = async (level, start, end) => {
      const hashes = await log.readLevel(level, start, end);
      return hashes.map((h, i) => (start + i === 17 ? flip(h) : h));
    };
    const tree = new ProofTree(() => MIB, corrupt);
    expect(await tree.extend(40, log.tree.rootAt(40), log.database)).toEqual({ kind: 'mismatch', size: 40 });
    expect(tree.isDisabled).toBe(true);
    expect(tree.covered).toBe(0);
    expect(tree.bytes).toBe(0);
    // Proofs now come from the database, and they are right.
    expect(await inclusionProof(tree.reader(log.database), 17, 40)).toEqual(log.tree.inclusionProof(17, 40));
    expect(log.reads.nodes).toBeGreaterThan(0);
    expect(await tree.extend(40, log.tree.rootAt(40), log.database)).toEqual({ kind: 'disabled' });
  });

  it('refuses a level read that comes back short, and fills on the next try', async () => {
    const log = storedLog(50);
    let short = true;
    const flaky: LevelReader = async (level, start, end) => {
      const hashes = await log.readLevel(level, start, end);
      return short ? hashes.slice(1) : hashes;
    };
    const tree = new ProofTree(() => MIB, flaky);
    await expect(tree.extend(50, log.tree.rootAt(50), log.database)).rejects.toThrow(/not all stored/);
    expect(tree.covered).toBe(0);
    short = false;
    expect(await tree.extend(50, log.tree.rootAt(50), log.database)).toEqual({
      kind: 'extended',
      entries: 50,
    });
  });
});

describe('ProofTree across seals', () => {
  it('never shows what a failed fill wrote, even to a later, smaller fill', async () => {
    const log = storedLog(20_000);
    let failAt: number | undefined = 2 * FILL_CHUNK;
    const flaky: LevelReader = async (level, start, end) => {
      if (failAt !== undefined && start >= failAt) throw new Error('connection lost');
      const hashes = await log.readLevel(level, start, end);
      return hashes.map((h, i) => (start + i === 9000 ? flip(h) : h));
    };
    const tree = new ProofTree(() => 4 * MIB, flaky);
    await tree.extend(100, log.tree.rootAt(100), log.database);
    await expect(tree.extend(20_000, log.tree.rootAt(20_000), log.database)).rejects.toThrow(
      /connection lost/,
    );
    expect(tree.covered).toBe(100);
    // A request holding an older snapshot asks for 5,000: the corrupted node 9,000 stays unseen.
    expect(await tree.extend(5000, log.tree.rootAt(5000), log.database)).toEqual({
      kind: 'extended',
      entries: 4900,
    });
    expect(tree.covered).toBe(5000);
    expect(tree.node(0, 9000)).toBeUndefined();
    expect(tree.node(0, 4999)).toBeDefined();
    // Reading the corrupted node again, the fill to 20,000 finds the mismatch.
    failAt = undefined;
    expect(await tree.extend(20_000, log.tree.rootAt(20_000), log.database)).toEqual({
      kind: 'mismatch',
      size: 20_000,
    });
  });

  it('checks a seal once: with its floor above 0, an unaligned size reads nothing again', async () => {
    const log = storedLog(3001);
    const tree = new ProofTree(() => 64 * 3001 * 0.2, log.readLevel);
    await tree.extend(3001, log.tree.rootAt(3001), log.database);
    expect(tree.lowestLevel).toBeGreaterThan(0);
    expect(tree.checkedSize).toBe(3001);
    const before = { ...log.reads };
    for (let i = 0; i < 5; i++)
      expect(await tree.extend(3001, log.tree.rootAt(3001), log.database)).toEqual({ kind: 'current' });
    expect(log.reads).toEqual(before);
  });

  it('keeps giving the stored proofs while its floor rises seal after seal', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 2, maxLength: 8 }),
        fc.integer({ min: 2000, max: 40_000 }),
        fc.nat(),
        async (growths, budget, a) => {
          const sizes = growths.map((_, i) => growths.slice(0, i + 1).reduce((x, y) => x + y, 0));
          const log = storedLog(sizes[sizes.length - 1]!);
          const tree = new ProofTree(() => budget, log.readLevel);
          for (const size of sizes) {
            await tree.extend(size, log.tree.rootAt(size), log.database);
            expect(tree.checkedSize).toBe(size);
            const index = a % size;
            expect(await inclusionProof(tree.reader(log.database), index, size)).toEqual(
              log.tree.inclusionProof(index, size),
            );
            expect(await consistencyProof(tree.reader(log.database), index, size)).toEqual(
              log.tree.consistencyProof(index, size),
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('ProofTree.rangeRoots', () => {
  it("gives every proof's path from memory, the right edge's roots kept per seal, across growth", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        async (growths, picks) => {
          const sizes = growths.map((_, i) => growths.slice(0, i + 1).reduce((x, y) => x + y, 0));
          const log = storedLog(sizes[sizes.length - 1]!);
          const tree = new ProofTree(() => MIB, log.readLevel);
          for (const size of sizes) {
            await tree.extend(size, log.tree.rootAt(size), log.database);
            // Twice over: the second pass takes the edge's roots from what the first kept.
            for (const pass of [1, 2]) {
              for (const pick of picks) {
                const n = pass === 1 ? size : 1 + (pick % size);
                const index = pick % n;
                expect(tree.rangeRoots(inclusionProofRanges(index, n))).toEqual(
                  log.tree.inclusionProof(index, n),
                );
                const from = pick % (n + 1);
                expect(tree.rangeRoots(consistencyProofRanges(from, n))).toEqual(
                  log.tree.consistencyProof(from, n),
                );
              }
            }
          }
          expect(log.reads.nodes).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives nothing it does not hold: beyond the checked size, or below the floor', async () => {
    const log = storedLog(1000);
    const tree = new ProofTree(() => 16 * 64, log.readLevel);
    await tree.extend(600, log.tree.rootAt(600), log.database);
    expect(tree.lowestLevel).toBeGreaterThan(0);
    expect(tree.rangeRoots(inclusionProofRanges(5, 600))).toBeUndefined();
    expect(tree.rangeRoots([[0, 512]])).toEqual([log.tree.rootAt(512)]);
    expect(tree.rangeRoots(inclusionProofRanges(5, 700))).toBeUndefined();
  });
});

describe('ServedLog with a proof tree', () => {
  it("proves a profile answer's entry from the tree: the entry is its only read", async () => {
    const log = storedLog(300);
    const tree = new ProofTree(() => MIB, log.readLevel);
    await tree.extend(300, log.tree.rootAt(300), log.database);
    const entry = Uint8Array.of(42);
    const refused = (): never => {
      throw new Error('read from the database');
    };
    const published = {
      entries: (start: number, end: number) => Promise.resolve(end === start + 1 ? [entry] : []),
      entryWithNodes: refused,
      readNodes: refused,
    } as unknown as PublishedLog;
    const served = new ServedLog('self', published, NO_COSIGNATURES, nodeEd25519, undefined, tree);
    const seal = { part: 2, first: 200, size: 300, timeMs: 1, note: 'n\n' };
    const answer = await served.entryWithProof(123, seal);
    expect(answer.entry).toBe(entry);
    expect(answer.proof).toEqual({
      index: 123,
      size: 300,
      path: log.tree.inclusionProof(123, 300).map((h) => toBase64(h)),
    });
  });
});

function ids(level: number, start: number, count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => ({ level, index: start + i }));
}

function concat(hashes: readonly Hash[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}

function flip(hash: Hash): Hash {
  const out = hash.slice();
  out[0]! ^= 1;
  return out;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
