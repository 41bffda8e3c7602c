import { errors, flattenedVerify, FlattenedSign, type KeyLike } from 'jose';
import { BoundedMemo } from './bounded-memo';
import { bytesEqual, toBase64Url, utf8 } from './bytes';
import { CryptoError, isCryptoError } from './crypto-error';
import { EDDSA_SIZES } from './eddsa-noble';
import { acceptablePublicKey, acceptableSignatureEncoding } from './eddsa-rules';
import { checkKeyLength, KEY_PARAMETERS, SigningKeyAlgorithm } from './key-algorithm';
import { keyUdf } from './key-fingerprint';
import { publicKeyOf } from './key-pair';
import { checkMembers, decodeMember, decodeProtectedHeader, importOkpKey, isJsonObject } from './jose-common';
import type { SignatureVerdicts } from './signature-verdicts';
import { parseUdf, udfMatches } from './udf';

/**
 * Signed profiles (DESIGN.md "Profiles and keys"): RFC 7515 JWS in the flattened JSON serialization
 * (§7.2.2), `alg` EdDSA (RFC 8037 §3.1) with Ed25519 or Ed448, and `kid` = the UDF of the signing key,
 * all in the protected header. The profile rules are in docs/crypto.md "JWS profile".
 */

/** A flattened JWS as this profile writes it: no unprotected header. */
export interface FlattenedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

/** The protected header of a profile JWS. */
export interface JwsHeader {
  readonly alg: 'EdDSA';
  readonly kid: string;
  readonly cty?: string;
  readonly typ?: string;
}

/** An EdDSA key to sign with; the public key is derived when not given. */
export interface JwsSigningKey {
  readonly algorithm: SigningKeyAlgorithm;
  readonly privateKey: Uint8Array;
  readonly publicKey?: Uint8Array;
}

/** An EdDSA public key to verify against. */
export interface JwsVerificationKey {
  readonly algorithm: SigningKeyAlgorithm;
  readonly publicKey: Uint8Array;
}

/** What a successful verification returns. */
export interface VerifiedJws {
  readonly payload: Uint8Array;
  readonly header: JwsHeader;
}

const JWS_MEMBERS = ['protected', 'payload', 'signature'];
const HEADER_MEMBERS = ['alg', 'kid', 'cty', 'typ'];

function checkSigningAlgorithm(algorithm: unknown): asserts algorithm is SigningKeyAlgorithm {
  if (algorithm !== 'Ed25519' && algorithm !== 'Ed448') {
    throw new CryptoError(
      'key.unsupported-algorithm',
      `JWS keys are Ed25519 or Ed448, got ${String(algorithm)}`,
    );
  }
}

/**
 * Signs `payload` as a profile JWS. The protected header is {alg: "EdDSA", kid: <key UDF, 140 bits>}
 * plus `cty`/`typ` when given. EdDSA is deterministic, so the same key and payload give the same JWS.
 * Throws 'key.unsupported-algorithm' or 'key.malformed'.
 */
export async function signJws(
  payload: Uint8Array,
  key: JwsSigningKey,
  options: { contentType?: string; type?: string } = {},
): Promise<FlattenedJws> {
  checkSigningAlgorithm(key.algorithm);
  const publicKey = key.publicKey ?? publicKeyOf(key.algorithm, key.privateKey);
  checkKeyLength(`${key.algorithm} public key`, publicKey, KEY_PARAMETERS[key.algorithm].publicKeyLength);
  const header: JwsHeader = {
    alg: 'EdDSA',
    kid: keyUdf(key.algorithm, publicKey),
    ...(options.contentType === undefined ? {} : { cty: options.contentType }),
    ...(options.type === undefined ? {} : { typ: options.type }),
  };
  const joseKey = await importOkpKey(key.algorithm, 'EdDSA', publicKey, key.privateKey);
  const jws = await new FlattenedSign(payload).setProtectedHeader({ ...header }).sign(joseKey);
  return { protected: jws.protected ?? '', payload: jws.payload, signature: jws.signature };
}

/**
 * Checks everything about a profile JWS that needs no key, and returns its protected header. Callers
 * use it to read `kid` and look up the key before verifyJws. Throws 'jws.malformed' (not a flattened JWS
 * object, an unprotected header, members or header parameters outside the profile, including `crit`
 * and `b64`) or 'jws.alg-not-allowed' (alg other than EdDSA).
 */
export function readJwsHeader(jws: unknown): JwsHeader {
  return readJws(jws).header;
}

