import type { ObjectState } from './persistence-model';
import type { MasterProfile, PersonalProfile, SignedProfile } from './profile-types';
import type { ProfileView } from './signing-rules';

/**
 * What the rules need to know about one account: its status, its current Master and Personal Profiles,
 * and the persistence-model state of the objects of its catalog (mesh-model.md "Account state").
 * The catalog is per account: an object is named by (account UDF, object identifier).
 * Immutable: applyRecord returns a new state.
 */
export interface AccountState {
  readonly account: string;
  /** `moved`: closed by a MoveAccount; `movedTo` names the new home's origin. */
  readonly status: 'active' | 'deleted' | 'moved';
  readonly movedTo?: string;
  readonly master: SignedProfile<MasterProfile>;
  readonly personal: SignedProfile<PersonalProfile>;
  /**
   * Object identifier → state. applyRecord reads only the identifiers the record names (the Master and
   * Personal Profiles' included), so a gateway MAY load just those from its database.
   */
  readonly objects: ReadonlyMap<string, ObjectState<SignedProfile>>;
}

/** The ProfileView of one account: its own Master and Personal Profiles only. */
export function accountView(
  master: SignedProfile<MasterProfile>,
  personal: SignedProfile<PersonalProfile> | undefined,
): ProfileView {
  return {
    master: (id) => (id === master.profile.id ? master.profile : undefined),
    personal: (id) => (personal !== undefined && id === personal.profile.id ? personal.profile : undefined),
  };
}
