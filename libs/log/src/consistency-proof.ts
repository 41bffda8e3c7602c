import { bytesEqual, toBase64 } from './bytes';
import { resolvePlan, type HashPlan, type HashReader } from './hash-reader';
import { LogError } from './log-error';
import { planRangeHashes } from './range-hash';
import { HASH_SIZE, hashChildren, isPowerOfTwo, splitPoint, type Hash } from './tree-hasher';

/**
 * The sub-ranges whose MTH make up PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1),
 * in proof order. Empty when m = 0 or m = n (nothing to prove). MUST throw `tree.range` unless
 * 0 ≤ m ≤ n.
 */
export function consistencyProofRanges(first: number, second: number): [number, number][] {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) {
    throw new LogError('tree.range', `no consistency proof from size ${first} to size ${second}`);
  }
  const ranges: [number, number][] = [];
  if (first === 0 || first === second) return ranges;
  const subproof = (m: number, begin: number, end: number, complete: boolean): void => {
    const n = end - begin;
    if (m === n) {
      // The old tree is this whole subtree: the verifier knows its hash only if it is the old root.
      if (!complete) ranges.push([begin, end]);
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      subproof(m, begin, begin + k, complete);
      ranges.push([begin + k, end]);
    } else {
      subproof(m - k, begin + k, end, false);
      ranges.push([begin, begin + k]);
    }
  };
  subproof(first, 0, second, true);
  return ranges;
}

/**
 * The stored nodes a consistency proof needs, and how to assemble it (one batch read). Same errors as
 * `consistencyProofRanges`; the plan MUST be built with the hashes of exactly its ids.
 */
export function planConsistencyProof(first: number, second: number): HashPlan<Hash[]> {
  return planRangeHashes(consistencyProofRanges(first, second));
}

/**
 * The RFC 9162 §2.1.4.1 consistency proof from the tree of `first` entries to the tree of
 * `second` entries, from stored nodes of a tree of at least `second` entries. MUST reject with
 * `tree.range` unless 0 ≤ first ≤ second, and `store.missing-node` if a node is missing.
 */
export async function consistencyProof(reader: HashReader, first: number, second: number): Promise<Hash[]> {
  return resolvePlan(reader, planConsistencyProof(first, second));
}

/**
 * The two roots a consistency proof yields (RFC 9162 §2.1.4.2 steps 1–6): `firstRoot`, the root it
 * implies for the old size, and `secondRoot`, the root for the new size. If the old size is a power
 * of two the proof omits the old root and `knownFirstRoot` is used in its place (step 2). MUST throw
 * `proof.invalid` for a proof of the wrong shape or unless 0 < first < second.
 */
export function rootsFromConsistencyProof(
  first: number,
  second: number,
  proof: readonly Hash[],
  knownFirstRoot: Hash,
): { firstRoot: Hash; secondRoot: Hash } {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first <= 0 || first >= second) {
    throw new LogError(
      'proof.invalid',
      `no consistency proof computes roots from size ${first} to ${second}`,
    );
  }
  if (proof.some((p) => p.length !== HASH_SIZE) || knownFirstRoot.length !== HASH_SIZE) {
    throw new LogError('proof.invalid', `consistency proof hashes must be ${HASH_SIZE} bytes`);
  }
  const expectedLength = consistencyProofRanges(first, second).length;
  if (proof.length !== expectedLength) {
    throw new LogError('proof.invalid', `consistency proof from ${first} to ${second} has the wrong length`, {
      expected: String(expectedLength),
      seen: String(proof.length),
    });
  }
  const path = isPowerOfTwo(first) ? [knownFirstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0)
      throw new LogError('proof.invalid', `consistency proof from ${first} to ${second} is too long`);
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0)
    throw new LogError('proof.invalid', `consistency proof from ${first} to ${second} is too short`);
  return { firstRoot: fr, secondRoot: sr };
}

/**
 * Verifies that the tree of `first` entries with root `firstRoot` is a prefix of the tree of
 * `second` entries with root `secondRoot` (RFC 9162 §2.1.4.2). For first = second the proof MUST
 * be empty and the roots equal; for first = 0 the proof MUST be empty (the empty tree is a prefix of
 * every tree). Returns normally on success; MUST throw LogError `proof.invalid`, with what was
 * expected and what the proof yields, on any mismatch.
 */
export function verifyConsistency(
  first: number,
  second: number,
  proof: readonly Hash[],
  firstRoot: Hash,
  secondRoot: Hash,
): void {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 0 || first > second) {
    throw new LogError('proof.invalid', `a tree of size ${second} cannot extend a tree of size ${first}`);
  }
  if (first === 0 || first === second) {
    if (proof.length !== 0) {
      throw new LogError('proof.invalid', `consistency proof from ${first} to ${second} must be empty`, {
        expected: '0',
        seen: String(proof.length),
      });
    }
    if (first === second && !bytesEqual(firstRoot, secondRoot)) {
      throw new LogError('proof.invalid', `two trees of size ${first} have different roots`, {
        expected: toBase64(firstRoot),
        seen: toBase64(secondRoot),
      });
    }
    return;
  }
  const roots = rootsFromConsistencyProof(first, second, proof, firstRoot);
  if (!bytesEqual(roots.firstRoot, firstRoot)) {
    throw new LogError('proof.invalid', `consistency proof does not lead to the root of size ${first}`, {
      expected: toBase64(firstRoot),
      seen: toBase64(roots.firstRoot),
    });
  }
  if (!bytesEqual(roots.secondRoot, secondRoot)) {
    throw new LogError('proof.invalid', `consistency proof does not lead to the root of size ${second}`, {
      expected: toBase64(secondRoot),
      seen: toBase64(roots.secondRoot),
    });
  }
}
