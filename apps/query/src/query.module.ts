import { DynamicModule, Module, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PersistenceModule, TypeOrmPublishedLog } from '@cryptomesh/persistence';
import { OpenApiRegistry, ServiceModule, packageVersion } from '@cryptomesh/service';
import { LogController } from './log.controller';
import { ProfileController } from './profile.controller';
import { ProfileService } from './profile.service';
import type { PublishedLog } from './published-log';
import type { QueryConfig } from './query.config';
import { queryOpenApi } from './query.openapi';
import { PUBLISHED_LOG, SelfLogService } from './self-log.service';

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

  static forRoot(): DynamicModule {
    return {
      module: QueryFeatureModule,
      controllers: [LogController, ProfileController],
      providers: [
        {
          provide: PUBLISHED_LOG,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): PublishedLog =>
            new TypeOrmPublishedLog(dataSource) satisfies PublishedLog,
        },
        SelfLogService,
        ProfileService,
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
