import {
  contentDigestUdf,
  defaultRandom,
  fromBase64Url,
  isCryptoError,
  toBase64Url,
  verifyJws,
  type FlattenedJws,
  type JwsSigningKey,
  type RandomSource,
  type SignatureVerdicts,
} from '@cryptomesh/crypto/portable';
import { canonicalJson, JsonReader } from './json';
import { MeshError } from './mesh-error';
import { findDevice } from './personal-profile';
import { keyHasId, profileKey, type PublicKeyInput } from './profile-key';
import { openEnvelope, signPayload } from './profile-envelope';
import { takeStatementBytes } from './statement-bytes';
import type { DeviceEntry, MasterProfile, PersonalProfile } from './profile-types';

/**
 * The version of the Mesh Portal protocol these requests follow, as Hello answers it (`Version`).
 * 0.2.0: every signed request names its portal (`Portal`), and the connection witness is computed by the
 * devices from a nonce the new device chose (issue #14). A 0.1 request carries no `Portal`: refused.
 */
export const MESH_PROTOCOL_VERSION = '0.2.0';

/** The JWS `typ` of a signed request (mesh-model.md "Requests"). */
export const REQUEST_TYPE = 'application/mmm-request+json';
/** The Content-ID of a request body digest. */
export const REQUEST_BODY_CONTENT_ID = 'MeshRequestBody';
/** Default clock-skew window either side of the portal's clock. */
export const DEFAULT_MAX_SKEW_MS = 300_000;
/** The length of a request's nonce, in bytes: a new request's `Nonce` is exactly this many, base64url. */
export const REQUEST_NONCE_BYTES = 16;
/** The longest `Nonce` any request, new or sealed, may carry, of printable ASCII (U+0021–U+007E). */
const MAX_NONCE_LENGTH = 64;
const STORABLE_NONCE = /^[\x21-\x7e]{1,64}$/;

/** What a device signs (the JWS payload). */
export interface RequestClaims {
  /** The transaction name, e.g. 'Publish'. */
  readonly request: string;
  /**
   * The portal the request is meant for: its origin, exactly Hello's `Origin` (the origin line of its
   * seals). A gateway refuses another origin and an auditor refuses a logged request whose portal is not
   * the log's origin, so a request logged at one portal cannot be replayed at another (issue #14, hole 2).
   */
  readonly portal: string;
  /** The account's UDF — never its address, so that a logged request reveals none. */
  readonly account: string;
  /** The UDF of the signing device key (= the JWS `kid`). */
  readonly device: string;
  /** Unix milliseconds on the device's clock. */
  readonly time: number;
  /** 16 random bytes, base64url: with `time`, what the gateway's nonce store refuses twice. */
  readonly nonce: string;
  /** requestBodyUdf(body). */
  readonly body: string;
}

/**
 * The digest a request signs: content digest UDF, Content-ID 'MeshRequestBody', of the JCS of the
 * body — for a logged record's statement, the bytes cut from its entry (`decodeRecord`'s
 * `keepStatement`), which are that JCS.
 */
export function requestBodyUdf(body: object): string {
  return contentDigestUdf(takeStatementBytes(body) ?? canonicalJson(body), REQUEST_BODY_CONTENT_ID);
}

export interface RequestInput {
  readonly request: string;
  /** The origin of the portal the request is for, as the client learned it from Hello and pinned it. */
  readonly portal: string;
  readonly account: string;
  readonly body: object;
  readonly time: number;
  readonly random?: RandomSource;
}

/** Client side: signs a request with a device key. The nonce is drawn from `random` (a CSPRNG). */
export async function signRequest(
  input: RequestInput,
  deviceKey: JwsSigningKey & PublicKeyInput,
): Promise<FlattenedJws> {
  if (typeof input.portal !== 'string' || input.portal === '')
    throw new MeshError('input.invalid', 'a signed request names the origin of its portal');
  const payload = {
    Request: input.request,
    Portal: input.portal,
    Account: input.account,
    Device: profileKey(deviceKey, 'signature').udf,
    Time: input.time,
    Nonce: toBase64Url((input.random ?? defaultRandom)(REQUEST_NONCE_BYTES)),
    Body: requestBodyUdf(input.body),
  };
  return signPayload(payload, REQUEST_TYPE, deviceKey);
}

