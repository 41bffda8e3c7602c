import type { NodeId, StoredNode } from './hash-reader';
import { LogError } from './log-error';
import { EMPTY_ROOT, HASH_SIZE, hashChildren, hashLeaf, type Hash } from './tree-hasher';

/**
 * The compact range of a tree's entries [0, size): the hashes of the perfect subtrees that the
 * binary decomposition of `size` splits it into, largest (leftmost) first — one per set bit of
 * `size`, so at most 53 hashes (transparency-dev/merkle docs/compact_ranges.md calls this the
 * compact range; CT's "frontier"). It is all the state needed to append in O(log n) and to compute
 * the root at the current size (RFC 9162 §2.1.1), which is how the log verifier checks a stream of
 * any length in constant memory and how the log-signer integrates entries.
 *
 * Each append reports the stored nodes it completes (the leaf and every perfect subtree it closes)
 * so that a caller keeping the full tree writes them to its node store (`hash-reader.ts`).
 *
 * Appends MUST be fed in entry order; a range MUST NOT be shared between concurrent writers (clone
 * it instead). `root()` MAY be called at any size and does not change the range.
 */
export class CompactRange {
  private readonly peaks: Hash[];
  private count: number;

  private constructor(size: number, peaks: Hash[]) {
    this.count = size;
    this.peaks = peaks;
  }

  /** The range of the empty tree. */
  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /**
   * Restores a range from its peak hashes (as returned by `hashes()` or read from storage at the
   * ids of `CompactRange.peakIds(size)`). MUST be given exactly one 32-byte hash per set bit of
   * `size`; throws `tree.range` otherwise.
   */
  static fromHashes(size: number, hashes: readonly Hash[]): CompactRange {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new LogError('tree.range', `invalid tree size ${size}`);
    const ids = CompactRange.peakIds(size);
    if (ids.length !== hashes.length || hashes.some((h) => h.length !== HASH_SIZE)) {
      throw new LogError(
        'tree.range',
        `a compact range of size ${size} has ${ids.length} hashes of ${HASH_SIZE} bytes`,
        {
          expected: String(ids.length),
          seen: String(hashes.length),
        },
      );
    }
    return new CompactRange(
      size,
      hashes.map((h) => h.slice()),
    );
  }

  /** The stored nodes whose hashes make up the compact range of [0, size), leftmost first. */
  static peakIds(size: number): NodeId[] {
    const ids: NodeId[] = [];
    let begin = 0;
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level;
      if (size - begin >= width) {
        ids.push({ level, index: begin / width });
        begin += width;
      }
    }
    return ids;
  }

  get size(): number {
    return this.count;
  }

  /** Copies of the peak hashes, leftmost first. */
  hashes(): Hash[] {
    return this.peaks.map((h) => h.slice());
  }

  clone(): CompactRange {
    return new CompactRange(this.count, this.peaks.slice());
  }

  /** Appends an entry (its exact bytes) and returns its leaf hash. */
  appendEntry(entry: Uint8Array, onStored?: (node: StoredNode) => void): Hash {
    const leaf = hashLeaf(entry);
    this.appendLeafHash(leaf, onStored);
    return leaf;
  }

  /**
   * Appends one leaf hash in O(log n): merges the new leaf with every peak it completes. Calls
   * `onStored` for the leaf and for each completed subtree, lowest level first, before returning.
   */
  appendLeafHash(leaf: Hash, onStored?: (node: StoredNode) => void): void {
    let hash = leaf;
    let index = this.count;
    let level = 0;
    onStored?.({ level, index, hash });
    // Each trailing 1 bit of the old size is a peak of the same width as `hash`, to its left.
    while (index % 2 === 1) {
      hash = hashChildren(this.peaks.pop()!, hash);
      index = (index - 1) / 2;
      level++;
      onStored?.({ level, index, hash });
    }
    this.peaks.push(hash);
    this.count++;
  }

  /** MTH of the entries [0, size): the peaks folded right to left (RFC 9162 §2.1.1). */
  root(): Hash {
    if (this.peaks.length === 0) return EMPTY_ROOT;
    let root = this.peaks[this.peaks.length - 1]!;
    for (let i = this.peaks.length - 2; i >= 0; i--) root = hashChildren(this.peaks[i]!, root);
    return root;
  }
}
