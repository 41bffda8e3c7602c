import type { NodeId, StoredNode, SyncHashReader } from './hash-reader';
import { LogError } from './log-error';
import { HASH_SIZE, type Hash } from './tree-hasher';

/**
 * Stored nodes (see `hash-reader.ts`) held in memory, one packed byte array per level: 32 bytes
 * per node and no per-node object, so a tree of n entries costs about 64·n bytes.
 *
 * Nodes MUST be written in index order within each level, as `CompactRange.append` emits them;
 * rewriting an existing node is allowed only with the same hash (a replay), anything else throws,
 * because a stored node never changes. Not safe for use across workers; within one thread a
 * reader sees every node written before the read.
 */
export class MemoryHashStore implements SyncHashReader {
  private readonly levels: { bytes: Uint8Array; count: number }[] = [];

  /** Number of stored nodes at `level`. */
  count(level: number): number {
    return this.levels[level]?.count ?? 0;
  }

  /** Stores nodes; each MUST be the next index of its level or an identical replay. */
  write(nodes: Iterable<StoredNode>): void {
    for (const node of nodes) this.writeNode(node.level, node.index, node.hash);
  }

  writeNode(level: number, index: number, hash: Hash): void {
    if (hash.length !== HASH_SIZE) throw new RangeError(`node hash must be ${HASH_SIZE} bytes`);
    while (this.levels.length <= level) this.levels.push({ bytes: new Uint8Array(HASH_SIZE * 64), count: 0 });
    const row = this.levels[level]!;
    if (index < row.count) {
      const existing = row.bytes.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
      if (!existing.every((b, i) => b === hash[i])) {
        throw new RangeError(`stored node (${level}, ${index}) already holds a different hash`);
      }
      return;
    }
    if (index !== row.count) throw new RangeError(`stored node (${level}, ${index}) written out of order`);
    if ((index + 1) * HASH_SIZE > row.bytes.length) {
      const grown = new Uint8Array(row.bytes.length * 2);
      grown.set(row.bytes);
      row.bytes = grown;
    }
    row.bytes.set(hash, index * HASH_SIZE);
    row.count++;
  }

  readNodes(ids: readonly NodeId[]): Hash[] {
    return ids.map(({ level, index }) => {
      const row = this.levels[level];
      if (row === undefined || index < 0 || index >= row.count) {
        throw new LogError('store.missing-node', `stored node (${level}, ${index}) is not in the store`);
      }
      return row.bytes.slice(index * HASH_SIZE, (index + 1) * HASH_SIZE);
    });
  }
}
