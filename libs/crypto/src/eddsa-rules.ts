import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519';
import { ED448_TORSION_SUBGROUP, ed448 } from '@noble/curves/ed448';
import { concatBytes, fromHex } from './bytes';
import { sha512Digest } from './sha2-port';
import type { SignatureAlgorithm } from './signature-scheme';

/**
 * The verification rules both EdDSA implementations apply on top of RFC 8032, so that `node:crypto`
 * (OpenSSL) and `@noble/curves` give the same verdict on every input, adversarial ones included. A log
 * verified by one peer with OpenSSL and by another in a browser MUST NOT split on a crafted signature.
 *
 * RFC 8032 §5.1.7/§5.2.7 leave room (cofactored or cofactorless equation; whether small-order points
 * are acceptable), and the two libraries fill it differently — measured on Node 20 / OpenSSL 3 and
 * @noble/curves 1.9: OpenSSL accepts small-order and non-canonically encoded Ed25519 public keys, noble
 * (zip215: false) refuses them; OpenSSL's Ed25519 equation is cofactorless, noble's cofactored; OpenSSL's
 * Ed448 refuses R of order 1 or 2 but accepts R of order 4. So, for both implementations:
 *   1. A (public key) MUST be canonically encoded and MUST NOT be of small order;
 *   2. R MUST be canonically encoded (y < p) and MUST NOT be of small order;
 *   3. S MUST be below the group order L;
 *   4. then the curve equation: Ed25519 cofactorless ([S]B = R + [k]A, as OpenSSL), Ed448 cofactored
 *      ([4][S]B = [4]R + [4][k]A, as both libraries do).
 * Signatures made by an honest signer satisfy all four, so no valid signature is lost.
 */

