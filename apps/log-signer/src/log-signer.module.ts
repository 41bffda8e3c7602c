import { DynamicModule, Module } from '@nestjs/common';
import { PersistenceModule } from '@cryptomesh/persistence';
import { ServiceModule, packageVersion } from '@cryptomesh/service';
import type { LogSignerConfig } from './log-signer.config';

/** The log-signer: sequences queued transactions, extends the Merkle tree and seals parts (issue #5). One active per portal; the only holder of the log key. */
@Module({})
export class LogSignerModule {
  static forRoot(config: LogSignerConfig): DynamicModule {
    return {
      module: LogSignerModule,
      imports: [
        ServiceModule.forRoot({
          identity: { name: 'log-signer', version: packageVersion() },
          logLevel: config.LOG_LEVEL,
        }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'cryptomesh-log-signer',
          migrations: config.DB_MIGRATIONS,
          poolSize: config.DB_POOL_SIZE,
        }),
      ],
    };
  }
}
