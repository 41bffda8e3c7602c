import type { HashPlan, NodeId } from './hash-reader';
import { LogError } from './log-error';
import { EMPTY_ROOT, hashChildren, isPowerOfTwo, splitPoint, type Hash } from './tree-hasher';

/**
 * MTH(D[begin:end]) — the RFC 9162 §2.1.1 root of the entries [begin, end) taken as a tree of
 * their own — computed from stored nodes. This one function gives the root of the log at any
 * size (begin = 0), the part digest of DESIGN.md (begin = first_n) and every sibling hash of the
 * proofs of RFC 9162 §2.1.3–2.1.4, which are all MTH of sub-lists.
 *
 * The recursion is RFC 9162's own: split at k, the largest power of two below the length, until a
 * piece is a perfect subtree that is also aligned in the whole log (a stored node). For ranges
 * produced by the proof algorithms, and for any `begin = 0`, that needs O(log n) stored nodes. A
 * range whose start is not aligned (a part starting at an odd index) has no stored interior nodes
 * in common with the log's tree, and needs up to `end − begin` leaf hashes: the cost of
 * recomputing the part digest from storage rather than accumulating it while sealing.
 *
 * MUST throw `tree.range` unless 0 ≤ begin ≤ end; the plan MUST be built with the hashes of exactly
 * its ids (`store.missing-node` otherwise).
 */
export function planRangeHash(begin: number, end: number): HashPlan<Hash> {
  const multi = planRangeHashes([[begin, end]]);
  return { ids: multi.ids, build: (hashes) => multi.build(hashes)[0]! };
}

/** One plan for several ranges, so that a proof is read in a single batch. Same contract as `planRangeHash`. */
export function planRangeHashes(ranges: readonly (readonly [number, number])[]): HashPlan<Hash[]> {
  const ids: NodeId[] = [];
  for (const [begin, end] of ranges) {
    checkRange(begin, end);
    collect(begin, end - begin, ids);
  }
  return {
    ids,
    build(hashes) {
      const cursor = { at: 0 };
      const roots = ranges.map(([begin, end]) => build(begin, end - begin, hashes, cursor));
      if (cursor.at !== hashes.length) {
        throw new LogError('store.missing-node', 'hash reader returned more hashes than requested', {
          expected: String(cursor.at),
          seen: String(hashes.length),
        });
      }
      return roots;
    },
  };
}

function checkRange(begin: number, end: number): void {
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
    throw new LogError('tree.range', `invalid entry range [${begin}, ${end})`);
  }
}

function isStoredNode(begin: number, n: number): boolean {
  return isPowerOfTwo(n) && begin % n === 0;
}

function collect(begin: number, n: number, ids: NodeId[]): void {
  if (n === 0) return;
  if (isStoredNode(begin, n)) {
    ids.push({ level: Math.round(Math.log2(n)), index: begin / n });
    return;
  }
  const k = splitPoint(n);
  collect(begin, k, ids);
  collect(begin + k, n - k, ids);
}

function build(begin: number, n: number, hashes: readonly Hash[], cursor: { at: number }): Hash {
  if (n === 0) return EMPTY_ROOT;
  if (isStoredNode(begin, n)) {
    const hash = hashes[cursor.at++];
    if (hash === undefined) {
      throw new LogError(
        'store.missing-node',
        `hash reader returned too few hashes (needed node for [${begin}, ${begin + n}))`,
      );
    }
    return hash;
  }
  const k = splitPoint(n);
  const left = build(begin, k, hashes, cursor);
  return hashChildren(left, build(begin + k, n - k, hashes, cursor));
}
