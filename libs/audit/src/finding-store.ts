import type { FindingKind, WitnessRecord } from '@cryptomesh/intermesh/witness-message';

/**
 * The findings port (STYLE.md §4). Adapter: `TypeOrmFindingStore` of `@cryptomesh/persistence`.
 */

/**
 * A finding as stored in `findings` (docs/design/federation.md "Findings"): this portal's own
 * (`Finding`, whose code is of its kind), or a peer's as the peer signed it — its code is kept as
 * received, since the fingerprint covers it, and a peer's claim is never counted unless verified.
 */
export interface StoredFinding {
  readonly fingerprint: string;
  readonly subject: string;
  readonly reporter: string;
  readonly kind: FindingKind;
  readonly part: number | null;
  readonly code: string;
  readonly detail: string;
  readonly evidence: unknown;
  /** Default open; a finding already known to be over (a peer's stale report of a seal since superseded) is stored resolved. */
  readonly status?: 'open' | 'resolved';
  /**
   * Default true: this portal found it, or verified its evidence. False: a peer's claim that this
   * portal could not re-verify; it is shown, never counted (DESIGN.md invariant 7).
   */
  readonly verified?: boolean;
}

/**
 * Findings, stored once by fingerprint.
 * - `recordFinding` MUST, in one transaction, insert the finding and queue `outbox` when the
 *   fingerprint is new (resolve true), and otherwise change nothing but this: a verified finding
 *   makes a stored unverified claim with the same fingerprint verified (resolve false). It MUST
 *   resolve only once committed: a finding is never dropped (the witness consumer retries it).
 * - `resolveFindings` MUST resolve the open findings of `kind` on `subject` (all, or those with
 *   `part` ≤ `upToPart`) in one statement and resolve to how many.
 * - `hasOpenFinding` MUST read committed data.
 * - `resolveOwnStale` MUST resolve the open `stale` findings on this portal (`self`) whose evidence
 *   names a seal time (`timeMs`) older than this portal's own newest seal, and resolve to how many:
 *   a peer's claim that this portal was stale, recorded while it still was, ends once it sealed.
 */
export interface FindingStore {
  recordFinding(finding: StoredFinding, outbox?: WitnessRecord): Promise<boolean>;
  resolveFindings(subject: string, kind: FindingKind, upToPart?: number): Promise<number>;
  hasOpenFinding(subject: string, kind: FindingKind): Promise<boolean>;
  resolveOwnStale(self: string): Promise<number>;
}
