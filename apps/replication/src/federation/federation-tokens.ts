/**
 * Nest tokens of the federation's ports (`@cryptomesh/audit`: mirror-store.ts, finding-store.ts,
 * cosignature-store.ts, clock.ts). Each is provided once, by federation.module.ts, with the adapter
 * that implements it; a consumer injects only the ports it uses.
 */
export const MIRROR_STORE = Symbol('MIRROR_STORE');
export const ROSTER_STORE = Symbol('ROSTER_STORE');
export const OWN_SEAL_READER = Symbol('OWN_SEAL_READER');
export const FINDING_STORE = Symbol('FINDING_STORE');
export const COSIGNATURE_STORE = Symbol('COSIGNATURE_STORE');
/** The one wall clock of the mirror, the audit, the witness and the intake (`Clock`). */
export const FEDERATION_CLOCK = Symbol('FEDERATION_CLOCK');
/** The witness's latest cosigned checkpoint per origin (`POST /add-checkpoint`). */
export const WITNESS_CHECKPOINT_STORE = Symbol('WITNESS_CHECKPOINT_STORE');
