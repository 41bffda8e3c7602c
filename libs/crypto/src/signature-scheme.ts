/**
 * A digital signature scheme over raw keys (RFC 8032 EdDSA).
 *
 * Implementations MUST be deterministic (RFC 8032 §5.1.6 / §5.2.6): the same private key and
 * message MUST give the same signature bytes, so that the `node:crypto` and `@noble/curves`
 * implementations can be cross-checked byte for byte.
 * `verify` MUST return false (never throw) for a signature or public key of the wrong length or
 * that does not decode; it throws only for a programming error such as a non-Uint8Array argument.
 * `publicKeyOf` and `sign` throw CryptoError 'key.malformed' for a private key of the wrong length.
 * Implementations: nodeEd25519/nodeEd448 (eddsa.ts, OpenSSL) and nobleEd25519/nobleEd448
 * (eddsa-noble.ts, portable); eddsa.spec.ts proves they agree byte for byte.
 */
export interface SignatureScheme {
  readonly algorithm: SignatureAlgorithm;
  /** Length in bytes of the private key seed (32 for Ed25519, 57 for Ed448). */
  readonly privateKeyLength: number;
  /** Length in bytes of the encoded public key (32 for Ed25519, 57 for Ed448). */
  readonly publicKeyLength: number;
  /** Length in bytes of a signature (64 for Ed25519, 114 for Ed448). */
  readonly signatureLength: number;
  publicKeyOf(privateKey: Uint8Array): Uint8Array;
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export type SignatureAlgorithm = 'Ed25519' | 'Ed448';
