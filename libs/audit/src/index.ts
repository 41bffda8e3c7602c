/**
 * The auditor of a peer's log (docs/design/federation.md "Mirror and audit"), pure: no Nest, no
 * TypeORM, no Kafka client. The replication service feeds it messages and stores what it yields.
 */
export { AccountStates } from './account-states';
export { partViolation, ruleFinding, SEALED_VIOLATIONS } from './audit-findings';
export type {
  AuditHead,
  AuditReads,
  AuditStep,
  AuditedPeer,
  FindingDraft,
  SealComparison,
  TopicRecord,
  TransportError,
  VerifiedPart,
} from './audit-step';
export { PeerAudit } from './peer-audit';
