import { concatBytes } from './bytes';
import { HASH_SIZE, sha256Of, type Hash } from './tree-hasher';

/**
 * The part chain (002_17b4bc3c2303ddb1.txt §5.1; DESIGN.md "The log"): every seal carries
 *   chain_n = SHA-256(chain_{n-1} ‖ partDigest_n),  chain_{-1} = 32 zero bytes,
 * so that each seal commits to the digest of every part before it, in order.
 */
export const GENESIS_CHAIN: Hash = new Uint8Array(HASH_SIZE);

/** chain_n from chain_{n-1} and partDigest_n. Both MUST be 32 bytes (RangeError otherwise). */
export function nextChain(previous: Hash, partDigest: Hash): Hash {
  if (previous.length !== HASH_SIZE || partDigest.length !== HASH_SIZE) {
    throw new RangeError(`chain inputs must be ${HASH_SIZE}-byte hashes`);
  }
  return sha256Of(concatBytes(previous, partDigest));
}