/**
 * What was read from each request JWS object, with the member strings it was read from (issue #17):
 * a gateway reads a request for its nonce and again in verifyRequest, an auditor in verifyRequest and
 * again for its nonce. A kept reading answers only while the object holds exactly those three members
 * with those values, so it is the answer reading it again would give.
 */
const readRequests = new WeakMap<object, FlattenedJws & { readonly claims: RequestClaims }>();

function keptReading(jws: unknown): RequestClaims | undefined {
  if (typeof jws !== 'object' || jws === null) return undefined;
  const kept = readRequests.get(jws);
  if (kept === undefined) return undefined;
  const now = jws as Partial<FlattenedJws>;
  const same =
    Object.keys(jws).length === 3 &&
    Object.hasOwn(jws, 'protected') &&
    Object.hasOwn(jws, 'payload') &&
    Object.hasOwn(jws, 'signature') &&
    now.protected === kept.protected &&
    now.payload === kept.payload &&
    now.signature === kept.signature;
  return same ? kept.claims : undefined;
}

/**
 * Reads a signed request without verifying it. Throws 'request.malformed'. The claims are frozen: a
 * request object read again, unchanged, gives the same claims object.
 */
export function readRequest(jws: unknown): RequestClaims {
  const kept = keptReading(jws);
  if (kept !== undefined) return kept;
  const envelope = openEnvelope(jws, 'the request', 'request.malformed');
  if (envelope.type !== REQUEST_TYPE) throw new MeshError('request.malformed', `typ must be ${REQUEST_TYPE}`);
  const r: JsonReader = JsonReader.object(envelope.payload, 'the request', 'request.malformed');
  r.members(['Request', 'Portal', 'Account', 'Device', 'Time', 'Nonce', 'Body']);
  const claims: RequestClaims = {
    request: r.string('Request'),
    portal: r.string('Portal'),
    account: r.udf('Account'),
    device: r.udf('Device'),
    time: r.integer('Time'),
    nonce: r.string('Nonce'),
    body: r.string('Body'),
  };
  if (claims.device !== envelope.kid) r.fail('"Device" is not the kid');
  // The nonce is stored (the gateway's and every auditor's replay rows), and looked up before the
  // signature is checked: no byte PostgreSQL refuses (a NUL) and no unbounded length may reach a
  // store. This is what any sealed entry must satisfy; a gateway also requires the one form clients
  // make (checkRequestNonce), which an auditor does not impose on entries sealed before that rule.
  if (!STORABLE_NONCE.test(claims.nonce))
    r.fail(`"Nonce" must be 1 to ${MAX_NONCE_LENGTH} printable ASCII characters`);
  Object.freeze(claims);
  readRequests.set(jws as object, { ...envelope.jws, claims });
  return claims;
}

/**
 * Gateway side: a request received now carries its nonce in the one form clients make, base64url of
 * REQUEST_NONCE_BYTES bytes (22 characters), checked before the nonce is looked up. Throws
 * 'request.malformed'. An auditor does not apply it to sealed entries (readRequest's bound is theirs).
 */
export function checkRequestNonce(claims: RequestClaims): void {
  if (fromBase64Url(claims.nonce)?.length !== REQUEST_NONCE_BYTES)
    throw new MeshError(
      'request.malformed',
      `the request: "Nonce" is not base64url of ${REQUEST_NONCE_BYTES} bytes`,
    );
}

export interface RequestExpectation {
  readonly request: string;
  /** The origin of the portal checking (a gateway: its own; an auditor: the origin of the log). */
  readonly portal: string;
  readonly account: string;
  readonly body: object;
  /** The account's current Personal Profile: the signer MUST be one of its devices. */
  readonly personal: PersonalProfile;
  /** The portal's clock; when absent (an auditor re-checking the log) no window is applied. */
  readonly now?: number;
  readonly maxSkewMs?: number;
  /** How much further into the past than `maxSkewMs` the request may lie (default 0; RequestClock). */
  readonly maxDelayMs?: number;
  /** Signature verdicts computed elsewhere on exact bytes (`SignatureVerdicts`); else verified here. */
  readonly verdicts?: SignatureVerdicts;
}

