import {
  base32Decode,
  base32Encode,
  decryptJwe,
  encryptJwe,
  fromBase64Url,
  isCryptoError,
  keyUdf,
  publicJwk,
  publicKeyOf,
  readJwk,
  readJwsHeader,
  signJws,
  toBase64Url,
  utf8,
  verifyJws,
  type FlattenedJws,
  type KeyPair,
} from '@cryptomesh/crypto/portable';
import type { JsonObject, MasterProfile } from '@cryptomesh/mesh';
import { x25519 } from '@noble/curves/ed25519';
import { equalBytes } from '@noble/curves/utils';
import { hkdf } from '@noble/hashes/hkdf';
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { ClientError } from './client-error';

/**
 * The pure parts of online escrow (issue #19 item 3; docs/decisions.md "Online escrow"): the consent
 * code the user keeps on paper, the restore request it signs, the agent's check of that request
 * against the Master Profile, and the restore package the agent encrypts to the new device.
 *
 * Consent: when the user names an agent, a random 32-byte consent seed is drawn; its Ed25519 public
 * key goes into the Master Profile as `EscrowConsent` (signed by the master key, so neither the
 * portal nor the agent can change it), the seed is printed once as the consent code and kept by the
 * user only. The agent acts only on a restore request signed by that key, which names the account,
 * its fingerprint and the one X25519 key the data may be encrypted to: a request copied or replayed
 * by anyone can only ever deliver the data to the device that holds that key.
 */

/** The `Type` of a restore request's payload (and its JWS `typ`). */
export const RESTORE_REQUEST_TYPE = 'MeshEscrowRestore';
/** A request older than this is refused by the agent (the consent does not last for ever). */
export const RESTORE_REQUEST_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** A request dated further in the future than this is refused (clock skew). */
export const RESTORE_REQUEST_MAX_SKEW_MS = 5 * 60 * 1000;
const CONSENT_SEED_BYTES = 32;
const PACKAGE_VERSION = 1;

/** The consent key pair of a seed (the seed is the Ed25519 private key). */
export function consentKeyPair(seed: Uint8Array): KeyPair<'Ed25519'> {
  return { algorithm: 'Ed25519', privateKey: seed, publicKey: publicKeyOf('Ed25519', seed) };
}

/** A consent seed as printed: Base32 in dash-separated groups of four (52 characters). */
export function formatConsentCode(seed: Uint8Array): string {
  return (base32Encode(seed).match(/.{1,4}/g) ?? []).join('-');
}

/** The seed of a printed consent code; `usage.invalid` when it is not one (typo, truncated). */
export function parseConsentCode(code: string): Uint8Array {
  const decoded = base32Decode(code.replace(/[-\s]/g, '').toUpperCase());
  if (decoded?.bytes.length !== CONSENT_SEED_BYTES || !decoded.leftoverZero)
    throw new ClientError('usage.invalid', 'this is not an escrow consent code (52 Base32 characters)', {
      check: 'consent code',
    });
  return decoded.bytes;
}

/** What a restore request asks: the account, its fingerprint, and the new device's key. */
export interface RestoreRequest {
  readonly account: string;
  readonly fingerprint: string;
  /** The X25519 key the restore package is encrypted to (the new device's). */
  readonly device: { readonly algorithm: 'X25519'; readonly publicKey: Uint8Array };
  readonly created: number;
}

/** The restore request signed with the consent key of `seed` (a flattened JWS). */
export async function signRestoreRequest(
  request: RestoreRequest,
  seed: Uint8Array,
  nonce: Uint8Array,
): Promise<FlattenedJws> {
  const payload = {
    Type: RESTORE_REQUEST_TYPE,
    Account: request.account,
    Fingerprint: request.fingerprint,
    Device: publicJwk('X25519', request.device.publicKey),
    Created: request.created,
    Nonce: toBase64Url(nonce),
  };
  return signJws(utf8(JSON.stringify(payload)), consentKeyPair(seed), { type: RESTORE_REQUEST_TYPE });
}

/**
 * The agent's consent check: `jws` is a restore request signed by the Master Profile's
 * `EscrowConsent` key, for this agent (`agentKeyUdf` is the Master Profile's `Escrow`), for the
 * account and fingerprint `master` is, dated within [now − 24 h, now + 5 min]. Resolves with the
 * request; throws ClientError `usage.invalid` (check `escrow consent`) naming the first rule broken.
 */
