import fc from 'fast-check';
import vectors from '../testdata/rfc6962-vectors.json';
import { fromHex } from './bytes';
import { consistencyProof, rootsFromConsistencyProof, verifyConsistency } from './consistency-proof';
import { MerkleTree } from './merkle-tree';
import { EMPTY_ROOT, type Hash } from './tree-hasher';
import { withCode as code } from '../testdata/with-code';

const rootOf = (size: number): Hash => fromHex(vectors.roots[size]!.root);
const someHash = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[Math.floor(bit / 8) % out.length]! ^= 1 << (bit % 8);
  return out;
}

describe('verifyConsistency (RFC 9162 §2.1.4.2)', () => {
  it.each(vectors.consistency)(
    'accepts the published proof from $first to $second',
    ({ first, second, path }) => {
      expect(() =>
        verifyConsistency(first, second, path.map(fromHex), rootOf(first), rootOf(second)),
      ).not.toThrow();
    },
  );

  it.each(vectors.consistency.filter((v) => v.path.length > 0))(
    'rejects every corruption of the proof from $first to $second with proof.invalid',
    ({ first, second, path }) => {
      const proof = path.map(fromHex);
      const [r1, r2] = [rootOf(first), rootOf(second)];
      const probes: [number, number, Hash[], Hash, Hash][] = [
        [first - 1, second, proof, r1, r2],
        [first + 1, second, proof, r1, r2],
        [first ^ 2, second, proof, r1, r2],
        [first, second * 2, proof, r1, r2],
        [first, Math.floor(second / 2), proof, r1, r2],
        [first, second, proof, someHash, r2],
        [first, second, proof, r1, someHash],
        [first, second, proof, r2, r1],
        [first, second, [], r1, r2],
        [first, second, [...proof, r1], r1, r2],
        [first, second, [r2, ...proof], r1, r2],
        [first, second, [proof[0]!, ...proof], r1, r2],
        [first, second, proof.slice(0, -1), r1, r2],
        ...proof.map((_, i): [number, number, Hash[], Hash, Hash] => [
          first,
          second,
          proof.map((p, j) => (i === j ? flipBit(p, 4) : p)),
          r1,
          r2,
        ]),
      ];
      for (const [m, n, p, a, b] of probes)
        expect(() => verifyConsistency(m, n, p, a, b)).toThrow(code('proof.invalid'));
    },
  );

  it('handles the trivial cases as RFC 9162 and the Go reference do', () => {
    const [r1, r2] = [someHash, EMPTY_ROOT];
    expect(() => verifyConsistency(0, 0, [], r1, r1)).not.toThrow();
    expect(() => verifyConsistency(0, 1, [], r1, r2)).not.toThrow();
    expect(() => verifyConsistency(1, 1, [], r2, r2)).not.toThrow();
    expect(() => verifyConsistency(1, 1, [], r1, r2)).toThrow(code('proof.invalid'));
    expect(() => verifyConsistency(1, 0, [], r1, r2)).toThrow(code('proof.invalid'));
    expect(() => verifyConsistency(2, 1, [], r1, r2)).toThrow(code('proof.invalid'));
    expect(() => verifyConsistency(1, 2, [], r1, r2)).toThrow(code('proof.invalid'));
    expect(() => verifyConsistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT)).toThrow(
      code('proof.invalid'),
    );
    expect(() => verifyConsistency(1, 1, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT)).toThrow(
      code('proof.invalid'),
    );
    expect(() => rootsFromConsistencyProof(3, 3, [], r1)).toThrow(code('proof.invalid'));
  });

  it('verifies every proof of random logs, and fails on any one flipped bit (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 16 }), { minLength: 2, maxLength: 130 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (entries, x, y, bit) => {
          const tree = new MerkleTree();
          for (const e of entries) tree.append(e);
          const second = 2 + (y % (entries.length - 1));
          const first = 1 + (x % (second - 1));
          const proof = tree.consistencyProof(first, second);
          const [r1, r2] = [tree.rootAt(first), tree.rootAt(second)];
          verifyConsistency(first, second, proof, r1, r2);
          const target = bit % (proof.length + 2);
          const flipped = proof.map((p, i) => (i === target ? flipBit(p, bit) : p));
          const bad1 = target === proof.length ? flipBit(r1, bit) : r1;
          const bad2 = target === proof.length + 1 ? flipBit(r2, bit) : r2;
          expect(() => verifyConsistency(first, second, flipped, bad1, bad2)).toThrow(code('proof.invalid'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is generated from the HashReader port with one batch', async () => {
    const tree = new MerkleTree();
    for (let i = 0; i < 300; i++) tree.append(Uint8Array.of(i & 0xff, i >> 8));
    let calls = 0;
    const proof = await consistencyProof(
      { readNodes: (ids) => (calls++, tree.reader.readNodes(ids)) },
      123,
      300,
    );
    expect(calls).toBe(1);
    verifyConsistency(123, 300, proof, tree.rootAt(123), tree.root());
  });
});