interface CurveRules {
  readonly n: bigint;
  readonly curve: typeof ed25519;
  /**
   * For rules 2 and 3, as little-endian bytes of half a signature: p, n, and the y of every point of
   * small order (a y fixes a point up to the sign of x, and ±x have the same order).
   */
  readonly bytes: {
    readonly p: Uint8Array;
    readonly n: Uint8Array;
    readonly smallOrderY: readonly Uint8Array[];
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// One BigInt parse rather than a BigInt shift per byte: this runs twice on every signature verified.
function littleEndian(bytes: Uint8Array): bigint {
  let hex = '0x0';
  for (let i = bytes.length - 1; i >= 0; i--) hex += HEX[bytes[i] as number] as string;
  return BigInt(hex);
}

/** y of an RFC 8032 point encoding: the little-endian integer with the x sign bit (the top bit) cleared. */
function encodedY(bytes: Uint8Array): bigint {
  const copy = bytes.slice();
  copy[copy.length - 1] = (copy[copy.length - 1] as number) & 0x7f;
  return littleEndian(copy);
}

function littleEndianBytes(value: bigint, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0, v = value; i < length; i++, v >>= 8n) bytes[i] = Number(v & 0xffn);
  return bytes;
}

function rules(curve: typeof ed25519, p: bigint, torsion: readonly string[]): CurveRules {
  const smallOrderY = new Set(torsion.map((h) => encodedY(fromHex(h) as Uint8Array)));
  const n = curve.Point.Fn.ORDER;
  const half = curve === ed25519 ? 32 : 57;
  const bytes = {
    p: littleEndianBytes(p, half),
    n: littleEndianBytes(n, half),
    smallOrderY: [...smallOrderY].map((y) => littleEndianBytes(y, half)),
  };
  return { n, curve, bytes };
}

const RULES: Readonly<Record<SignatureAlgorithm, CurveRules>> = {
  Ed25519: rules(ed25519, 2n ** 255n - 19n, ED25519_TORSION_SUBGROUP),
  Ed448: rules(ed448, 2n ** 448n - 2n ** 224n - 1n, ED448_TORSION_SUBGROUP),
};

// The verdict of rule 1 on the most recent keys, by content: a portal or an auditor reads the same
// few keys of an account's profiles again and again (every request re-reads the account's stored
// profiles), and the point decompression cost more than the OpenSSL verification itself (issue #17:
// 19 % of the gateway's CPU). Bounded; the oldest entry goes first. A verdict is a pure function of
// the bytes, so a cached one is never wrong.
const MAX_KEY_VERDICTS = 8192;
const keyVerdicts = new Map<string, boolean>();

/**
 * Rule 1: the public key decodes strictly (canonical y, RFC 8032 §5.1.3 / §5.2.3) and is not of small
 * order. Costs a point decompression the first time a key is seen; the verdict is kept.
 */
export function acceptablePublicKey(algorithm: SignatureAlgorithm, publicKey: Uint8Array): boolean {
  if (publicKey.length !== (algorithm === 'Ed25519' ? 32 : 57)) return false; // never decodes
  const id = `${algorithm}:${String.fromCharCode(...publicKey)}`;
  const known = keyVerdicts.get(id);
  if (known !== undefined) return known;
  let verdict: boolean;
  try {
    verdict = !RULES[algorithm].curve.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    verdict = false;
  }
  if (keyVerdicts.size >= MAX_KEY_VERDICTS) keyVerdicts.delete(keyVerdicts.keys().next().value as string);
  keyVerdicts.set(id, verdict);
  return verdict;
}

/**
 * Rules 2 and 3 on the signature bytes alone (no point arithmetic, so cheap enough for every verify):
 * R has y < p and is not one of the small-order points, S < L. A signature of another length than the
 * algorithm's is refused.
 */
export function acceptableSignatureEncoding(algorithm: SignatureAlgorithm, signature: Uint8Array): boolean {
  // On the bytes, most significant first (issue #17: the integers cost 4 % of an auditor's re-check).
  // The reference on integers is in eddsa-rules.spec.ts, and the two agree on every input tried.
  const { p, n, smallOrderY } = RULES[algorithm].bytes;
  const half = signature.length / 2;
  if (half !== p.length) return false;
  const top = half - 1;
  if (!below(signature, 0, p, 0x7f)) return false;
  for (const y of smallOrderY) if (equalBytes(signature, y, top)) return false;
  return below(signature, half, n, 0xff);
}

/** The little-endian integer of `limit.length` bytes at `at`, its top byte masked, is below `limit`. */
function below(bytes: Uint8Array, at: number, limit: Uint8Array, topMask: number): boolean {
  for (let i = limit.length - 1; i >= 0; i--) {
    const b = i === limit.length - 1 ? (bytes[at + i] as number) & topMask : (bytes[at + i] as number);
    const l = limit[i] as number;
    if (b !== l) return b < l;
  }
  return false;
}

/** The first `y.length` bytes, the x sign bit of byte `top` cleared, are `y`. */
function equalBytes(bytes: Uint8Array, y: Uint8Array, top: number): boolean {
  for (let i = 0; i < y.length; i++)
    if ((i === top ? (bytes[i] as number) & 0x7f : bytes[i]) !== y[i]) return false;
  return true;
}

/**
 * Rule 4 for Ed25519 in portable code: the cofactorless equation [S]B = R + [k]A with
 * k = SHA-512(R ‖ A ‖ M) mod L (RFC 8032 §5.1.7), which is what OpenSSL checks. Callers MUST have
 * applied rules 1–3 first. Returns false rather than throwing on points that do not decode.
 */
export function ed25519CofactorlessEquation(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const { curve, n } = RULES.Ed25519;
  try {
    const A = curve.Point.fromBytes(publicKey, false);
    const rBytes = signature.subarray(0, 32);
    const R = curve.Point.fromBytes(rBytes, false);
    const s = littleEndian(signature.subarray(32));
    const k = littleEndian(sha512Digest(concatBytes(rBytes, publicKey, message))) % n;
    return curve.Point.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)));
  } catch {
    return false;
  }
}
