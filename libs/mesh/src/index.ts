/**
 * @cryptomesh/mesh — the Mesh domain: profiles (000 §6) and their signing rules (§6.4), the persistence
 * model (§3.2.1), transaction records (the log's entries) with the auditor's re-check, signed requests
 * and proof of work. Pure and portable: no Nest, TypeORM, pg, Kafka, node: modules or Buffer
 * (STYLE.md §1; purity.spec.ts). The model is described in docs/design/mesh-model.md.
 */
export { MeshError, isMeshError } from './mesh-error';
export type { MeshErrorCode } from './mesh-error';
export { canonicalJson } from './json';
export type { JsonObject, JsonValue } from './json';

export { profileKey, readProfileKey } from './profile-key';
export type { KeyUse, ProfileKey, PublicKeyInput } from './profile-key';
export { PROFILE_TYPES } from './profile-types';
export type {
  ApplicationEntry,
  ApplicationProfile,
  DeviceEntry,
  DeviceProfile,
  MasterProfile,
  PersonalProfile,
  Profile,
  ProfileKind,
  SignedProfile,
} from './profile-types';
export {
  buildMasterProfile,
  escrowEntryProblem,
  masterPayload,
  masterProfileId,
  parseMasterProfile,
} from './master-profile';
export type { MasterProfileInput } from './master-profile';
export {
  buildPersonalProfile,
  deviceEntry,
  findApplicationSigner,
  findDevice,
  parsePersonalProfile,
  PERSONAL_PROFILE_CONTENT_ID,
  personalPayload,
  personalProfileId,
} from './personal-profile';
export type { ApplicationEntryInput, DeviceEntryInput, PersonalProfileInput } from './personal-profile';
export { buildDeviceProfile, devicePayload, parseDeviceProfile } from './device-profile';
export type { DeviceProfileInput } from './device-profile';
export {
  APPLICATION_PROFILE_CONTENT_ID,
  applicationPayload,
  applicationProfileId,
  buildApplicationProfile,
  parseApplicationProfile,
} from './application-profile';
export type { ApplicationProfileInput } from './application-profile';
export { profileKindOfType, readProfile, readProfileOf } from './signed-profile';

export { authorisedSigner, checkProfileSigner, profileView } from './signing-rules';
export type { ProfileView } from './signing-rules';
export { applyPublish } from './persistence-model';
export type {
  ObjectState,
  PersistenceViolationCode,
  PublishAction,
  PublishOperation,
  PublishOutcome,
} from './persistence-model';

export {
  checkAdministrator,
  checkRequestNonce,
  checkRequestTime,
  DEFAULT_MAX_SKEW_MS,
  MESH_PROTOCOL_VERSION,
  readRequest,
  REQUEST_BODY_CONTENT_ID,
  REQUEST_NONCE_BYTES,
  REQUEST_TYPE,
  requestBodyUdf,
  signRequest,
  verifyRequest,
} from './signed-request';
export type { RequestClaims, RequestExpectation, RequestInput, VerifiedRequest } from './signed-request';

export {
  authoriseRecord,
  decodeRecord,
  encodeRecord,
  parseRecord,
  recordJson,
  recordStatement,
} from './transaction-record';
export type {
  ConnectCompleteRecord,
  CreateAccountRecord,
  DeleteAccountRecord,
  MoveAccountRecord,
  Operation,
  PublishRecord,
  RecordContent,
  TransactionRecord,
} from './transaction-record';
export { accountView } from './account-state';
export type { AccountState } from './account-state';
export { applyRecord } from './apply-record';
export {
  CONNECT_NONCE_BYTES,
  CONNECT_WITNESS_BITS,
  CONNECT_WITNESS_CONTENT_ID,
  connectNonce,
  connectWitness,
  readConnectNonce,
} from './connect-witness';
export type { RequestClock } from './apply-record';
export { DEFAULT_MAX_SEAL_DELAY_MS, entryAccount, recheckEntry, recheckLog, recheckRecord } from './recheck';
export { NonceWindow } from './nonce-window';
export {
  entryProfiles,
  profileSetBy,
  profilesSetBy,
  recordEndsAccount,
  recordProfiles,
} from './record-profiles';
export type { ProfileChange, RecordProfiles } from './record-profiles';
export type { AuditedAccount, RecheckContext, RecheckLogResult, RecheckResult } from './recheck';
export { AUDITED_ACCOUNT_VERSION, decodeAuditedAccount, encodeAuditedAccount } from './audited-account-codec';

export {
  checkProofOfWork,
  MAX_PROOF_OF_WORK_LEVEL,
  PROOF_OF_WORK_CONTENT_ID,
  proofOfWorkLevel,
  proofOfWorkShows,
  proofOfWorkUdf,
  solveProofOfWork,
  solveProofOfWorkAsync,
  type ProofOfWorkOptions,
} from './proof-of-work';

export {
  applyCatalogEvent,
  CATALOG_KEY_ID,
  CATALOG_NAMES,
  CATALOG_VALUE_TYPE,
  contactAccount,
  isRetrievalKey,
  readCatalogValue,
  retrievalKey,
  signCatalogValue,
  verifyCatalogValue,
} from './catalog-value';
export type {
  AccessRule,
  CatalogAccess,
  CatalogAction,
  CatalogName,
  CatalogOutcome,
  CatalogValue,
  CatalogValueInput,
} from './catalog-value';
export {
  envelopeDigest,
  envelopeText,
  envelopeWorkBody,
  newEnvelopeId,
  INBOUND_ENVELOPE_TYPE,
  INBOUND_ID_PATTERN,
  INBOUND_KINDS,
  parseEnvelopeText,
  readEnvelope,
  signEnvelope,
  verifyEnvelope,
} from './inbound-envelope';
export type { EnvelopeInput, InboundEnvelope, InboundKind } from './inbound-envelope';
export { accessMatches, decideInbound } from './inbound-access';
export type { InboundDecision, InboundSender } from './inbound-access';
export { openInboundBody, sealInboundBody } from './inbound-body';
export type { InboundBinding, OpenedBody } from './inbound-body';