// A signer's protected header is the same string on each of its signatures (alg, kid, typ), so the
// checked header is kept by that exact string: decoding, parsing and checking it again gave the same
// answer (issue #17, the auditor reads thousands of JWS per part from few devices). Bounded; oldest
// out first; only headers that passed are kept, frozen, and only of up to 1,024 characters (an
// honest one is about 150): `kid`, `typ` and `cty` are strings of any length, read before any
// signature is checked, so a client could otherwise pin 4,096 headers of a request's size.
const MAX_CHECKED_HEADERS = 4096;
const MAX_KEPT_TEXT = 1024;
const checkedHeaders = new BoundedMemo<string, JwsHeader>(MAX_CHECKED_HEADERS, MAX_KEPT_TEXT);

/** readJwsHeader, and the decoded payload and signature it checked (each decoded once). */
function readJws(jws: unknown): { header: JwsHeader; payload: Uint8Array; signature: Uint8Array } {
  if (!isJsonObject(jws))
    throw new CryptoError('jws.malformed', 'a JWS is a JSON object (flattened serialization)');
  checkMembers(jws, JWS_MEMBERS, 'the JWS', 'jws.malformed');
  for (const name of JWS_MEMBERS) {
    if (typeof jws[name] !== 'string')
      throw new CryptoError('jws.malformed', `the JWS "${name}" must be a string`);
  }
  const text = jws.protected as string;
  const known = checkedHeaders.peek(text);
  const header = known === undefined ? decodeProtectedHeader(text, 'jws.malformed') : {};
  const payload = decodeMember(jws.payload, 'the payload', 'jws.malformed');
  const signature = decodeMember(jws.signature, 'the signature', 'jws.malformed');
  if (known !== undefined) return { header: known, payload, signature };
  if (header.alg !== 'EdDSA') {
    throw new CryptoError('jws.alg-not-allowed', `alg must be "EdDSA", got ${JSON.stringify(header.alg)}`);
  }
  checkMembers(header, HEADER_MEMBERS, 'the protected header', 'jws.malformed');
  for (const name of ['cty', 'typ']) {
    if (header[name] !== undefined && typeof header[name] !== 'string') {
      throw new CryptoError('jws.malformed', `"${name}" must be a string`);
    }
  }
  if (typeof header.kid !== 'string')
    throw new CryptoError('jws.kid-mismatch', 'the protected header has no "kid"');
  const checked = Object.freeze(header) as unknown as JwsHeader;
  checkedHeaders.keep(text, checked);
  return { header: checked, payload, signature };
}

// Importing a key and computing its fingerprint cost more than the verification itself, and a portal
// or an auditor verifies many signatures by few keys (an account's devices), so both are kept for the
// most recent public keys: by content, in a bounded map that drops its oldest entry when full.
const MAX_VERIFICATION_KEYS = 4096;
// The strict-rule verdict on the key (a point decompression) is kept with them.
// So is whether a `kid` names the key (its UDF parsed and compared), for a few kids per key, each of
// up to 1,024 characters.
const MAX_KIDS_PER_KEY = 16;
interface VerificationKey {
  readonly joseKey: KeyLike;
  readonly udf: string;
  readonly acceptable: boolean;
  readonly kids: Map<string, boolean>;
}
const verificationKeys = new Map<string, VerificationKey>();
// The same key is given as the same array again and again (a device's key in an account's state):
// its text is found by the array first, and taken only while the array still holds the bytes it was
// written for, with the same algorithm (issue #17: writing it was 6 % of what the auditor
// allocated). Only the text is kept by the array: the verification key itself stays in the bounded
// map above, and goes when that drops it.
const idByKeyArray = new WeakMap<Uint8Array, { algorithm: string; bytes: Uint8Array; id: string }>();

function knownVerificationKey(key: JwsVerificationKey): VerificationKey | undefined {
  const known = idByKeyArray.get(key.publicKey);
  return known !== undefined && known.algorithm === key.algorithm && bytesEqual(known.bytes, key.publicKey)
    ? verificationKeys.get(known.id)
    : undefined;
}

async function verificationKey(key: JwsVerificationKey): Promise<VerificationKey> {
  const bytes = key.publicKey.slice();
  const id = `${key.algorithm}:${toBase64Url(bytes)}`;
  let cached = verificationKeys.get(id);
  if (cached === undefined) {
    cached = {
      joseKey: await importOkpKey(key.algorithm, 'EdDSA', bytes),
      udf: keyUdf(key.algorithm, bytes, { bits: 520 }),
      acceptable: acceptablePublicKey(key.algorithm, bytes),
      kids: new Map(),
    };
    if (verificationKeys.size >= MAX_VERIFICATION_KEYS)
      verificationKeys.delete(verificationKeys.keys().next().value as string);
    verificationKeys.set(id, cached);
  }
  idByKeyArray.set(key.publicKey, { algorithm: key.algorithm, bytes, id });
  return cached;
}

