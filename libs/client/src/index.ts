/**
 * @cryptomesh/client — the Mesh client SDK (docs/design/client.md): local state behind the
 * `ClientStore` port, trust on first use of a portal and its federation, verified reads (checkpoint
 * signature, cosignature quorum, consistency, inclusion, profile rules), the profile manager, the
 * password application, offline escrow, the catalog services and the inbound services. Portable: it runs in a browser — `@cryptomesh/crypto/portable`,
 * global `fetch`, no `node:*`, no Buffer (STYLE.md §1; purity.spec.ts). Named exports, one by one.
 */
export { ClientError, isClientError } from './client-error';
export type { ClientErrorCode, ClientErrorOptions } from './client-error';
export { MemoryClientStore } from './client-store';
export type { ClientStore } from './client-store';
export {
  DEFAULT_TIMEOUT_MS,
  globalFetch,
  joinUrl,
  portalRequest,
  refusal,
  refusalCode,
  urlOrigin,
} from './portal-http';
export type { FetchLike, PortalAnswer, PortalRequestOptions } from './portal-http';
export { QueryClient } from './query-client';
export type {
  ConsistencyAnswer,
  FederationAnswer,
  FederationPeerAnswer,
  ProfileAnswer,
  ProofPath,
  ProofSource,
} from './query-client';
export {
  TRUST_DOCUMENT,
  cosignerKeysFor,
  discoverTrust,
  logKeyOf,
  logOwner,
  trustFromJson,
  trustToJson,
} from './trust';
export type { PinnedPortal, PortalTrust } from './trust';
export { checkpointDocument, storeCheckpointMemory, verifyCheckpoint } from './checkpoint-verifier';
export type { CheckpointContext, CheckpointMemory, RememberedCheckpoint } from './checkpoint-verifier';
export { fetchVerifiedProfile } from './verified-profile';
export { checkCurrent, storeProfileMemory } from './profile-memory';
export type { ProfileMemory, RememberedProfile, ServedValue } from './profile-memory';
export { deleteAccount, moveAccount } from './account-close';
export type { FetchProfileOptions, VerifiedProfile } from './verified-profile';
export { GatewayClient, MESH_PROTOCOL_PATH, portalErrorCode } from './gateway-client';
export type { GatewayFields, PortalHello } from './gateway-client';
export {
  DEVICE_KEYS_DOCUMENT,
  MASTER_KEY_DOCUMENT,
  deviceKeysJson,
  generateDeviceKeys,
  generateMasterKey,
  loadDeviceKeys,
  loadMasterKey,
  readDeviceKeys,
  readPrivateKey,
  saveDeviceKeys,
  saveMasterKey,
} from './device-keys';
export type { DeviceKeys } from './device-keys';
export {
  PROFILE_DOCUMENT,
  accountName,
  applicationDocument,
  readApplicationDocuments,
  readProfileDocument,
  requireActiveProfile,
  writeProfileDocument,
} from './profile-document';
export type { ActiveProfile, PortalRef, ProfileDocument, ProfileStatus } from './profile-document';
export { AccountSession } from './account-session';
export type { LogCheck, SessionEnvironment } from './account-session';
export { DEFAULT_LOG_WAIT_MS, loadTrust, saveTrust, verifiedLogCheck } from './log-check';
export type { LogCheckOptions } from './log-check';
export { applicationDevices, nextPersonalInput, openApplication, sealApplication } from './application-data';
export type { ApplicationContent } from './application-data';
export { MeshProfileManager } from './profile-manager';
export type { OpenProfile, PortalOptions, ProfileManagerOptions } from './profile-manager';
export type { DeviceInfo, PendingDevice } from './device-admin';
export { PASSWORD_APPLICATION, PasswordApp, normaliseSite } from './password-app';
export type { PasswordEntry } from './password-app';
export { ESCROW_DOCUMENTS, createEscrow, openEscrow, recoverEscrow, sealEscrow } from './escrow';
export type { EscrowBlob, EscrowContent, EscrowShares } from './escrow';
export {
  ESCROW_AGENT_KEY_DOCUMENT,
  RESTORED_DOCUMENTS,
  RESTORE_KEY_DOCUMENT,
  agentKey,
  escrowAgents,
  keepRestored,
  nameEscrowAgent,
  checkAgentKey,
  readAgentPublicKey,
  removeEscrowAgent,
  requestRestore,
  restoreForRequest,
  restoreKey,
  RESTORE_REQUEST_DOCUMENT,
} from './online-escrow';
export type { EscrowAgentInfo } from './online-escrow';
export { openForRequest } from './online-escrow-open';
export {
  RESTORE_REQUEST_MAX_AGE_MS,
  checkRestoreRequest,
  consentKeyPair,
  formatConsentCode,
  openRestorePackage,
  PACKAGE_MAC_INFO,
  parseConsentCode,
  restoreRequestDigest,
  sealRestorePackage,
  signRestoreRequest,
} from './online-escrow-consent';
export type {
  PackageBinding,
  RestorePackage,
  RestoreRequest,
  RestoredApplication,
} from './online-escrow-consent';
export { MAX_RETRIES, MAX_RETRY_AFTER_S, abortableSleep, retryRateLimited } from './rate-limit-retry';
export type { RetryOptions } from './rate-limit-retry';
export { TiledLog, verifyTiledLog } from './tiled-log';
export { MeshCatalog, NATURAL_KEY } from './catalog';
export type { CatalogObject, StoredCatalogObject } from './catalog';
export { CATALOG_SEEN_DOCUMENT } from './catalog-seen';
export { reencryptCatalogs, reencryptCatalogsIfReadable } from './catalog-sync';
export type { CatalogSyncOutcome, CatalogSyncReport } from './catalog-sync';
export type { CatalogMoveOutcome } from './catalog-move';
export { openAccount, ownRecipients } from './catalog-account';
export type { OpenAccount } from './catalog-account';
export { contactAddress, getContact, listContacts, putContact, removeContact } from './catalog-contacts';
export type { Contact, ContactInput, ContactTrust } from './catalog-contacts';
export { MeshInbound } from './inbound';
export type { ConfirmationStatus, PinOptions, Received } from './inbound';
export {
  contentProblem,
  DEFAULT_INBOUND_MAX_AGE_MS,
  deleteInbound,
  inboundMaxAgeMs,
  receiveInbound,
} from './inbound-receive';
export type { InboundItem, ReceiveOptions, RefusedItem } from './inbound-receive';
export { LOG_PROVER, lookupAccount, recipientName, soleOwner, verifiedAccount } from './inbound-recipient';
export type {
  AccountHint,
  AccountOwnerHint,
  AccountProver,
  RecipientName,
  VerifiedAccount,
} from './inbound-recipient';
export {
  DEFAULT_CONTACT_POW_LEVEL,
  SENT_PREFIX,
  contactProofOfWorkLevel,
  sendInbound,
  sentItem,
} from './inbound-send';
export type { SentItem } from './inbound-send';
