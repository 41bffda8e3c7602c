import type { Ed25519, LogError, Seal, VerifierKey } from '@cryptomesh/log';
import { findEquivocation, isLogError, parseNote, toBase64 } from '@cryptomesh/log';
import type { MeshErrorCode } from '@cryptomesh/mesh';
import type { AuditedPeer, SealComparison, TransportError } from './audit-step';
import { isSealedViolation, type Finding } from './finding';

/**
 * The verifier's violations that a validly signed seal of the peer proves on its own
 * (`SEALED_VIOLATION_CODES`). The checks before these (signature, size, part digest) passed, so the
 * entries received are exactly the ones the seal covers. Every other violation (no valid seal,
 * entries that do not match it) is a transport error.
 */

/**
 * What a part the verifier refused is (DESIGN.md invariant 7): a `bad-part` finding when the peer's
 * valid seal proves the violation (SEALED_VIOLATION_CODES), with the seal and the previous seal as evidence;
 * else a transport error.
 */
export function partViolation(
  peer: string,
  violation: LogError,
  part: number,
  note: string,
  previousSeal: string | undefined,
): { kind: 'finding'; finding: Finding } | { kind: 'transport'; error: TransportError } {
  const code = violation.code;
  if (!isSealedViolation(code))
    return {
      kind: 'transport',
      error: {
        code: violation.code,
        part,
        detail: `${peer}: part ${part} is not covered by a valid seal: ${violation.message}`,
      },
    };
  return {
    kind: 'finding',
    finding: {
      kind: 'bad-part',
      code,
      part,
      detail: `${peer}: part ${part} fails verification: ${violation.message}`,
      evidence: {
        code: violation.code,
        ...(violation.expected === undefined ? {} : { expected: violation.expected }),
        ...(violation.seen === undefined ? {} : { seen: violation.seen }),
        ...(previousSeal === undefined ? {} : { previousSeal }),
        seal: note,
      },
    },
  };
}

/**
 * An entry that a valid seal of the peer covers and that breaks a rule (the profile rules, the
 * persistence model, freshness, nonce uniqueness, no resurrected account): a `rule` finding whose
 * evidence is the entry, its index and the seals.
 */
export function ruleFinding(
  peer: string,
  violation: { readonly code: MeshErrorCode; readonly detail: string },
  seal: Seal,
  note: string,
  index: number,
  entry: Uint8Array,
  previousSeal: string | undefined,
): Finding {
  return {
    kind: 'rule',
    code: violation.code,
    part: seal.part.index,
    detail: `${peer}: entry ${index} breaks a rule: ${violation.detail}`,
    evidence: {
      code: violation.code,
      ...(previousSeal === undefined ? {} : { previousSeal }),
      seal: note,
      index,
      entry: toBase64(entry),
    },
  };
}

/**
 * A seal note of `peer` for a part whose stored seal is `stored` (`PeerAudit.compareSeal`): none when
 * they agree (the same body), else an equivocation finding when both are validly signed by `logKey`,
 * or a transport error when the new one is not a valid seal of the peer.
 */
export function compareSeals(
  peer: AuditedPeer,
  logKey: VerifierKey,
  ed25519: Ed25519,
  part: number,
  note: string,
  stored: string | undefined,
): SealComparison {
  if (stored === undefined || note === stored) return { kind: 'none' };
  try {
    if (parseNote(note).text === parseNote(stored).text) return { kind: 'none' };
  } catch {
    // A malformed note: reported below by findEquivocation's own check.
  }
  try {
    const evidence = findEquivocation({ logKey, origin: peer.origin, ed25519, notes: [stored, note] });
    if (evidence === undefined) return { kind: 'none' };
    return {
      kind: 'finding',
      finding: {
        kind: 'equivocation',
        code: 'seal.conflict',
        part,
        detail: `${peer.id} signed two different seals for part ${part}`,
        evidence: { ...evidence },
      },
    };
  } catch (error) {
    if (!isLogError(error)) throw error;
    return {
      kind: 'transport',
      error: {
        code: error.code,
        part,
        detail: `a seal for part ${part} that is not a valid seal of ${peer.id}: ${error.message}`,
      },
    };
  }
}
