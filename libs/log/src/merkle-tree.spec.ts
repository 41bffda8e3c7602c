import fc from 'fast-check';
import vectors from '../testdata/rfc6962-vectors.json';
import {
  referenceConsistencyProof,
  referenceInclusionProof,
  referenceRoot,
} from '../testdata/reference-merkle';
import { fromHex, toHex } from './bytes';
import { EMPTY_ROOT, hashLeaf } from './tree-hasher';
import { MerkleTree } from './merkle-tree';
import { withCode as code } from '../testdata/with-code';

const leaves = vectors.leaves.map(fromHex);

function treeOf(entries: readonly Uint8Array[]): MerkleTree {
  const tree = new MerkleTree();
  for (const e of entries) tree.append(e);
  return tree;
}

/** Edge sizes of STYLE.md §7: 0, 1, 2^k − 1, 2^k, 2^k + 1. */
const EDGE_SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129];

function entriesOf(n: number, salt = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => Uint8Array.of(i & 0xff, (i >> 8) & 0xff, salt));
}

describe('MerkleTree against the RFC 6962 known answers (testdata/rfc6962-vectors.json)', () => {
  it('gives the published root for every size 0–8, incrementally and at any earlier size', () => {
    const tree = new MerkleTree();
    for (const { size, root } of vectors.roots) {
      while (tree.size < size) tree.append(leaves[tree.size]!);
      expect(toHex(tree.root())).toBe(root);
    }
    for (const { size, root } of vectors.roots) expect(toHex(tree.rootAt(size))).toBe(root);
  });

  it('gives the published inclusion proofs', () => {
    const tree = treeOf(leaves);
    for (const { index, size, path } of vectors.inclusion) {
      expect(tree.inclusionProof(index, size).map(toHex)).toEqual(path);
    }
  });

  it('gives the published consistency proofs', () => {
    const tree = treeOf(leaves);
    for (const { first, second, path } of vectors.consistency) {
      expect(tree.consistencyProof(first, second).map(toHex)).toEqual(path);
    }
  });

  it('hashes the empty tree as SHA-256 of the empty string', () => {
    expect(toHex(new MerkleTree().root())).toBe(toHex(EMPTY_ROOT));
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('MerkleTree against the naive RFC 9162 reference', () => {
  it.each(EDGE_SIZES)('matches the reference root, proofs and sub-ranges at size %i', (n) => {
    const entries = entriesOf(n);
    const tree = treeOf(entries);
    expect(tree.size).toBe(n);
    expect(toHex(tree.root())).toBe(toHex(referenceRoot(entries)));
    for (let m = 0; m <= n; m++) {
      expect(toHex(tree.rootAt(m))).toBe(toHex(referenceRoot(entries.slice(0, m))));
      expect(tree.consistencyProof(m, n).map(toHex)).toEqual(
        referenceConsistencyProof(m, entries).map(toHex),
      );
    }
    for (let i = 0; i < n; i++) {
      expect(tree.inclusionProof(i, n).map(toHex)).toEqual(referenceInclusionProof(i, entries).map(toHex));
    }
  });

  it('matches the reference for random logs, sizes and sub-ranges (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 150 }),
        fc.nat(),
        fc.nat(),
        (entries, x, y) => {
          const tree = treeOf(entries);
          const n = entries.length;
          const a = n === 0 ? 0 : x % (n + 1);
          const b = a + (n === 0 ? 0 : y % (n - a + 1));
          expect(toHex(tree.root())).toBe(toHex(referenceRoot(entries)));
          expect(toHex(tree.rangeRoot(a, b))).toBe(toHex(referenceRoot(entries.slice(a, b))));
          expect(toHex(tree.rootAt(b))).toBe(toHex(referenceRoot(entries.slice(0, b))));
          if (a < b) {
            expect(tree.inclusionProof(a, b).map(toHex)).toEqual(
              referenceInclusionProof(a, entries.slice(0, b)).map(toHex),
            );
          }
          expect(tree.consistencyProof(a, b).map(toHex)).toEqual(
            referenceConsistencyProof(a, entries.slice(0, b)).map(toHex),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('appendLeafHash and append agree', () => {
    const a = treeOf(entriesOf(37));
    const b = new MerkleTree();
    for (const e of entriesOf(37)) b.appendLeafHash(hashLeaf(e));
    expect(toHex(a.root())).toBe(toHex(b.root()));
  });

  it('refuses sizes beyond the tree with tree.range', () => {
    const tree = treeOf(entriesOf(5));
    expect(() => tree.rootAt(6)).toThrow(code('tree.range'));
    expect(() => tree.inclusionProof(5, 5)).toThrow(code('tree.range'));
    expect(() => tree.inclusionProof(0, 6)).toThrow(code('tree.range'));
    expect(() => tree.consistencyProof(4, 3)).toThrow(code('tree.range'));
    expect(() => tree.rangeRoot(3, 2)).toThrow(code('tree.range'));
  });
});
