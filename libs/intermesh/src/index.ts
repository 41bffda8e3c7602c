export { WITNESS_TOPIC, logTopic, portalIdOfLogTopic, isValidPortalId } from './topics';
export { kafkaClientConfig } from './kafka-client-config';
export { kafkaRequestQueueClass, repairKafkaRequestQueue } from './kafka-request-queue';
export type { KafkaConnection, KafkaSasl } from './kafka-client-config';
export { ensureTopics } from './ensure-topics';
export type { TopicSpec } from './ensure-topics';
export type { ConsumerProgressStore } from './consumer-progress-store';
export { IntermeshError, isIntermeshError } from './intermesh-error';
export type { IntermeshErrorCode, IntermeshEvidence } from './intermesh-error';
export {
  DEFAULT_LOG_MESSAGE_BYTES,
  LOG_ENTRY_MAX_BYTES,
  LOG_MESSAGE_MAX_BYTES,
  LOG_MESSAGE_MIN_BYTES,
  LOG_MESSAGE_TYPE_HEADER,
  LOG_MESSAGE_VERSION,
  PartEncoder,
  decodeLogMessage,
  encodeLogMessage,
  encodePart,
} from './log-message';
export type {
  EntriesMessage,
  FragmentMessage,
  LogMessage,
  LogMessageType,
  LogRecord,
  PartSeal,
  SealMessage,
} from './log-message';
export { DEFAULT_PART_LIMITS, PartAssembler } from './part-assembler';
export type { AssembledPart, AssembledSeal, AssemblerOutcome, PartLimits } from './part-assembler';
export {
  ESCROW_MESSAGE_TYPE,
  ESCROW_MESSAGE_VERSION,
  ESCROW_SIGNATURE_CONTEXT,
  checkEscrowBlob,
  decodeEscrowMessage,
  encodeEscrowMessage,
  escrowDigest,
  escrowDigestStatement,
  escrowStatement,
  signEscrow,
  verifyEscrowMessage,
} from './escrow-message';
export type { EscrowCheck, EscrowMessage, EscrowRecord } from './escrow-message';
export {
  INBOUND_MESSAGE_TYPE,
  INBOUND_MESSAGE_VERSION,
  INBOUND_POW_MAX_CHARS,
  INBOUND_SIGNATURE_CONTEXT,
  decodeInboundMessage,
  encodeInboundMessage,
  inboundStatement,
  signInbound,
  verifyInboundMessage,
} from './inbound-message';
export type { InboundCheck, InboundMessage, InboundRecord } from './inbound-message';
export type { OutboxPart, PublicationOutbox, PublishOutcome } from './publication-outbox';
export { KafkaLogProducer, logProducerConfig } from './kafka-log-producer';
export {
  FINDING_CODE_MAX_CHARS,
  FINDING_DETAIL_MAX_CHARS,
  FINDING_KINDS,
  FINDING_SIGNATURE_CONTEXT,
  WITNESS_MESSAGE_VERSION,
  decodeWitnessMessage,
  encodeWitnessMessage,
  findingFingerprint,
  findingSignedMessage,
  signFinding,
  verifyFinding,
} from './witness-message';
export type {
  CosignatureMessage,
  FindingFields,
  FindingFingerprintFields,
  FindingKind,
  FindingMessage,
  WitnessMessage,
  WitnessMessageType,
  WitnessRecord,
} from './witness-message';
export type { JsonValue } from '@cryptomesh/log';
export { FederationConfigError, defaultCosignatureQuorum, parseFederationPeers } from './federation-peers';
export type { FederationPeer, FederationPeers, FederationSelf } from './federation-peers';
