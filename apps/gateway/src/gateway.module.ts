import { DynamicModule, Module } from '@nestjs/common';
import { PersistenceModule } from '@cryptomesh/persistence';
import { ServiceModule, packageVersion } from '@cryptomesh/service';
import type { GatewayConfig } from './gateway.config';
import { GATEWAY_CONFIG } from './gateway.tokens';
import { HelloTransaction } from './hello.transaction';
import { MmmController } from './mmm.controller';
import { TRANSACTIONS } from './protocol/transaction';

/** The gateway: the Mesh Portal protocol at `POST /.well-known/mmm/` (issue #5). Stateless; scales out. */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ServiceModule.forRoot({
          identity: { name: 'gateway', version: packageVersion() },
          logLevel: config.LOG_LEVEL,
        }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'cryptomesh-gateway',
          migrations: config.DB_MIGRATIONS,
          poolSize: config.DB_POOL_SIZE,
        }),
      ],
      controllers: [MmmController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        HelloTransaction,
        { provide: TRANSACTIONS, inject: [HelloTransaction], useFactory: (...all: unknown[]) => all },
      ],
    };
  }
}
