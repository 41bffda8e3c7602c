import { DynamicModule, Module } from '@nestjs/common';
import { PersistenceModule } from '@cryptomesh/persistence';
import { ServiceModule, packageVersion } from '@cryptomesh/service';
import type { QueryConfig } from './query.config';

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
      ],
    };
  }
}
