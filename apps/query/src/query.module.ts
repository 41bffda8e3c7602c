import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PersistenceModule, TypeOrmPublishedLog } from '@cryptomesh/persistence';
import { ServiceModule, packageVersion } from '@cryptomesh/service';
import { LogController } from './log.controller';
import type { PublishedLog } from './published-log';
import type { QueryConfig } from './query.config';
import { PUBLISHED_LOG, SelfLogService } from './self-log.service';

/**
 * What the query service does, without the service shell: it needs the global ServiceModule and
 * PersistenceModule of whichever application hosts it (the query service, or the all-in-one portal).
 */
@Module({})
export class QueryFeatureModule {
  static forRoot(): DynamicModule {
    return {
      module: QueryFeatureModule,
      controllers: [LogController],
      providers: [
        {
          provide: PUBLISHED_LOG,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): PublishedLog =>
            new TypeOrmPublishedLog(dataSource) satisfies PublishedLog,
        },
        SelfLogService,
      ],
    };
  }
}

/** The query service: read-only REST over this portal's log and its mirrors (issues #5, #6). Stateless; scales out. */
@Module({})
export class QueryModule {
  static forRoot(config: QueryConfig): DynamicModule {
    return {
      module: QueryModule,
      imports: [
        ServiceModule.forRoot({
          identity: { name: 'query', version: packageVersion() },
          logLevel: config.LOG_LEVEL,
        }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'cryptomesh-query',
          migrations: config.DB_MIGRATIONS,
          poolSize: config.DB_POOL_SIZE,
        }),
        QueryFeatureModule.forRoot(),
      ],
    };
  }
}
