import { DynamicModule, Logger, Module, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  PersistenceModule,
  TypeOrmFederationReader,
  TypeOrmMirrorLog,
  TypeOrmPublishedLog,
  TypeOrmStatusHistory,
  type LogBacklogLimits,
} from '@cryptomesh/persistence';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { MetricsService, OpenApiRegistry, ServiceModule, packageVersion } from '@cryptomesh/service';
import type { AccountDirectory } from './account-directory';
import { AccountController } from './account.controller';
import { AccountService } from './account.service';
import { FederationController } from './federation.controller';
import type { FederationReader } from './federation-reader';
import { FederationService, type Now } from './federation.service';
import { LogRoutes } from './log-routes';
import { LogHeads } from './log-heads';
import { logHeadsLoader } from './log-heads-loader';
import { logHeadsMetrics } from './log-heads.metrics';
import { LogsService } from './logs.service';
import { ProfileController } from './profile.controller';
import { ProofTrees } from './proof-trees';
import { ProfileService } from './profile.service';
import type { MirrorLogs, PublishedLog } from './published-log';
import { DEFAULT_CHECKPOINT_MAX_AGE_MS, DEFAULT_PROOF_TREE_MB, type QueryConfig } from './query.config';
import { queryOpenApi } from './query.openapi';
import {
  ACCOUNT_DIRECTORY,
  FEDERATION_READER,
  MIRROR_LOGS,
  PUBLISHED_LOG,
  QUERY_NOW,
  QUERY_PORTAL_ID,
  STATUS_HISTORY_READER,
  LOG_BACKLOG_LIMITS,
  LOG_HEADS,
  PROOF_TREES,
} from './query-tokens';
import { TileController } from './tile.controller';
import { TypeOrmAccountDirectory } from './typeorm-account-directory';
import { StatusController } from './status/status.controller';
import { StatusService, type StatusHistoryReader } from './status/status.service';

/**
 * What the query service does, without the service shell: it needs the global ServiceModule and
 * PersistenceModule of whichever application hosts it (the query service, or the all-in-one portal).
 */
@Module({})
export class QueryFeatureModule implements OnModuleInit {
  constructor(private readonly openApi: OpenApiRegistry) {}

  onModuleInit(): void {
    this.openApi.add(queryOpenApi());
  }

  /**
   * `portalId`: this portal's id (PORTAL_ID), what `/federation` names it before replication does;
   * `backlogLimits`: the gateway's pushback bounds, which the status page judges the queue by.
   */
  static forRoot(options: {
    readonly portalId?: string | undefined;
    readonly backlogLimits: LogBacklogLimits;
    /** CHECKPOINT_MAX_AGE_MS (query.md "Log heads"); the default when absent. */
    readonly checkpointMaxAgeMs?: number;
    /**
     * DB_PREPARED_STATEMENTS: the log reads as prepared statements (`preparedDataSourceQuery`);
     * off when absent — the all-in-one portal's PGlite socket shares one session between connections.
     */
    readonly preparedStatements?: boolean;
    /** PROOF_TREE_MB (query.md "Proof tree"); the default when absent, 0 for none. */
    readonly proofTreeMb?: number;
  }): DynamicModule {
    const prepared = options.preparedStatements ?? false;
    return {
      module: QueryFeatureModule,
      controllers: [
        TileController,
        ProfileController,
        AccountController,
        FederationController,
        StatusController,
      ],
      providers: [
        {
          provide: PUBLISHED_LOG,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): PublishedLog =>
            new TypeOrmPublishedLog(dataSource, { prepared }) satisfies PublishedLog,
        },
        {
          provide: MIRROR_LOGS,
          inject: [DataSource],
          useFactory:
            (dataSource: DataSource): MirrorLogs =>
            (peer) =>
              new TypeOrmMirrorLog(dataSource, peer, { prepared }) satisfies PublishedLog,
        },
        {
          provide: FEDERATION_READER,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): FederationReader =>
            new TypeOrmFederationReader(dataSource, { prepared }) satisfies FederationReader,
        },
        {
          provide: ACCOUNT_DIRECTORY,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): AccountDirectory =>
            new TypeOrmAccountDirectory(dataSource) satisfies AccountDirectory,
        },
        {
          provide: STATUS_HISTORY_READER,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): StatusHistoryReader =>
            new TypeOrmStatusHistory(dataSource) satisfies StatusHistoryReader,
        },
        { provide: QUERY_NOW, useValue: (() => Date.now()) satisfies Now },
        {
          provide: LOG_BACKLOG_LIMITS,
          useValue: {
            PUSHBACK_QUEUE_DEPTH: options.backlogLimits.PUSHBACK_QUEUE_DEPTH,
            PUSHBACK_QUEUE_AGE_MS: options.backlogLimits.PUSHBACK_QUEUE_AGE_MS,
          } satisfies LogBacklogLimits,
        },
        { provide: QUERY_PORTAL_ID, useValue: options.portalId },
        {
          provide: LOG_HEADS,
          inject: [PUBLISHED_LOG, MIRROR_LOGS, FEDERATION_READER, MetricsService],
          useFactory: (
            own: PublishedLog,
            mirrors: MirrorLogs,
            federation: FederationReader,
            metrics: MetricsService,
          ): LogHeads => {
            const refreshes = logHeadsMetrics(metrics);
            const logger = new Logger('query');
            return new LogHeads(
              logHeadsLoader({ own, mirrors, federation, ed25519: nodeEd25519 }),
              options.checkpointMaxAgeMs ?? DEFAULT_CHECKPOINT_MAX_AGE_MS,
              () => performance.now(),
              (outcome, error) => {
                refreshes.inc({ outcome });
                if (outcome === 'failed')
                  logger.warn({
                    msg: 'reading the log heads failed; the next request reads again',
                    err: String(error),
                  });
              },
            );
          },
        },
        {
          provide: PROOF_TREES,
          inject: [MetricsService],
          useFactory: (metrics: MetricsService): ProofTrees =>
            new ProofTrees((options.proofTreeMb ?? DEFAULT_PROOF_TREE_MB) * 2 ** 20, metrics.registry),
        },
        LogsService,
        LogRoutes,
        ProfileService,
        AccountService,
        FederationService,
        StatusService,
      ],
    };
  }
}

/** The query service: read-only REST over this portal's log, its mirrors and the federation (issues #5, #6). Stateless; scales out. */
@Module({})
export class QueryModule {
  static forRoot(config: QueryConfig): DynamicModule {
    return {
      module: QueryModule,
      imports: [
        ServiceModule.forRoot({
          identity: { name: 'query', version: packageVersion() },
          logLevel: config.LOG_LEVEL,
          // Its request paths write their lines with requestLines (query-error.filter.ts,
          // account.controller.ts): no async context, no promise hooks (issue #17).
          requestContext: false,
        }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'cryptomesh-query',
          migrations: config.DB_MIGRATIONS,
          poolSize: config.DB_POOL_SIZE,
        }),
        QueryFeatureModule.forRoot({
          portalId: config.PORTAL_ID,
          backlogLimits: config,
          checkpointMaxAgeMs: config.CHECKPOINT_MAX_AGE_MS,
          preparedStatements: config.DB_PREPARED_STATEMENTS,
          proofTreeMb: config.PROOF_TREE_MB,
        }),
      ],
    };
  }
}