export interface VerifiedRequest {
  readonly claims: RequestClaims;
  /** The connected device that signed. */
  readonly device: DeviceEntry;
}

/**
 * Server side (and auditor): checks a signed request, reporting the first failure:
 *   'request.malformed'       not a request JWS
 *   'request.mismatch'        signed for another request name, account or body
 *   'request.wrong-portal'    signed for another portal (`Portal` is not `expect.portal`)
 *   'request.unknown-device'  the signer is not a device of `personal`
 *   'request.bad-signature'   the signature does not verify
 *   'request.stale' / 'request.future'  outside [now − maxSkewMs − maxDelayMs, now + maxSkewMs] (only
 *                             when `now` is given)
 * It does NOT detect replays: the caller MUST refuse a (account, nonce) it accepted before within the
 * window ('request.replayed'), e.g. with a persistent nonce store keyed by claims.account and claims.nonce.
 */
export async function verifyRequest(jws: unknown, expect: RequestExpectation): Promise<VerifiedRequest> {
  const claims = readRequest(jws);
  if (claims.request !== expect.request)
    throw new MeshError('request.mismatch', `signed for ${claims.request}, not ${expect.request}`);
  if (claims.account !== expect.account)
    throw new MeshError('request.mismatch', 'signed for another account');
  if (claims.portal !== expect.portal)
    throw new MeshError(
      'request.wrong-portal',
      `signed for the portal ${JSON.stringify(claims.portal)}, not ${JSON.stringify(expect.portal)}`,
    );
  if (claims.body !== requestBodyUdf(expect.body))
    throw new MeshError('request.mismatch', 'signed for another body');
  const device = findDevice(expect.personal, claims.device);
  if (device === undefined)
    throw new MeshError(
      'request.unknown-device',
      `${claims.device} is not a device of ${expect.personal.id}`,
    );
  const { algorithm, publicKey } = device.signature;
  if (algorithm !== 'Ed25519' && algorithm !== 'Ed448')
    throw new MeshError('request.malformed', 'not an EdDSA key');
  try {
    await verifyJws(
      jws,
      { algorithm, publicKey },
      expect.verdicts === undefined ? {} : { verdicts: expect.verdicts },
    );
  } catch (cause) {
    if (isCryptoError(cause, 'jws.bad-signature'))
      throw new MeshError('request.bad-signature', 'the request signature does not verify', { cause });
    throw new MeshError('request.malformed', 'the request JWS is not acceptable', { cause });
  }
  if (expect.now !== undefined)
    checkRequestTime(claims, expect.now, expect.maxSkewMs ?? DEFAULT_MAX_SKEW_MS, expect.maxDelayMs ?? 0);
  return { claims, device };
}

/**
 * 'request.stale' / 'request.future' unless `claims.time` lies within
 * [now − maxSkewMs − maxDelayMs, now + maxSkewMs]: `maxSkewMs` either way (the clocks' disagreement),
 * plus `maxDelayMs` into the past only (the time between the request's arrival and `now`, e.g. an
 * auditor's seal time; 0 for a gateway checking on arrival).
 */
export function checkRequestTime(
  claims: RequestClaims,
  now: number,
  maxSkewMs: number,
  maxDelayMs = 0,
): void {
  if (claims.time < now - maxSkewMs - maxDelayMs)
    throw new MeshError(
      'request.stale',
      `the request is ${now - claims.time} ms old (window ${maxSkewMs} ms${maxDelayMs > 0 ? ` + ${maxDelayMs} ms of delay` : ''})`,
    );
  if (claims.time > now + maxSkewMs)
    throw new MeshError(
      'request.future',
      `the request is ${claims.time - now} ms ahead (window ${maxSkewMs} ms)`,
    );
}

/**
 * The administrator right (000 §7: connection requests and decisions): the device's signature key MUST
 * be an administrator key of the Master Profile. Throws 'request.not-administrator'.
 */
export function checkAdministrator(master: MasterProfile, device: DeviceEntry): void {
  if (!master.administrators.some((k) => keyHasId(k, device.signature.udf)))
    throw new MeshError('request.not-administrator', `${device.id} is not an administrator of ${master.id}`);
}
