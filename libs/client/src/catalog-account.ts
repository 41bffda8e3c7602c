import {
  decryptJwe,
  encryptJwe,
  isCryptoError,
  type AgreementKeyAlgorithm,
  type JweRecipient,
} from '@cryptomesh/crypto/portable';
import type { JsonObject, ProfileKey } from '@cryptomesh/mesh';
import type { AccountSession } from './account-session';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import { loadTrust } from './log-check';
import type { MeshProfileManager } from './profile-manager';
import type { ActiveProfile } from './profile-document';
import type { PortalTrust } from './trust';

/**
 * One device of one account, opened for the catalog and inbound services (docs/design/inbound.md):
 * the session with the home portal, the account's Master and Personal Profiles as verified through
 * the log just now (MeshProfileManager.refresh), and the pinned trust for verified reads of other
 * accounts. Every check of a catalog value or an inbound envelope is made against `doc`.
 */
export interface OpenAccount {
  readonly manager: MeshProfileManager;
  readonly store: ClientStore;
  readonly session: AccountSession;
  readonly doc: ActiveProfile;
  readonly trust: PortalTrust;
}

/** What the catalogs need of an open account (no trust: only the inbound services read others). */
export type CatalogAccount = Pick<OpenAccount, 'store' | 'session' | 'doc'>;

/**
 * Opens the home's account: its profile document, a session, the current Master and Personal
 * Profiles read and verified (refresh), the pinned trust. `state.missing` without a profile or a
 * trust.json.
 */
export async function openAccount(manager: MeshProfileManager): Promise<OpenAccount> {
  const opened = await manager.open();
  const doc = await manager.refresh(opened.session, opened.doc);
  const trust = await loadTrust(manager.store);
  if (trust === undefined)
    throw new ClientError('state.missing', 'no trust.json: this home has pinned no portal', {
      check: 'trust',
    });
  return { manager, store: manager.store, session: opened.session, doc, trust };
}

/**
 * Who can read the account's own private data (a catalog value's `Data`): the encryption key of
 * every device of the Personal Profile and, when the Master Profile names one, the online escrow
 * agent's key (000 §6.5.2, as application-data.ts sealApplication) — each key once.
 */
export function ownRecipients(doc: Pick<ActiveProfile, 'master' | 'personal'>): JweRecipient[] {
  const keys = doc.personal.profile.devices.map((d) => d.encryption);
  const escrow = doc.master.profile.escrow;
  return jweRecipients(
    escrow === undefined || keys.some((k) => k.udf === escrow.udf) ? keys : [...keys, escrow],
  );
}

/** Encryption keys of profiles as JWE recipients (profiles carry X25519 or X448 encryption keys). */
export function jweRecipients(keys: readonly ProfileKey[]): JweRecipient[] {
  return keys.map((k) => ({ algorithm: k.algorithm as AgreementKeyAlgorithm, publicKey: k.publicKey }));
}

/** `content` as a JWE (general JSON) to `recipients`. */
export async function sealJson(
  content: JsonObject,
  recipients: readonly JweRecipient[],
): Promise<JsonObject> {
  const jwe = await encryptJwe(new TextEncoder().encode(JSON.stringify(content)), recipients, {
    contentType: 'application/json',
  });
  return jwe as unknown as JsonObject;
}

/**
 * The JSON object inside `jwe`, decrypted with this device's key. `state.missing` when this device
 * is not one of its recipients (connected after it was written), `verify.answer` when it does not
 * decrypt or is not a JSON object; `what` names it in the message.
 */
export async function openJson(
  jwe: JsonObject,
  session: AccountSession,
  what: string,
  portal?: string,
): Promise<JsonObject> {
  const where = portal === undefined ? {} : { portal };
  let plaintext: Uint8Array;
  try {
    plaintext = await decryptJwe(jwe, session.keys.encryption);
  } catch (cause) {
    if (isCryptoError(cause, 'jwe.no-recipient'))
      throw new ClientError(
        'state.missing',
        `this device holds no key to ${what}: it was written before the device joined`,
        {
          ...where,
          check: 'recipient',
          cause,
        },
      );
    throw new ClientError('verify.answer', `${what} does not decrypt`, {
      ...where,
      check: 'decryption',
      cause,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ClientError('verify.answer', `${what} is not a JSON object`, { ...where, check: 'decryption' });
  return value as JsonObject;
}
