import { DynamicModule, Inject, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  HealthRegistry,
  MetricsService,
  registerDatabasePoolMetrics,
  type DatabasePool,
} from '@cryptomesh/service';
import { dataSourceOptions } from './data-source-options';
import { runMigrations, schemaIsCurrent } from './migrate';
import { PersistenceError } from './persistence-error';
import { TypeOrmConsumerProgressStore } from './stores/typeorm-consumer-progress.store';

/**
 * What a service does with pending migrations at start: `run` applies them (under an advisory
 * lock, so services may start together), `check` refuses to start while any is pending (for
 * deployments that migrate in a separate job), `skip` does neither.
 */
export type MigrationPolicy = 'run' | 'check' | 'skip';

export interface PersistenceModuleOptions {
  readonly url: string;
  readonly applicationName: string;
  readonly migrations: MigrationPolicy;
  readonly poolSize?: number;
}

const PERSISTENCE_OPTIONS = Symbol('PERSISTENCE_OPTIONS');

@Module({})
export class PersistenceModule implements OnModuleInit {
  private readonly logger = new Logger('persistence');

  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
    @Inject(PERSISTENCE_OPTIONS) private readonly options: PersistenceModuleOptions,
  ) {}

  static forRoot(options: PersistenceModuleOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions({
            url: options.url,
            applicationName: options.applicationName,
            poolSize: options.poolSize,
          }),
          retryAttempts: 3,
          retryDelay: 1_000,
        }),
      ],
      providers: [
        { provide: PERSISTENCE_OPTIONS, useValue: options },
        {
          provide: TypeOrmConsumerProgressStore,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new TypeOrmConsumerProgressStore(dataSource),
        },
      ],
      exports: [TypeOrmConsumerProgressStore],
    };
  }

  async onModuleInit(): Promise<void> {
    this.health.register('database', async () => {
      await this.dataSource.query('SELECT 1');
    });
    // TypeORM's postgres driver keeps its node-postgres Pool as `driver.master`.
    registerDatabasePoolMetrics(
      this.metrics,
      () => (this.dataSource.driver as unknown as { master?: DatabasePool }).master,
    );
    if (this.options.migrations === 'run') {
      const applied = await runMigrations(this.dataSource);
      if (applied.length > 0)
        this.logger.log({ msg: 'migrations applied', migrations: applied.map((m) => m.name) });
    } else if (this.options.migrations === 'check' && !(await schemaIsCurrent(this.dataSource))) {
      throw new PersistenceError(
        'schema.outdated',
        'the database schema has pending migrations; run `npm run migration:run` or start with DB_MIGRATIONS=run',
      );
    }
  }
}
