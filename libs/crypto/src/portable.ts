/**
 * The portable face of @cryptomesh/crypto: everything except the `node:crypto` signature schemes, so
 * that browsers and the client SDK can load it (DESIGN.md "Cryptography"). purity.spec.ts checks that
 * nothing reachable from this file imports a `node:` module or uses Buffer.
 */
export { CryptoError, isCryptoError } from './crypto-error';
export type { CryptoErrorCode } from './crypto-error';
export { defaultRandom } from './random';
export type { RandomSource } from './random';
export { base32Decode, base32Encode } from './base32';
export type { Base32Decoded } from './base32';
export {
  checkUdfPrecision,
  DEFAULT_UDF_BITS,
  groupUdfCharacters,
  isFingerprintKind,
  MAX_UDF_BITS,
  MIN_UDF_BITS,
  parseUdf,
  presentFingerprint,
  presentFixedLength,
  udfKindOf,
  udfMatches,
  UdfType,
} from './udf';
export type { Udf, UdfKind } from './udf';
export { digestAlgorithmOfType } from './digest-algorithm';
export type { DigestAlgorithm } from './digest-algorithm';
export {
  compressionLevel,
  contentDigestBinary,
  contentDigestMatches,
  contentDigestUdf,
  typedContentDigest,
} from './content-digest';
export type { FingerprintOptions } from './content-digest';
export { authenticatorBinary, authenticatorKey, authenticatorUdf } from './authenticator';
export { checkKeyAlgorithm, KEY_ALGORITHMS, KEY_PARAMETERS } from './key-algorithm';
export type { AgreementKeyAlgorithm, KeyAlgorithm, SigningKeyAlgorithm } from './key-algorithm';
export { decodeSpki, encodeSpki, spkiPrefix } from './spki';
export { KEY_CONTENT_ID, keyMatchesUdf, keyUdf } from './key-fingerprint';
export { generateKeyPair, publicKeyOf } from './key-pair';
export type { KeyPair } from './key-pair';
export { privateJwk, publicJwk, readJwk } from './jwk';
export type { JwkKey, OkpJwk } from './jwk';
export { ACCOUNT_CONTENT_ID, accountUdf, normaliseAccountAddress, parseAccountAddress } from './account';
export type { AccountAddress } from './account';
export { formatMeshUri, parseMeshUri } from './mesh-uri';
export type { MeshUri } from './mesh-uri';
export type { SignatureAlgorithm, SignatureScheme } from './signature-scheme';
export { EDDSA_SIZES, nobleEd25519, nobleEd448 } from './eddsa-noble';
export { acceptablePublicKey } from './eddsa-rules';
export { findDuplicateMember } from './duplicate-member';
export { readJwsHeader, signJws, verifyJws } from './jws';
export type { FlattenedJws, JwsHeader, JwsSigningKey, JwsVerificationKey, VerifiedJws } from './jws';
export type { SignatureCheck, SignatureVerdicts } from './signature-verdicts';
export { decryptJwe, encryptJwe, JWE_ALG, JWE_ENC, jweRecipientIds } from './jwe';
export type { JweDecryptionKey, JweRecipient } from './jwe';
export { MAX_SHAMIR_SECRET_BYTES, shamirPrime } from './shamir-prime';
export {
  formatShare,
  MAX_SHARES,
  MAX_THRESHOLD,
  MIN_THRESHOLD,
  parseShare,
  recoverSecret,
  splitSecret,
} from './shamir';
export type { ShamirParameters, ShamirShare } from './shamir';
export { BoundedMemo } from './bounded-memo';
export { bytesEqual, concatBytes, fromBase64Url, fromHex, fromUtf8, toBase64Url, toHex, utf8 } from './bytes';
export { installSha2, nobleSha2, sha2 } from './sha2-port';
export { escapeControls } from './text';
export type { Sha2 } from './sha2-port';
