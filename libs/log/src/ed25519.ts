/**
 * The Ed25519 operations the log needs, as a port (STYLE.md §4: defined by its consumer, kept
 * narrow). `@cryptomesh/crypto`'s `nodeEd25519` (OpenSSL, the servers' default) and
 * `nobleEd25519` (portable, the client SDK and browsers) both satisfy it; this library imports
 * neither, so that it stays free of `node:crypto`.
 *
 * Keys are raw RFC 8032 bytes: a 32-byte seed and a 32-byte public key; signatures are 64 bytes.
 * `sign` MUST be deterministic (RFC 8032 §5.1.6). `verify` MUST return false — never throw — for a
 * signature or key that is the wrong length or does not decode, and MUST apply the strict RFC 8032
 * rules so that every implementation reaches the same verdict on the same bytes.
 */
export interface Ed25519 {
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  publicKeyOf(privateKey: Uint8Array): Uint8Array;
}

export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;
