import { sha256 } from '@noble/hashes/sha2';

/**
 * RFC 9162 §2.1.1 Merkle tree hashing with SHA-256 (DESIGN.md "The log"):
 *   MTH({})      = SHA-256()
 *   leaf hash    = SHA-256(0x00 ‖ entry)
 *   node hash    = SHA-256(0x01 ‖ left ‖ right)
 * The distinct prefixes keep a leaf from ever being read as an interior node (second-preimage
 * resistance, RFC 9162 §2.1.1 last paragraph).
 */

/** A 32-byte SHA-256 value: a leaf hash, a node hash or a tree root. */
export type Hash = Uint8Array;

export const HASH_SIZE = 32;

const LEAF_PREFIX = Uint8Array.of(0x00);

/**
 * A SHA-256 installed by a server (`installSha256`, with OpenSSL's: issue #17); unset, the portable
 * `@noble/hashes`. Both are SHA-256: which one runs changes speed, never a hash (tree-hasher.spec.ts).
 */
let installed: ((data: Uint8Array) => Uint8Array) | undefined;

/** Makes `sha256` the SHA-256 of every tree hash of this process (undefined: back to @noble/hashes). */
export function installSha256(sha256Function: ((data: Uint8Array) => Uint8Array) | undefined): void {
  installed = sha256Function;
}

/** MTH of the empty list: SHA-256 of the empty string (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

/** The leaf hash of an entry's exact bytes. MUST be used for every leaf; never hash twice. */
export function hashLeaf(entry: Uint8Array): Hash {
  if (installed !== undefined) {
    const input = new Uint8Array(entry.length + 1); // 0x00 ‖ entry: one call is cheaper than streaming
    input.set(entry, 1);
    return installed(input);
  }
  return sha256.create().update(LEAF_PREFIX).update(entry).digest();
}

// One scratch buffer for node hashing: hashing 65 contiguous bytes is measurably faster than
// streaming three updates, and JavaScript is single-threaded so sharing it is safe.
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** The interior node hash over two child hashes, left then right; both MUST be 32 bytes. */
export function hashChildren(left: Hash, right: Hash): Hash {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return installed !== undefined ? installed(nodeInput) : sha256(nodeInput);
}

/** Plain SHA-256 (the part chain, key IDs). MUST NOT be used for tree nodes: they need the prefixes. */
export function sha256Of(data: Uint8Array): Hash {
  return installed !== undefined ? installed(data) : sha256(data);
}

/** The largest power of two strictly below `n`: RFC 9162 §2.1.1's split point k. `n` MUST be ≥ 2. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** True when `n` is a power of two (1, 2, 4, …); `n` MUST be a safe integer. */
export function isPowerOfTwo(n: number): boolean {
  return n >= 1 && 2 ** Math.round(Math.log2(n)) === n;
}
