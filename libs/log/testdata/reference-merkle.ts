import { createHash } from 'node:crypto';

/**
 * A naive reference of RFC 9162 §2.1 written straight from the definitions (MTH, PATH, PROOF /
 * SUBPROOF), for differential tests and for scripts/testdata/log-vectors.ts. Deliberately independent of
 * libs/log/src: its own hashing (node:crypto rather than @noble/hashes), its own recursion, no
 * stored nodes, O(n) per call.
 */

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of RFC 9162 §2.1.1. */
export function referenceRoot(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length === 0) return sha256();
  if (entries.length === 1) return sha256(Uint8Array.of(0), entries[0]!);
  const k = largestPowerOfTwoBelow(entries.length);
  return sha256(Uint8Array.of(1), referenceRoot(entries.slice(0, k)), referenceRoot(entries.slice(k)));
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1. */
export function referenceInclusionProof(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  const n = entries.length;
  if (n <= 1) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...referenceInclusionProof(m, entries.slice(0, k)), referenceRoot(entries.slice(k))];
  return [...referenceInclusionProof(m - k, entries.slice(k)), referenceRoot(entries.slice(0, k))];
}

function subproof(m: number, entries: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = entries.length;
  if (m === n) return b ? [] : [referenceRoot(entries)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(m, entries.slice(0, k), b), referenceRoot(entries.slice(k))];
  return [...subproof(m - k, entries.slice(k), false), referenceRoot(entries.slice(0, k))];
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (empty for m = 0 or m = n). */
export function referenceConsistencyProof(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  if (m === 0 || m === entries.length) return [];
  return subproof(m, entries, true);
}

/**
 * An independent incremental root for generating long logs (log-fixture.ts): the perfect-subtree
 * stack of RFC 9162 §2.1.1, hashed with node:crypto, so that tests of the library's CompactRange and
 * verifier are differential rather than the library checking itself.
 */
export class ReferenceFrontier {
  private readonly stack: Uint8Array[] = [];
  size = 0;

  /** Appends an entry; returns its leaf hash. */
  append(entry: Uint8Array): Uint8Array {
    const leaf = sha256(Uint8Array.of(0), entry);
    this.appendLeaf(leaf);
    return leaf;
  }

  appendLeaf(leaf: Uint8Array): void {
    let hash = leaf;
    for (let n = this.size; n % 2 === 1; n = (n - 1) / 2)
      hash = sha256(Uint8Array.of(1), this.stack.pop()!, hash);
    this.stack.push(hash);
    this.size++;
  }

  root(): Uint8Array {
    if (this.stack.length === 0) return sha256();
    return this.stack.reduceRight((right, left) => sha256(Uint8Array.of(1), left, right));
  }
}

/** chain_n = SHA-256(chain_{n-1} ‖ partDigest_n), with node:crypto. */
export function referenceChain(previous: Uint8Array, digest: Uint8Array): Uint8Array {
  return sha256(previous, digest);
}
