import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2';

/**
 * The SHA-2 functions the libraries hash with (UDF fingerprints, content digests, the EdDSA
 * challenge). Portable code — the client SDK, browsers — uses `@noble/hashes`; a server installs
 * OpenSSL's through `installSha2(nodeSha2)` at start (issue #17: several times faster on the inputs
 * the portal hashes), the way it already verifies Ed25519 with OpenSSL. Both compute the same
 * function (sha2-port.spec.ts checks them against each other and against FIPS 180-4 vectors), so
 * which one is installed changes speed, never a result.
 */
export interface Sha2 {
  /** Where the functions come from, for logs and tests. */
  readonly name: string;
  readonly sha256: (data: Uint8Array) => Uint8Array;
  readonly sha512: (data: Uint8Array) => Uint8Array;
}

export const nobleSha2: Sha2 = {
  name: '@noble/hashes',
  sha256: (data) => nobleSha256(data),
  sha512: (data) => nobleSha512(data),
};

let active: Sha2 = nobleSha2;

/** Makes `impl` the SHA-2 of this process (once, at start, before any hashing that matters). */
export function installSha2(impl: Sha2): void {
  active = impl;
}

/** The SHA-2 of this process. */
export function sha2(): Sha2 {
  return active;
}

/** SHA-512 with the installed implementation. */
export function sha512Digest(data: Uint8Array): Uint8Array {
  return active.sha512(data);
}
