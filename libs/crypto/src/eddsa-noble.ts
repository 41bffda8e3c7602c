import { ed25519 } from '@noble/curves/ed25519';
import { ed448 } from '@noble/curves/ed448';
import { checkKeyLength } from './key-algorithm';
import type { SignatureAlgorithm, SignatureScheme } from './signature-scheme';

/** Key and signature lengths of RFC 8032 (§5.1.5–5.1.6 Ed25519, §5.2.5–5.2.6 Ed448). */
export const EDDSA_SIZES: Readonly<
  Record<SignatureAlgorithm, { privateKeyLength: number; publicKeyLength: number; signatureLength: number }>
> = {
  Ed25519: { privateKeyLength: 32, publicKeyLength: 32, signatureLength: 64 },
  Ed448: { privateKeyLength: 57, publicKeyLength: 57, signatureLength: 114 },
};

/** EdDSA in portable JavaScript (`@noble/curves`): for the client SDK and browsers. */
function nobleScheme(algorithm: SignatureAlgorithm): SignatureScheme {
  const curve = algorithm === 'Ed25519' ? ed25519 : ed448;
  const sizes = EDDSA_SIZES[algorithm];
  return {
    algorithm,
    ...sizes,
    publicKeyOf(privateKey) {
      checkKeyLength(`${algorithm} private key`, privateKey, sizes.privateKeyLength);
      return curve.getPublicKey(privateKey);
    },
    sign(privateKey, message) {
      checkKeyLength(`${algorithm} private key`, privateKey, sizes.privateKeyLength);
      return curve.sign(message, privateKey);
    },
    verify(publicKey, message, signature) {
      if (publicKey.length !== sizes.publicKeyLength || signature.length !== sizes.signatureLength) return false;
      try {
        // zip215: false gives the strict RFC 8032 rules that OpenSSL applies, so both verdicts agree.
        return curve.verify(signature, message, publicKey, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}

export const nobleEd25519: SignatureScheme = nobleScheme('Ed25519');
export const nobleEd448: SignatureScheme = nobleScheme('Ed448');
