import { toBase64, bytesEqual } from './bytes';
import { resolvePlan, type HashPlan, type HashReader } from './hash-reader';
import { LogError } from './log-error';
import { planRangeHashes } from './range-hash';
import { HASH_SIZE, hashChildren, splitPoint, type Hash } from './tree-hasher';

/**
 * The sub-ranges whose MTH make up PATH(m, D[n]) (RFC 9162 §2.1.3.1), in proof order (the sibling
 * nearest the leaf first). MUST throw `tree.range` unless 0 ≤ index < size.
 */
export function inclusionProofRanges(index: number, size: number): [number, number][] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new LogError('tree.range', `no inclusion proof for entry ${index} in a tree of size ${size}`);
  }
  const ranges: [number, number][] = [];
  const path = (m: number, begin: number, end: number): void => {
    const n = end - begin;
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      path(m, begin, begin + k);
      ranges.push([begin + k, end]);
    } else {
      path(m - k, begin + k, end);
      ranges.push([begin, begin + k]);
    }
  };
  path(index, 0, size);
  return ranges;
}

/**
 * The stored nodes an inclusion proof needs, and how to assemble it (one batch read). Same errors as
 * `inclusionProofRanges`; the plan MUST be built with the hashes of exactly its ids.
 */
export function planInclusionProof(index: number, size: number): HashPlan<Hash[]> {
  return planRangeHashes(inclusionProofRanges(index, size));
}

/**
 * The RFC 9162 §2.1.3.1 inclusion proof of entry `index` in the tree of `size` entries, from the
 * stored nodes of a tree of at least `size` entries. MUST reject with `tree.range` for an index
 * outside the tree, and with `store.missing-node` if the reader lacks a node.
 */
export async function inclusionProof(reader: HashReader, index: number, size: number): Promise<Hash[]> {
  return resolvePlan(reader, planInclusionProof(index, size));
}

/**
 * The root that `proof` yields for `leafHash` at `index` in a tree of `size` — RFC 9162 §2.1.3.2
 * steps 1–4. MUST throw `proof.invalid` when the proof has the wrong length for (index, size), an
 * element is not 32 bytes, or the index is outside the tree.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Hash,
  proof: readonly Hash[],
): Hash {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new LogError('proof.invalid', `entry ${index} is not inside a tree of size ${size}`);
  }
  if (leafHash.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) {
    throw new LogError('proof.invalid', `inclusion proof hashes must be ${HASH_SIZE} bytes`);
  }
  // fn and sn exceed 32 bits in a large log, so shifts are divisions.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw tooLong(index, size, proof.length);
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) {
    throw new LogError('proof.invalid', `inclusion proof for entry ${index} of ${size} is too short`, {
      expected: String(inclusionProofRanges(index, size).length),
      seen: String(proof.length),
    });
  }
  return r;
}

/**
 * Verifies that `leafHash` is entry `index` of the tree of `size` entries whose root is `root`
 * (RFC 9162 §2.1.3.2). Returns normally on success; MUST throw LogError `proof.invalid` — with the
 * expected root and the root the proof yields — on any mismatch.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Hash,
  proof: readonly Hash[],
  root: Hash,
): void {
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  if (!bytesEqual(computed, root)) {
    throw new LogError(
      'proof.invalid',
      `inclusion proof for entry ${index} of ${size} does not lead to the root`,
      {
        expected: toBase64(root),
        seen: toBase64(computed),
      },
    );
  }
}

function tooLong(index: number, size: number, length: number): LogError {
  return new LogError('proof.invalid', `inclusion proof for entry ${index} of ${size} is too long`, {
    expected: String(inclusionProofRanges(index, size).length),
    seen: String(length),
  });
}
