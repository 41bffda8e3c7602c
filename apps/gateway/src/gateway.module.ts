import { DynamicModule, Module } from '@nestjs/common';
import { PersistenceModule } from '@cryptomesh/persistence';
import { ServiceModule, packageVersion } from '@cryptomesh/service';
import type { GatewayConfig } from './gateway.config';

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
    };
  }
}
