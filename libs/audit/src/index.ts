/**
 * The auditor of a peer's log (docs/design/federation.md "Mirror and audit"), pure: no Nest, no
 * TypeORM, no Kafka client. The replication service feeds it messages and stores what it yields,
 * through the ports declared here (mirror-store.ts, finding-store.ts, cosignature-store.ts).
 */
export { AccountStates } from './account-states';
export { compareSeals, partViolation, ruleFinding } from './audit-findings';
export type {
  AuditHead,
  AuditReads,
  AuditStep,
  AuditedPeer,
  SealComparison,
  TopicRecord,
  TransportError,
  VerifiedPart,
} from './audit-step';
export { fixedClock, systemClock } from './clock';
export type { Clock } from './clock';
export type { CosignatureRecord, CosignatureStore } from './cosignature-store';
export { SEALED_VIOLATION_CODES, isSealedViolation } from './finding';
export type { Finding, FindingCode, FindingCodes, SealedViolationCode } from './finding';
export type { FindingStore, StoredFinding } from './finding-store';
export type {
  AccountStateRecord,
  MirrorPartExtras,
  MirrorPartRecord,
  MirrorProgress,
  MirrorStore,
  OwnSealReader,
  RosterPeer,
  RosterPortal,
  RosterStore,
  StoredAccountState,
} from './mirror-store';
export { PeerAudit } from './peer-audit';
export type { PeerAuditOptions } from './peer-audit';
export {
  DEFAULT_SIGNATURE_CHUNK,
  SignaturesRefused,
  withBatchedSignatures,
  withDeferredSignatures,
} from './signature-batches';
export type { VerifyBatch } from './signature-batches';
