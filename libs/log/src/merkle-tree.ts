import { CompactRange } from './compact-range';
import { planConsistencyProof } from './consistency-proof';
import { resolvePlanSync } from './hash-reader';
import { planInclusionProof } from './inclusion-proof';
import { LogError } from './log-error';
import { MemoryHashStore } from './memory-hash-store';
import { planRangeHash } from './range-hash';
import type { Hash } from './tree-hasher';

/**
 * An incremental RFC 9162 §2.1 Merkle tree over a log's entries, kept in memory: a compact range
 * for O(log n) appends and the current root, plus every stored node (`hash-reader.ts`) for roots of
 * any earlier size, sub-range roots (part digests) and proofs. The log-signer builds the same thing
 * with its nodes in PostgreSQL from `CompactRange` and the `plan*` functions; this class is the
 * reference arrangement for tests, the CLI and mirrors that fit in memory.
 *
 * Every query MUST throw `tree.range` for a size beyond the current one (and the errors of the
 * underlying proof functions otherwise). Not safe for concurrent appends; reads MAY interleave.
 */
export class MerkleTree {
  private readonly range = CompactRange.empty();
  private readonly nodes = new MemoryHashStore();

  get size(): number {
    return this.range.size;
  }

  /** Appends an entry's exact bytes; returns its index. */
  append(entry: Uint8Array): number {
    this.range.appendEntry(entry, (node) => this.nodes.writeNode(node.level, node.index, node.hash));
    return this.range.size - 1;
  }

  /** Appends an already computed leaf hash; returns its index. */
  appendLeafHash(leaf: Hash): number {
    this.range.appendLeafHash(leaf, (node) => this.nodes.writeNode(node.level, node.index, node.hash));
    return this.range.size - 1;
  }

  /** The root at the current size. */
  root(): Hash {
    return this.range.root();
  }

  /** The root the tree had at `size` entries (0 ≤ size ≤ this.size), in O(log size). */
  rootAt(size: number): Hash {
    return this.rangeRoot(0, size);
  }

  /** MTH(D[begin:end]): the root of the entries [begin, end) as a tree of their own (a part digest). */
  rangeRoot(begin: number, end: number): Hash {
    this.checkWithin(end);
    return resolvePlanSync(this.nodes, planRangeHash(begin, end));
  }

  /** RFC 9162 §2.1.3.1 inclusion proof of entry `index` in the tree at `size` (default: now). */
  inclusionProof(index: number, size = this.size): Hash[] {
    this.checkWithin(size);
    return resolvePlanSync(this.nodes, planInclusionProof(index, size));
  }

  /** RFC 9162 §2.1.4.1 consistency proof from size `first` to `second` (default: now). */
  consistencyProof(first: number, second = this.size): Hash[] {
    this.checkWithin(second);
    return resolvePlanSync(this.nodes, planConsistencyProof(first, second));
  }

  /** The stored-node reader, for code written against the `HashReader` port. */
  get reader(): MemoryHashStore {
    return this.nodes;
  }

  private checkWithin(size: number): void {
    if (size > this.size) throw new LogError('tree.range', `the tree has ${this.size} entries, not ${size}`);
  }
}
