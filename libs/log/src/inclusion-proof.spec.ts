import fc from 'fast-check';
import vectors from '../testdata/rfc6962-vectors.json';
import { fromHex } from './bytes';
import type { HashReader, NodeId } from './hash-reader';
import { inclusionProof, rootFromInclusionProof, verifyInclusion } from './inclusion-proof';
import { MerkleTree } from './merkle-tree';
import { hashLeaf, type Hash } from './tree-hasher';
import { withCode as code } from '../testdata/with-code';

const leaves = vectors.leaves.map(fromHex);
const rootOf = (size: number): Hash => fromHex(vectors.roots[size]!.root);

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[Math.floor(bit / 8) % out.length]! ^= 1 << (bit % 8);
  return out;
}

describe('verifyInclusion (RFC 9162 §2.1.3.2)', () => {
  it.each(vectors.inclusion)(
    'accepts the published proof for entry $index of $size',
    ({ index, size, path }) => {
      const proof = path.map(fromHex);
      expect(() => verifyInclusion(index, size, hashLeaf(leaves[index]!), proof, rootOf(size))).not.toThrow();
    },
  );

  it.each(vectors.inclusion.filter((v) => v.path.length > 0))(
    'rejects every corruption of the proof for entry $index of $size with proof.invalid',
    ({ index, size, path }) => {
      const proof = path.map(fromHex);
      const leaf = hashLeaf(leaves[index]!);
      const root = rootOf(size);
      const probes: [number, number, Hash, Hash[], Hash][] = [
        [index + 1, size, leaf, proof, root],
        [index ^ 2, size, leaf, proof, root],
        [index, size * 2, leaf, proof, root],
        [index, size, hashLeaf(Uint8Array.of(1, 2, 3)), proof, root],
        [index, size, leaf, proof, rootOf(0)],
        [index, size, leaf, [...proof, root], root],
        [index, size, leaf, [root, ...proof], root],
        [index, size, leaf, proof.slice(0, -1), root],
      ];
      if (index > 0) probes.push([index - 1, size, leaf, proof, root]);
      if (size > 1) probes.push([index, Math.floor(size / 2), leaf, proof, root]);
      for (const [i, n, l, p, r] of probes)
        expect(() => verifyInclusion(i, n, l, p, r)).toThrow(code('proof.invalid'));
      expect(() =>
        verifyInclusion(index, size, leaf, [...proof.slice(0, -1), new Uint8Array(0)], root),
      ).toThrow(code('proof.invalid'));
    },
  );

  it('rejects an index outside the tree', () => {
    const leaf = hashLeaf(leaves[0]!);
    for (const [i, n] of [
      [0, 0],
      [1, 1],
      [2, 1],
      [-1, 4],
    ] as const) {
      expect(() => rootFromInclusionProof(i, n, leaf, [])).toThrow(code('proof.invalid'));
    }
  });

  it('verifies every proof of random logs, and fails on any one flipped bit (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 24 }), { minLength: 1, maxLength: 120 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (entries, x, y, bit) => {
          const tree = new MerkleTree();
          for (const e of entries) tree.append(e);
          const size = 1 + (y % entries.length);
          const index = x % size;
          const proof = tree.inclusionProof(index, size);
          const leaf = hashLeaf(entries[index]!);
          const root = tree.rootAt(size);
          verifyInclusion(index, size, leaf, proof, root);
          // One flipped bit anywhere: in a proof element, the leaf hash or the root.
          const target = bit % (proof.length + 2);
          const flipped = proof.map((p, i) => (i === target ? flipBit(p, bit) : p));
          const badLeaf = target === proof.length ? flipBit(leaf, bit) : leaf;
          const badRoot = target === proof.length + 1 ? flipBit(root, bit) : root;
          expect(() => verifyInclusion(index, size, badLeaf, flipped, badRoot)).toThrow(
            code('proof.invalid'),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('inclusionProof over the HashReader port', () => {
  it('reads every node of a proof in one batch from an async reader', async () => {
    const tree = new MerkleTree();
    for (let i = 0; i < 1000; i++) tree.append(Uint8Array.of(i & 0xff, i >> 8));
    const batches: NodeId[][] = [];
    const reader: HashReader = {
      readNodes: async (ids) => {
        batches.push([...ids]);
        return Promise.resolve(tree.reader.readNodes(ids));
      },
    };
    const proof = await inclusionProof(reader, 617, 999);
    expect(batches).toHaveLength(1);
    expect(proof).toEqual(tree.inclusionProof(617, 999));
    verifyInclusion(617, 999, hashLeaf(Uint8Array.of(617 & 0xff, 617 >> 8)), proof, tree.rootAt(999));
  });

  it('fails with store.missing-node when the store lacks a node', async () => {
    const tree = new MerkleTree();
    for (let i = 0; i < 4; i++) tree.append(Uint8Array.of(i));
    await expect(inclusionProof(tree.reader, 0, 8)).rejects.toThrow(code('store.missing-node'));
    const short: HashReader = { readNodes: () => [] };
    await expect(inclusionProof(short, 0, 4)).rejects.toThrow(code('store.missing-node'));
  });
});
