import type { Hash } from './tree-hasher';

/**
 * A **stored node** is the hash of a complete, perfect subtree of the log's Merkle tree: the node
 * at `level` L and `index` i covers the 2^L entries [i·2^L, (i+1)·2^L), so level 0 holds the leaf
 * hashes and a node exists exactly when all of its leaves do. This is the tlog-tiles model
 * (C2SP tlog-tiles: tiles are built from these same full nodes): once written a stored node never
 * changes, so it can be cached, replicated and kept in any key-value or SQL store. Every hash the
 * RFC 9162 §2.1 algorithms need — roots of any size, proofs, the root of any sub-range — is
 * computed from stored nodes alone (see `range-hash.ts`), never from "ephemeral" right-edge nodes.
 */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A stored node with its hash, as produced by `CompactRange.append` for the store to keep. */
export interface StoredNode extends NodeId {
  readonly hash: Hash;
}

/**
 * The port through which tree code reads stored nodes (STYLE.md §4: defined by its consumer). The
 * log-signer implements it over PostgreSQL; `MemoryHashStore` implements it in memory.
 *
 * `readNodes` MUST return exactly one 32-byte hash per requested id, in the order requested
 * (duplicates included). It MUST fail — throw or reject with LogError `store.missing-node` — if any
 * node is not stored; it MUST NOT substitute a value. It MAY answer synchronously or with a
 * Promise; callers await either. Implementations MAY be called concurrently: a stored node is
 * immutable, so reads need no isolation beyond seeing committed writes.
 */
export interface HashReader {
  readNodes(ids: readonly NodeId[]): readonly Hash[] | Promise<readonly Hash[]>;
}

/** A HashReader that MUST always answer synchronously (the in-memory store). */
export interface SyncHashReader extends HashReader {
  readNodes(ids: readonly NodeId[]): readonly Hash[];
}

/**
 * The node ids a computation needs, and how to finish it once they are read. Planning first and
 * reading once lets a database adapter fetch every node of a proof in one round trip.
 */
export interface HashPlan<T> {
  readonly ids: readonly NodeId[];
  /** MUST be given the hashes of `ids` in the same order; throws `store.missing-node` if short. */
  build(hashes: readonly Hash[]): T;
}

/**
 * Reads a plan's nodes through `reader` (sync or async) in one call and builds the result. MUST
 * reject with what the reader throws, or `store.missing-node` if it answers short.
 */
export async function resolvePlan<T>(reader: HashReader, plan: HashPlan<T>): Promise<T> {
  const hashes = plan.ids.length === 0 ? [] : await reader.readNodes(plan.ids);
  return plan.build(hashes);
}

/** As `resolvePlan`, for a synchronous reader; MUST throw what the reader or the plan throws. */
export function resolvePlanSync<T>(reader: SyncHashReader, plan: HashPlan<T>): T {
  return plan.build(plan.ids.length === 0 ? [] : reader.readNodes(plan.ids));
}
