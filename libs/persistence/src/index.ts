export { dataSourceOptions } from './data-source-options';
export type { DatabaseOptions } from './data-source-options';
export { ENTITIES } from './entities';
export { ConsumerProgressEntity } from './entities/consumer-progress.entity';
export { MIGRATIONS } from './migrations';
export { runMigrations, schemaIsCurrent } from './migrate';
export { PersistenceModule } from './persistence.module';
export type { MigrationPolicy, PersistenceModuleOptions } from './persistence.module';
export { PersistenceError } from './persistence-error';
export type { PersistenceErrorCode } from './persistence-error';
export { TypeOrmConsumerProgressStore } from './stores/typeorm-consumer-progress.store';
export { runMigrationCommand } from './migration-command';
export { LogQueueEntity } from './entities/log-queue.entity';
export { LogEntryEntity } from './entities/log-entry.entity';
export { LogTreeNodeEntity } from './entities/log-tree-node.entity';
export { LogSealEntity } from './entities/log-seal.entity';
export { enqueueEntry } from './stores/enqueue-entry';
export {
  resolvedProfileSql,
  resolvedStateSql,
  storedStates,
  writeStateProfiles,
} from './stores/account-state-profiles';
export type { StateProfileTable, StoredStates } from './stores/account-state-profiles';
export { backlogPushback, readLogBacklog } from './stores/log-backlog';
export type { LogBacklog, LogBacklogLimits } from './stores/log-backlog';
export { LogStoreError } from './stores/log-store-error';
export type { LogStoreErrorCode } from './stores/log-store-error';
export type { LogSealRecord } from './stores/log-sql';
export {
  LOG_SIGNER_LOCK_KEY,
  PostgresLogSignerStore,
  PostgresLogSignerSession,
} from './stores/postgres-log-signer.store';
export type {
  PostgresLogSignerStoreOptions,
  QueuedEntryInfo,
  SequencedBatch,
  SealedTransition,
  LogAccountState,
} from './stores/postgres-log-signer.store';
export { TypeOrmPublishedLog } from './stores/typeorm-published-log.store';
export { TypeOrmMirrorLog } from './stores/typeorm-mirror-log.store';
export { TypeOrmFederationReader } from './stores/typeorm-federation-reader.store';
export { FULL_HEADS_SEARCH } from './stores/log-heads-sql';
export type {
  HeadSealRecord,
  HeadsSearch,
  SealWithCosignatures,
  StoredHeadsRecord,
  StoredLogHeadRecord,
} from './stores/log-heads-sql';
export { TypeOrmStatusHistory } from './stores/typeorm-status-history.store';
export type { LagRow, OwnHeadRecord, ThroughputRow } from './stores/typeorm-status-history.store';
export type {
  FederationPeerRecord,
  FederationPortalRecord,
  FindingFilter,
  FindingKind,
  FindingRecord,
  FindingStatus,
  MirrorHeadRecord,
  StoredCosignatureRecord,
} from './stores/typeorm-federation-reader.store';
export type { EntryProfiles, ProfileIndexBatch, ProfileIndexRow } from './stores/profile-index-sql';
export { startEmbeddedPostgres } from './embedded-postgres';
export type { EmbeddedPostgres } from './embedded-postgres';
export {
  insertCatalogAccount,
  readCatalogAccount,
  readCatalogAccountByAddress,
  readCatalogObject,
  readCatalogObjects,
  updateCatalogAccount,
  writeCatalogObjects,
} from './stores/catalog-accounts';
export type {
  CatalogAccount,
  CatalogAccountStatus,
  CatalogObject,
  CatalogObjectKind,
} from './stores/catalog-accounts';
export { catalogNonceSeen, purgeCatalogNonces, recordCatalogNonce } from './stores/catalog-nonces';
export type { CatalogChange } from './stores/catalog-commit';
export { commitCatalogChanges, isNonceConflict, peekCatalogAccounts } from './stores/catalog-group-commit';
export type { CatalogGroupOutcome, CatalogPeek, CatalogPeekPair } from './stores/catalog-group-commit';
export {
  countCatalogConnections,
  countCatalogConnectionsFrom,
  decideCatalogConnection,
  expireCatalogConnections,
  insertCatalogConnection,
  listCatalogConnections,
  readCatalogConnection,
  rejectCatalogConnections,
} from './stores/catalog-connections';
export type { CatalogConnection, CatalogConnectionStatus } from './stores/catalog-connections';
export { countCatalogEscrow, getCatalogEscrow, putCatalogEscrow } from './stores/catalog-escrow';
export { TypeOrmPublicationOutbox } from './stores/publication-outbox';
export {
  TypeOrmEscrowOutbox,
  TypeOrmMirrorEscrowStore,
  getMirroredEscrow,
  queueEscrowPublication,
} from './stores/escrow-replication';
export type { MirrorEscrowOutcome, QueuedEscrow } from './stores/escrow-replication';
export { TypeOrmInboundDelivery, TypeOrmInboundOutbox } from './stores/inbound-relay';
export type { QueuedInbound } from './stores/inbound-relay';
export { MIRROR_CONSUMER, TypeOrmMirrorStore } from './stores/typeorm-mirror-store';
export { TypeOrmRosterStore } from './stores/typeorm-roster-store';
export { TypeOrmOwnSealReader } from './stores/typeorm-own-seal-reader';
export { TypeOrmFindingStore } from './stores/typeorm-finding-store';
export { TypeOrmCosignatureStore } from './stores/typeorm-cosignature-store';
export { TypeOrmWitnessOutbox } from './stores/typeorm-witness-outbox';
export type { WitnessOutboxRecord } from './stores/typeorm-witness-outbox';
export { TypeOrmWitnessCheckpointStore } from './stores/typeorm-witness-checkpoint.store';
export { TypeOrmOutsideWitnessStore, readOutsideWitnesses } from './stores/typeorm-outside-witness.store';
export type { OutsideWitnessRecord } from './stores/typeorm-outside-witness.store';
export {
  admitInbound,
  contactRules,
  deleteInbound,
  inboundRecipientHome,
  listInbound,
  lockInboundSender,
  purgeInbound,
  queueInboundRelay,
  recentContactRequests,
} from './stores/inbound-spool';
export type {
  InboundAdmission,
  InboundItem,
  InboundLimits,
  InboundRefusalCode,
  InboundRelay,
  SpoolRow,
} from './stores/inbound-spool';
export {
  catalogUsage,
  eraseAccountCatalogs,
  listCatalogObjects,
  lockCatalogObject,
  putCatalogObject,
} from './stores/user-catalog';
export type { StoredCatalogObject } from './stores/user-catalog';