export async function checkRestoreRequest(
  jws: unknown,
  master: MasterProfile,
  agentKeyUdf: string,
  now: number,
): Promise<RestoreRequest> {
  const refuse = (why: string, cause?: unknown): never => {
    throw new ClientError('usage.invalid', `restore refused: ${why}`, {
      check: 'escrow consent',
      ...(cause === undefined ? {} : { cause }),
    });
  };
  if (master.escrow === undefined || master.escrowConsent === undefined)
    return refuse(`the Master Profile ${master.id} names no escrow agent`);
  if (master.escrow.udf !== agentKeyUdf)
    return refuse(`this agent (${agentKeyUdf}) is not the escrow agent of ${master.id}`);
  const consent = master.escrowConsent;
  let payload: Record<string, unknown>;
  try {
    if (readJwsHeader(jws).kid !== consent.udf) return refuse('the request is not signed by the consent key');
    if (consent.algorithm !== 'Ed25519' && consent.algorithm !== 'Ed448')
      return refuse('the consent key is no signature key');
    const verified = await verifyJws(jws, { algorithm: consent.algorithm, publicKey: consent.publicKey });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    return refuse(
      `the request's signature does not verify with the consent key${isCryptoError(cause) ? `: ${cause.message}` : ''}`,
      cause,
    );
  }
  if (typeof payload !== 'object' || payload === null || payload.Type !== RESTORE_REQUEST_TYPE)
    return refuse('not a restore request');
  if (typeof payload.Account !== 'string' || typeof payload.Fingerprint !== 'string')
    return refuse('no Account or Fingerprint');
  if (payload.Fingerprint !== master.id)
    return refuse(`the request is for ${payload.Fingerprint}, not ${master.id}`);
  const created = payload.Created;
  if (typeof created !== 'number' || !Number.isInteger(created)) return refuse('no Created time');
  if (created < now - RESTORE_REQUEST_MAX_AGE_MS) return refuse('the request is older than 24 hours');
  if (created > now + RESTORE_REQUEST_MAX_SKEW_MS) return refuse('the request is dated in the future');
  let device;
  try {
    device = readJwk(payload.Device);
  } catch (cause) {
    return refuse('its Device is not a public key', cause);
  }
  if (device.algorithm !== 'X25519' || device.privateKey !== undefined)
    return refuse('its Device is not a public X25519 key');
  return {
    account: payload.Account,
    fingerprint: payload.Fingerprint,
    device: { algorithm: 'X25519', publicKey: device.publicKey },
    created,
  };
}

/** One application's content as the agent restores it. */
export interface RestoredApplication {
  readonly type: string;
  readonly name: string;
  readonly public: JsonObject;
  readonly private?: JsonObject;
}

/** What the new device receives: the account's applications, decrypted by the agent. */
export interface RestorePackage {
  readonly account: string;
  readonly fingerprint: string;
  readonly applications: readonly RestoredApplication[];
}

/** The HKDF `info` prefix of the package MAC key (domain separation; docs/decisions.md "Online escrow"). */
export const PACKAGE_MAC_INFO = 'cryptomesh online escrow package v1';

/**
 * The digest of a restore request (SHA-256 of `protected.payload.signature`, base64url): the package
 * MAC is bound to the one request it answers, whatever JSON whitespace carried it.
 */
export function restoreRequestDigest(jws: FlattenedJws): string {
  return toBase64Url(sha256(utf8(`${jws.protected}.${jws.payload}.${jws.signature}`)));
}

/** What a package's MAC binds: the account and fingerprint asked for, and the request's digest. */
export interface PackageBinding {
  readonly account: string;
  readonly fingerprint: string;
  readonly requestDigest: string;
}

/**
 * The package MAC key: HKDF-SHA256 of the static-static X25519 secret between the agent's escrow key
 * and the new device's restore key, with `info` = PACKAGE_MAC_INFO, the fingerprint, the account and
 * the request digest. Only the holder of one of the two private keys computes it: the agent, or the
 * new device itself — never someone who saw the request only. Undefined when the agreement fails (a
 * small-order point).
 */
function packageMacKey(
  mine: Uint8Array,
  theirs: Uint8Array,
  binding: PackageBinding,
): Uint8Array | undefined {
  let shared;
  try {
    shared = x25519.getSharedSecret(mine, theirs);
  } catch {
    return undefined;
  }
  const info = [PACKAGE_MAC_INFO, binding.fingerprint, binding.account, binding.requestDigest].join('\n');
  return hkdf(sha256, shared, undefined, utf8(info), 32);
}

/**
 * The package: `JWE.MAC`, the JWE (base64url JSON) to the request's device key — only that device can
 * open it — and the HMAC-SHA256 (packageMacKey, agent side) of the JWE's base64url text: only the
 * agent made it.
 */
