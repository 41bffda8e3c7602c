import {
  readProfile,
  readProfileOf,
  type AccountState,
  type ObjectState,
  type SignedProfile,
} from '@cryptomesh/mesh';
import type { CatalogAccount, CatalogObject } from '@cryptomesh/persistence';

/** The flattened JWS of a signed profile, as stored and as answered. */
export function jwsJson(signed: SignedProfile): Record<string, string> {
  return { protected: signed.jws.protected, payload: signed.jws.payload, signature: signed.jws.signature };
}

/** The same signed profile: the same object, or the same three JWS members. */
export function sameJws(a: SignedProfile, b: SignedProfile): boolean {
  return (
    a === b ||
    (a.jws.protected === b.jws.protected &&
      a.jws.payload === b.jws.payload &&
      a.jws.signature === b.jws.signature)
  );
}

/**
 * The Master and Personal Profiles of `after` that differ from `before`'s, flattened for the account
 * row (`CatalogChange.account`: one left out is kept as the row holds it).
 */
export function changedProfiles(
  before: AccountState,
  after: AccountState,
): { master?: Record<string, string>; personal?: Record<string, string> } {
  return {
    ...(sameJws(before.master, after.master) ? {} : { master: jwsJson(after.master) }),
    ...(sameJws(before.personal, after.personal) ? {} : { personal: jwsJson(after.personal) }),
  };
}

/**
 * The AccountState of `@cryptomesh/mesh` from the stored rows. The stored profiles were verified
 * when they were accepted; they are re-read (not re-verified) here. Throws if a stored value no
 * longer parses — a corrupt catalog, answered `internal`.
 */
export function accountState(account: CatalogAccount, objects: readonly CatalogObject[]): AccountState {
  const map = new Map<string, ObjectState<SignedProfile>>();
  for (const object of objects)
    map.set(
      object.objectId,
      object.state === 'active'
        ? { status: 'active', value: readProfile(object.value) }
        : { status: 'inactive' },
    );
  return {
    account: account.accountUdf,
    status: account.status,
    ...(account.movedTo === undefined ? {} : { movedTo: account.movedTo }),
    master: readProfileOf(account.master, 'master'),
    personal: readProfileOf(account.personal, 'personal'),
    objects: map,
  };
}

/**
 * The catalog rows to write to go from `before` to `after`: the objects whose state applyRecord
 * replaced (it copies unchanged states by reference, so identity tells what changed).
 */
export function changedObjects(before: AccountState | undefined, after: AccountState): CatalogObject[] {
  const changed: CatalogObject[] = [];
  for (const [id, state] of after.objects) {
    const old = before?.objects.get(id);
    if (old === state) continue;
    if (state.status === 'active') {
      changed.push({
        objectId: id,
        kind: state.value.profile.kind,
        state: 'active',
        value: jwsJson(state.value),
      });
    } else {
      const kind = old?.status === 'active' ? old.value.profile.kind : undefined;
      if (kind === undefined) continue; // inactive before and after: nothing to write
      changed.push({ objectId: id, kind, state: 'deleted', value: undefined });
    }
  }
  return changed;
}