/** The JWS signing input, `protected.payload`, both already decoded as base64url (so ASCII). */
function signingInput(jws: FlattenedJws): Uint8Array {
  const out = new Uint8Array(jws.protected.length + 1 + jws.payload.length);
  const head = asciiEncoder.encodeInto(jws.protected, out);
  out[jws.protected.length] = 0x2e;
  const tail = asciiEncoder.encodeInto(jws.payload, out.subarray(jws.protected.length + 1));
  const ascii =
    head.read === jws.protected.length &&
    head.written === jws.protected.length &&
    tail.read === jws.payload.length &&
    tail.written === jws.payload.length;
  return ascii ? out : utf8(`${jws.protected}.${jws.payload}`);
}
const asciiEncoder = new TextEncoder();

/**
 * Verifies a profile JWS against `key`. Checks in this order, and reports the first rule broken:
 *   'jws.malformed'        not a flattened JWS of this profile (see readJwsHeader; a header parameter
 *                          named twice included)
 *   'jws.alg-not-allowed'  alg is not EdDSA
 *   'jws.weak-key'         `key` breaks the strict EdDSA rules (eddsa-rules.ts rule 1: non-canonical or
 *                          small order — the identity point verifies forged signatures under OpenSSL)
 *   'jws.kid-mismatch'     kid is absent, not a UDF, or not the UDF of `key` (prefix rule, §3.4)
 *   'jws.bad-signature'    the signature is not of the algorithm's length, breaks eddsa-rules.ts rules
 *                          2–3 (R canonical and not of small order, S < L), or does not verify under `key`
 * The rules are those notes and cosignatures apply (docs/crypto.md "Strict EdDSA"), so that jose over
 * OpenSSL and @noble/curves give one verdict. Throws 'key.unsupported-algorithm' / 'key.malformed' for a
 * bad `key`. On success returns the payload (its JSON, if any, is the caller's to parse strictly).
 * `options.verdicts`: the signature's verdict when it was computed elsewhere on exactly these bytes
 * (`SignatureVerdicts`); where it answers undefined the signature is verified here.
 */
export async function verifyJws(
  jws: unknown,
  key: JwsVerificationKey,
  options: { readonly verdicts?: SignatureVerdicts } = {},
): Promise<VerifiedJws> {
  checkSigningAlgorithm(key.algorithm);
  checkKeyLength(`${key.algorithm} public key`, key.publicKey, KEY_PARAMETERS[key.algorithm].publicKeyLength);
  const { header, payload, signature } = readJws(jws);
  const input = jws as FlattenedJws;
  const verifier = knownVerificationKey(key) ?? (await verificationKey(key));
  if (!verifier.acceptable)
    throw new CryptoError(
      'jws.weak-key',
      `the ${key.algorithm} key is not canonically encoded or is of small order (eddsa-rules.ts)`,
    );
  let kidMatches = verifier.kids.get(header.kid);
  if (kidMatches === undefined) {
    try {
      kidMatches = udfMatches(parseUdf(header.kid), verifier.udf);
    } catch (cause) {
      if (!isCryptoError(cause)) throw cause;
      throw new CryptoError('jws.kid-mismatch', `"kid" is not a UDF: ${cause.message}`, { cause });
    }
    if (verifier.kids.size < MAX_KIDS_PER_KEY && header.kid.length <= MAX_KEPT_TEXT)
      verifier.kids.set(header.kid, kidMatches);
  }
  if (!kidMatches) {
    throw new CryptoError(
      'jws.kid-mismatch',
      `"kid" ${header.kid} is not the UDF of the ${key.algorithm} key given`,
    );
  }
  if (
    signature.length !== EDDSA_SIZES[key.algorithm].signatureLength ||
    !acceptableSignatureEncoding(key.algorithm, signature)
  )
    throw new CryptoError(
      'jws.bad-signature',
      'the JWS signature breaks the strict EdDSA rules (length, R canonical and not of small order, S < L)',
    );
  // A verdict computed elsewhere on exactly these bytes (worker threads; SignatureVerdicts): the
  // checks above held here whatever its source, and jose would only have repeated readJwsHeader's.
  const verdict = options.verdicts?.({
    algorithm: key.algorithm,
    publicKey: key.publicKey,
    message: signingInput(input),
    signature,
  });
  if (verdict === false) throw new CryptoError('jws.bad-signature', 'the JWS signature does not verify');
  if (verdict === true) return { payload, header };
  try {
    const result = await flattenedVerify(input, verifier.joseKey, { algorithms: ['EdDSA'] });
    return { payload: result.payload, header };
  } catch (cause) {
    if (cause instanceof errors.JWSSignatureVerificationFailed) {
      throw new CryptoError('jws.bad-signature', 'the JWS signature does not verify', { cause });
    }
    throw new CryptoError('jws.malformed', `jose rejected the JWS: ${String(cause)}`, { cause });
  }
}