export async function sealRestorePackage(
  pkg: RestorePackage,
  request: RestoreRequest,
  agent: { readonly privateKey: Uint8Array; readonly requestDigest: string },
): Promise<string> {
  const plaintext = {
    Version: PACKAGE_VERSION,
    Account: pkg.account,
    Fingerprint: pkg.fingerprint,
    Applications: pkg.applications.map((a) => ({
      Type: a.type,
      Name: a.name,
      Public: a.public,
      ...(a.private === undefined ? {} : { Private: a.private }),
    })),
  };
  const jwe = await encryptJwe(utf8(JSON.stringify(plaintext)), [request.device], {
    contentType: 'application/json',
  });
  const body = toBase64Url(utf8(JSON.stringify(jwe)));
  const key = packageMacKey(agent.privateKey, request.device.publicKey, {
    account: pkg.account,
    fingerprint: pkg.fingerprint,
    requestDigest: agent.requestDigest,
  });
  if (key === undefined)
    throw new ClientError('usage.invalid', "no key agreement with the request's device key", {
      check: 'escrow consent',
    });
  return `${body}.${toBase64Url(hmac(sha256, key, utf8(body)))}`;
}

/**
 * Opens a package with the new device's X25519 key, for the request this device made (`binding`) and
 * the agent the account's logged Master Profile names (`agent` resolves with its X25519 public key;
 * called only once the package decrypted and names the request's account, so local refusals come
 * before any read). Refusals, in order: `usage.invalid` (check `restore package`) when it is not a
 * package to this key; `state.corrupt` when it decrypts to something else than a restore package;
 * `usage.invalid` (check `restore package agent`) when its account or fingerprint is not the
 * request's, or its MAC is not the named agent's for this request — forged by someone who saw the
 * request, or answering another.
 */
export async function openRestorePackage(
  text: string,
  key: KeyPair<'X25519'>,
  expected: { readonly agent: () => Promise<Uint8Array>; readonly binding: PackageBinding },
): Promise<RestorePackage & { readonly deviceKey: string }> {
  const [body = '', mac = '', ...rest] = text.trim().split('.');
  let value: Record<string, unknown>;
  try {
    const bytes = fromBase64Url(body);
    if (bytes === undefined) throw new Error('not base64url');
    const jwe = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    const plaintext = await decryptJwe(jwe, key);
    value = JSON.parse(new TextDecoder().decode(plaintext)) as Record<string, unknown>;
  } catch (cause) {
    throw new ClientError('usage.invalid', 'this is not a restore package for this device', {
      check: 'restore package',
      cause,
    });
  }
  const apps = value.Applications;
  if (
    value.Version !== PACKAGE_VERSION ||
    typeof value.Account !== 'string' ||
    typeof value.Fingerprint !== 'string' ||
    !Array.isArray(apps)
  )
    throw new ClientError('state.corrupt', 'the restore package is not of this SDK', {
      check: 'restore package',
    });
  const forged = (why: string): never => {
    throw new ClientError('usage.invalid', `restore package refused: ${why}`, {
      check: 'restore package agent',
    });
  };
  const { binding } = expected;
  if (value.Account !== binding.account || value.Fingerprint !== binding.fingerprint)
    forged(
      `it is for ${value.Account} (${value.Fingerprint}), not the ${binding.account} (${binding.fingerprint}) this device asked for`,
    );
  const macKey = packageMacKey(key.privateKey, await expected.agent(), binding);
  const tag = fromBase64Url(mac);
  if (
    rest.length > 0 ||
    macKey === undefined ||
    tag === undefined ||
    !equalBytes(tag, hmac(sha256, macKey, utf8(body)))
  )
    forged(
      `it is not made by the escrow agent of ${binding.fingerprint} for this device's request (forged, or answering another request)`,
    );
  const applications = apps.map((a: Record<string, unknown>) => {
    if (typeof a?.Type !== 'string' || typeof a.Name !== 'string' || typeof a.Public !== 'object')
      throw new ClientError('state.corrupt', 'an application of the restore package has no Type or Name', {
        check: 'restore package',
      });
    return {
      type: a.Type,
      name: a.Name,
      public: a.Public as JsonObject,
      ...(typeof a.Private === 'object' && a.Private !== null ? { private: a.Private as JsonObject } : {}),
    };
  });
  return {
    account: value.Account,
    fingerprint: value.Fingerprint,
    applications,
    deviceKey: keyUdf('X25519', key.publicKey),
  };
}
