import { ed25519 } from '@noble/curves/ed25519';
import { ed448 } from '@noble/curves/ed448';
import { acceptablePublicKey, acceptableSignatureEncoding, ed25519CofactorlessEquation } from './eddsa-rules';
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
      if (publicKey.length !== sizes.publicKeyLength || signature.length !== sizes.signatureLength)
        return false;
      // The rules of eddsa-rules.ts, which make the verdict that of the node scheme on every input.
      if (!acceptableSignatureEncoding(algorithm, signature) || !acceptablePublicKey(algorithm, publicKey))
        return false;
      if (algorithm === 'Ed25519') return ed25519CofactorlessEquation(publicKey, message, signature);
      try {
        return curve.verify(signature, message, publicKey, { zip215: false });
      } catch {
        return false;
      }
    },
  };
}

/** Ed25519 in portable JavaScript; same signatures and verdicts as nodeEd25519 (eddsa.spec.ts). */
export const nobleEd25519: SignatureScheme = nobleScheme('Ed25519');
/** Ed448 in portable JavaScript; same signatures and verdicts as nodeEd448 (eddsa.spec.ts). */
export const nobleEd448: SignatureScheme = nobleScheme('Ed448');
