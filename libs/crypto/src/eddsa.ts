import {
  createPrivateKey,
  createPublicKey,
  KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { bytesEqual, concatBytes } from './bytes';
import { EDDSA_SIZES, nobleEd25519, nobleEd448 } from './eddsa-noble';
import { acceptablePublicKey, acceptableSignatureEncoding } from './eddsa-rules';
import { checkKeyLength } from './key-algorithm';
import type { SignatureAlgorithm, SignatureScheme } from './signature-scheme';
import type { SignatureVerdicts } from './signature-verdicts';
import { spkiPrefix } from './spki';

// The portable schemes live in eddsa-noble.ts (no node:crypto import, so browsers can load them); they
// are re-exported here so that the four names of this module stay where users of it expect them.
export { nobleEd25519, nobleEd448 };

// RFC 8410 §7 PKCS#8 PrivateKeyInfo prefixes: node:crypto takes raw EdDSA keys only wrapped in DER or JWK.
const PKCS8_PREFIX: Readonly<Record<SignatureAlgorithm, Uint8Array>> = {
  Ed25519: Uint8Array.from([
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
  ]),
  Ed448: Uint8Array.from([
    0x30, 0x47, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x71, 0x04, 0x3b, 0x04, 0x39,
  ]),
};

// Importing a key costs more than using it (measured: an Ed25519 sign is ~18× faster with the KeyObject
// at hand), and servers sign and verify with few keys, so imported keys are cached.
// Private keys: by array identity, never by content, so no secret is ever turned into a Map key string;
// the copy detects a caller that mutated its array since. The entry dies with the caller's array.
// Public keys: by content, in a bounded map that drops its oldest entry (insertion order) when full.
const MAX_PUBLIC_KEYS = 4096;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** EdDSA through OpenSSL (`node:crypto`): the fast path used by the servers. */
function nodeScheme(algorithm: SignatureAlgorithm): SignatureScheme {
  const sizes = EDDSA_SIZES[algorithm];
  const privateKeys = new WeakMap<Uint8Array, { copy: Uint8Array; key: KeyObject }>();
  // A key that breaks rule 1 of eddsa-rules.ts is cached as null: every signature under it is refused.
  const publicKeys = new Map<string, KeyObject | null>();

  const privateKeyObject = (seed: Uint8Array): KeyObject => {
    checkKeyLength(`${algorithm} private key`, seed, sizes.privateKeyLength);
    const cached = privateKeys.get(seed);
    if (cached !== undefined && bytesEqual(cached.copy, seed)) return cached.key;
    const der = concatBytes(PKCS8_PREFIX[algorithm], seed);
    const key = createPrivateKey({ key: toBuffer(der), format: 'der', type: 'pkcs8' });
    der.fill(0);
    privateKeys.set(seed, { copy: seed.slice(), key });
    return key;
  };

  const publicKeyObject = (publicKey: Uint8Array): KeyObject | null => {
    const id = String.fromCharCode(...publicKey);
    let key = publicKeys.get(id);
    if (key === undefined) {
      key = acceptablePublicKey(algorithm, publicKey)
        ? createPublicKey({
            key: toBuffer(concatBytes(spkiPrefix(algorithm), publicKey)),
            format: 'der',
            type: 'spki',
          })
        : null;
      if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.delete(publicKeys.keys().next().value as string);
      publicKeys.set(id, key);
    }
    return key;
  };

  return {
    algorithm,
    ...sizes,
    publicKeyOf(privateKey) {
      const spki = createPublicKey(privateKeyObject(privateKey)).export({ format: 'der', type: 'spki' });
      return new Uint8Array(spki.subarray(spki.length - sizes.publicKeyLength));
    },
    sign(privateKey, message) {
      return new Uint8Array(nodeSign(null, message, privateKeyObject(privateKey)));
    },
    verify(publicKey, message, signature) {
      if (publicKey.length !== sizes.publicKeyLength || signature.length !== sizes.signatureLength)
        return false;
      if (!acceptableSignatureEncoding(algorithm, signature)) return false;
      try {
        const key = publicKeyObject(publicKey);
        return key !== null && nodeVerify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/** Ed25519 through OpenSSL, for servers; same signatures and verdicts as nobleEd25519 (eddsa.spec.ts). */
export const nodeEd25519: SignatureScheme = nodeScheme('Ed25519');
/** Ed448 through OpenSSL, for servers; same signatures and verdicts as nobleEd448 (eddsa.spec.ts). */
export const nodeEd448: SignatureScheme = nodeScheme('Ed448');

/**
 * Verdicts of OpenSSL computed in the calling thread, for `verifyJws` (`SignatureVerdicts`): the
 * gateway's (issue #17). Without them a JWS is verified through jose, which parses the JWS again and
 * hands the check to libuv's thread pool: measured alone, 106–116 µs of CPU a verification with 64
 * in flight, against 78 µs here (docs/decisions.md "Performance, twenty-first slice"). The verdict
 * is the same OpenSSL verification on exactly the bytes asked about; the strict rules are
 * verifyJws's. An algorithm other than the two is left to the caller (undefined).
 */
export const inThreadVerdicts: SignatureVerdicts = (check) => {
  const scheme =
    check.algorithm === 'Ed25519' ? nodeEd25519 : check.algorithm === 'Ed448' ? nodeEd448 : undefined;
  return scheme?.verify(check.publicKey, check.message, check.signature);
};
