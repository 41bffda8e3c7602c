import type { AccountState } from './account-state';
import type { JsonObject, JsonValue } from './json';
import { isMeshError, MeshError } from './mesh-error';
import { NonceWindow } from './nonce-window';
import type { ObjectState } from './persistence-model';
import type { FlattenedJws } from '@cryptomesh/crypto/portable';
import type { MasterProfile, PersonalProfile, SignedProfile } from './profile-types';
import type { AuditedAccount } from './recheck';
import { readProfile, readProfileOf } from './signed-profile';

/**
 * The version of the stored form; a row of another version is refused, never guessed at. Version 1
 * carried the nonces inside the state; migration 1763809320000-account-nonces moved them to rows of
 * their own and rewrote every stored state as version 2.
 */
export const AUDITED_ACCOUNT_VERSION = 2;

/**
 * The stored form of an auditor's account state (`AuditedAccount`) without its nonces, as the mirror
 * and the log-signer keep it per account (docs/design/federation.md "Stored account states"): JSON
 * that holds everything else the next re-check reads — status (a `deleted` account is the tombstone
 * that catches its resurrection), `movedTo`, the Master and Personal Profiles, every catalog object
 * with its persistence state. The nonces are stored one row each (recheck.ts "AuditedAccount") and
 * given back to `decodeAuditedAccount`. A signed profile is kept as its JWS only:
 * `decodeAuditedAccount` reads it back with `readProfile`, which is how the re-check read it from the
 * entry in the first place, so decode(encode(a), a.nonces) deep-equals `a`.
 */
export function encodeAuditedAccount(account: AuditedAccount): JsonObject {
  const { state } = account;
  return {
    v: AUDITED_ACCOUNT_VERSION,
    account: state.account,
    status: state.status,
    ...(state.movedTo === undefined ? {} : { movedTo: state.movedTo }),
    master: jwsOf(state.master),
    personal: jwsOf(state.personal),
    objects: [...state.objects].map(([id, object]): JsonValue =>
      object.status === 'active' ? [id, jwsOf(object.value)] : [id, null],
    ),
  };
}

/**
 * Reads a stored account state back, with its stored nonces (nonce → request time, in any order).
 * Throws MeshError 'input.invalid' (naming what is wrong) for anything that `encodeAuditedAccount`
 * does not write: another version, a missing or extra field, a profile that does not read; and for a
 * nonce time that is not a safe integer or a repeated nonce.
 */
export function decodeAuditedAccount(
  value: unknown,
  storedNonces: Iterable<readonly [unknown, unknown]> = [],
): AuditedAccount {
  const o = object(value, 'the stored account state');
  const fields = ['v', 'account', 'status', 'movedTo', 'master', 'personal', 'objects'];
  const extra = Object.keys(o).find((k) => !fields.includes(k));
  if (extra !== undefined) bad(`unknown field ${extra}`);
  if (o.v !== AUDITED_ACCOUNT_VERSION)
    bad(`version ${JSON.stringify(o.v)} is not ${AUDITED_ACCOUNT_VERSION}`);
  const account = text(o.account, 'account');
  const status = o.status;
  if (status !== 'active' && status !== 'deleted' && status !== 'moved')
    bad('status is not active, deleted or moved');
  const movedTo = o.movedTo === undefined ? undefined : text(o.movedTo, 'movedTo');
  const master: SignedProfile<MasterProfile> = profile(
    () => readProfileOf(jws(o.master), 'master'),
    'master',
  );
  const personal: SignedProfile<PersonalProfile> = profile(
    () => readProfileOf(jws(o.personal), 'personal'),
    'personal',
  );
  const objects = new Map<string, ObjectState<SignedProfile>>();
  for (const item of array(o.objects, 'objects')) {
    const [id, stored] = pair(item, 'object');
    const key = text(id, 'object id');
    if (objects.has(key)) bad(`object ${key} appears twice`);
    objects.set(
      key,
      stored === null
        ? { status: 'inactive' }
        : { status: 'active', value: profile(() => readProfile(jws(stored)), `object ${key}`) },
    );
  }
  const nonces = new Map<string, number>();
  for (const [nonce, time] of storedNonces) {
    const key = text(nonce, 'nonce');
    if (nonces.has(key)) bad(`nonce ${key} appears twice`);
    if (typeof time !== 'number' || !Number.isSafeInteger(time))
      bad(`the time of nonce ${key} is not an integer`);
    nonces.set(key, time);
  }
  const state: AccountState = {
    account,
    status,
    ...(movedTo === undefined ? {} : { movedTo }),
    master,
    personal,
    objects,
  };
  return { state, nonces: NonceWindow.of(nonces) };
}

/**
 * The JWS object each signed profile was last encoded as (issue #17): a state is encoded again with
 * every batch or part that touches its account, and the stores serialise and hash a profile once
 * only while they are handed the same object for it (`storedStates`, libs/persistence). Frozen, and
 * given again only while the profile's JWS holds the same three members.
 */
const encodedJws = new WeakMap<
  SignedProfile,
  Readonly<{ protected: string; payload: string; signature: string }>
>();

function jwsOf(signed: SignedProfile): JsonObject {
  const { protected: header, payload, signature } = signed.jws;
  const kept = encodedJws.get(signed);
  if (kept?.protected === header && kept.payload === payload && kept.signature === signature) return kept;
  const jws = Object.freeze({ protected: header, payload, signature });
  encodedJws.set(signed, jws);
  return jws;
}

function bad(detail: string): never {
  throw new MeshError('input.invalid', `stored account state: ${detail}`);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') bad(`${what} is not a string`);
  return value;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) bad(`${what} is not an array`);
  return value as unknown[];
}

function pair(value: unknown, what: string): [unknown, unknown] {
  if (!Array.isArray(value) || value.length !== 2) bad(`${what} is not a pair`);
  return value as [unknown, unknown];
}

function jws(value: unknown): FlattenedJws {
  const o = object(value, 'a profile');
  if (Object.keys(o).length !== 3) bad('a profile is not exactly {protected, payload, signature}');
  return {
    protected: text(o.protected, 'protected'),
    payload: text(o.payload, 'payload'),
    signature: text(o.signature, 'signature'),
  };
}

function profile<T>(read: () => T, what: string): T {
  try {
    return read();
  } catch (error) {
    if (isMeshError(error)) bad(`${what}: ${error.message}`);
    throw error;
  }
}
