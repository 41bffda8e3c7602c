import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { PersistenceModule, PostgresLogSignerStore } from '@cryptomesh/persistence';
import { MetricsService, ServiceModule, SignatureWorkers, packageVersion } from '@cryptomesh/service';
import { systemClock, type Clock } from './clock';
import type { LogSignerConfig } from './log-signer.config';
import { LogSignerMetrics } from './log-signer.metrics';
import {
  LogSignerService,
  SIGNER_CLOCK,
  SIGNER_METRICS,
  SIGNER_OPTIONS,
  SIGNER_STORE,
  type LogSignerOptions,
} from './log-signer.service';
import type { SignerStore } from './signer-store';

/**
 * What the log-signer does, without the service shell: it needs the global ServiceModule and
 * PersistenceModule of whichever application hosts it (the log-signer service, or the all-in-one
 * portal). The leader's dedicated connection (for the advisory lock) goes to `config.DATABASE_URL`.
 */
@Module({})
export class LogSignerFeatureModule {
  static forRoot(config: LogSignerConfig, clock: Clock = systemClock): DynamicModule {
    const options: LogSignerOptions = {
      signing: {
        logKey: config.logKey,
        ...(config.nextLogKey === undefined ? {} : { nextKey: config.nextLogKey }),
        origin: config.LOG_ORIGIN,
        ed25519: nodeEd25519,
      },
      sealIntervalMs: config.SEAL_INTERVAL_MS,
      heartbeatMs: config.HEARTBEAT_MS,
      partMaxEntries: config.PART_MAX_ENTRIES,
      batchSize: config.SEQUENCE_BATCH_SIZE,
      pollMs: config.QUEUE_POLL_MS,
      leaderRetryMs: config.LEADER_RETRY_MS,
      rules: config.LOG_SIGNER_RULES,
    };
    return {
      module: LogSignerFeatureModule,
      providers: [
        { provide: SIGNER_OPTIONS, useValue: options },
        { provide: SIGNER_CLOCK, useValue: clock },
        {
          provide: SIGNER_STORE,
          useFactory: (): SignerStore =>
            new PostgresLogSignerStore({
              url: config.DATABASE_URL,
              applicationName: 'cryptomesh-log-signer-leader',
            }) satisfies SignerStore,
        },
        {
          provide: SIGNER_METRICS,
          inject: [MetricsService, DataSource],
          useFactory: (metrics: MetricsService, dataSource: DataSource) =>
            new LogSignerMetrics(metrics, async () => {
              const rows = await dataSource.query<Array<{ n: string }>>(
                'SELECT count(*) AS n FROM log_queue',
              );
              return Number(rows[0]?.n ?? 0);
            }),
        },
        {
          provide: SignatureWorkers,
          inject: [MetricsService],
          useFactory: (metrics: MetricsService) =>
            new SignatureWorkers(config.LOG_SIGNER_RULES === 'mesh' ? config.SIGNATURE_WORKERS : 0, metrics),
        },
        LogSignerService,
      ],
    };
  }
}

/** The log-signer: sequences queued transactions, extends the Merkle tree and seals parts (issue #5). One active per portal; the only holder of the log key. */
@Module({})
export class LogSignerModule {
  static forRoot(config: LogSignerConfig, clock: Clock = systemClock): DynamicModule {
    return {
      module: LogSignerModule,
      imports: [
        ServiceModule.forRoot({
          identity: { name: 'log-signer', version: packageVersion() },
          logLevel: config.LOG_LEVEL,
          // Its request paths are probes, which log nothing: no async context, so no promise hooks
          // on the sequencing path (issue #17).
          requestContext: false,
        }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'cryptomesh-log-signer',
          migrations: config.DB_MIGRATIONS,
          poolSize: config.DB_POOL_SIZE,
        }),
        LogSignerFeatureModule.forRoot(config, clock),
      ],
    };
  }
}
