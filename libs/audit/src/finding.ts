import type { FindingKind } from '@cryptomesh/intermesh/witness-message';
import type { MeshErrorCode } from '@cryptomesh/mesh';

/**
 * The verifier's violations that a validly signed seal of the peer proves on its own (with the
 * previous seal, also signed by the peer): the seal's part does not follow, its root or chain does not
 * extend the previous ones, its time goes back or too far ahead. The `code` of a `bad-part` finding.
 */
export const SEALED_VIOLATION_CODES = [
  'verify.gap',
  'verify.inconsistent',
  'verify.chain',
  'verify.time',
  // A key transition not signed by the current key (or its successor), or not closing its part;
  // a seal by a key a transition retired (docs/design/log-format.md "Key transitions").
  'verify.transition',
  'verify.retired-key',
] as const;
export type SealedViolationCode = (typeof SEALED_VIOLATION_CODES)[number];

/**
 * The codes a finding of each kind may carry (docs/design/federation.md "Findings"), keyed by the
 * kinds of the one declaration `FINDING_KINDS` (libs/intermesh witness-message.ts): a kind added there
 * does not compile until it gets its codes here.
 */
export interface FindingCodes {
  /** Two seals for one part: seen on the topic or the query service, or cosigned by another witness. */
  readonly equivocation: 'seal.conflict' | 'cosignature.conflict';
  readonly 'bad-part': SealedViolationCode;
  /** A part missing from the topic (a peer's report; this portal repairs gaps by catch-up). */
  readonly gap: 'assembler.gap';
  readonly stale: 'mirror.stale';
  /** The violation the re-check of the entry reported (libs/mesh MeshErrorCode). */
  readonly rule: MeshErrorCode;
  /** Two signed escrow messages for one key with other bytes (issue #19 item 2). */
  readonly 'escrow-conflict': 'escrow.conflict';
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time: FindingCodes has exactly the kinds of FINDING_KINDS. */
const CODES_COVER_KINDS: Same<keyof FindingCodes, FindingKind> = true;
void CODES_COVER_KINDS;

/** A code of a finding of `K`; with no argument, any finding code. */
export type FindingCode<K extends FindingKind = FindingKind> = FindingCodes[K];

/**
 * A finding of this portal before it is fingerprinted, signed and stored — the one type every builder
 * (`partViolation`, `ruleFinding`, the seal comparison, the stale check, the intake's equivocation)
 * returns. `code` is one of its kind's codes: an unknown one does not type-check. `evidence` is
 * deterministic JSON.
 */
export type Finding = {
  readonly [K in FindingKind]: {
    readonly kind: K;
    readonly code: FindingCodes[K];
    readonly part: number | null;
    readonly detail: string;
    readonly evidence: Record<string, unknown>;
  };
}[FindingKind];

/** Whether a verifier violation is one a valid seal proves (a `bad-part` code). */
export function isSealedViolation(code: string): code is SealedViolationCode {
  return (SEALED_VIOLATION_CODES as readonly string[]).includes(code);
}
