import type { MeshErrorCode } from './mesh-error';

/**
 * The state of one catalog object under the persistence model of 000 §3.2.1. "undefined" is the
 * absence of a state (`undefined`); "active(value)" and "inactive" are these two.
 */
export type ObjectState<V> =
  { readonly status: 'active'; readonly value: V } | { readonly status: 'inactive' };

/** The three events of 000 §3.2.1. */
export type PublishOperation<V> =
  | { readonly action: 'create'; readonly value: V }
  | { readonly action: 'update'; readonly value: V }
  | { readonly action: 'delete' };

export type PublishAction = PublishOperation<unknown>['action'];

export type PersistenceViolationCode = Extract<MeshErrorCode, `persistence.${string}`>;

export type PublishOutcome<V> =
  | { readonly ok: true; readonly next: ObjectState<V> }
  | { readonly ok: false; readonly code: PersistenceViolationCode; readonly detail: string };

/**
 * The transition function of the persistence model, as this portal applies it (mesh-model.md
 * "Persistence model"):
 *   create(x)  only from undefined                → active(x)   else 'persistence.exists'
 *   update(y)  only from active                   → active(y)   else 'persistence.undefined' / 'persistence.inactive'
 *   delete     only from active                   → inactive    else 'persistence.undefined' / 'persistence.inactive'
 * Deliberately narrower than 000 §3.2.1 for update ("valid in any state"): an update MUST NOT create an
 * object (that would skip the create checks) nor revive a deleted one. Total and pure; never throws.
 */
export function applyPublish<V>(
  current: ObjectState<V> | undefined,
  operation: PublishOperation<V>,
): PublishOutcome<V> {
  if (operation.action === 'create') {
    if (current !== undefined)
      return {
        ok: false,
        code: 'persistence.exists',
        detail: `create of an object that is ${current.status}`,
      };
    return { ok: true, next: { status: 'active', value: operation.value } };
  }
  if (current === undefined)
    return {
      ok: false,
      code: 'persistence.undefined',
      detail: `${operation.action} of an object never created`,
    };
  if (current.status === 'inactive')
    return { ok: false, code: 'persistence.inactive', detail: `${operation.action} of a deleted object` };
  return operation.action === 'update'
    ? { ok: true, next: { status: 'active', value: operation.value } }
    : { ok: true, next: { status: 'inactive' } };
}
