import { DynamicModule, Module } from '@nestjs/common';
import { PersistenceModule } from '@cryptomesh/persistence';
import { ServiceModule, packageVersion } from '@cryptomesh/service';
import type { GatewayConfig } from '../../gateway/src/gateway.config';
import { GatewayFeatureModule } from '../../gateway/src/gateway.module';
import type { LogSignerConfig } from '../../log-signer/src/log-signer.config';
import { LogSignerFeatureModule } from '../../log-signer/src/log-signer.module';
import { QueryFeatureModule } from '../../query/src/query.module';
import type { PortalConfig } from './portal.config';

export interface PortalModuleConfig {
  readonly portal: PortalConfig;
  readonly gateway: GatewayConfig;
  readonly logSigner: LogSignerConfig;
}

/**
 * One portal in one process (DESIGN.md "How it runs"): the gateway, query and log-signer modules
 * share one service shell — one HTTP server, one database pool, one /health and /metrics. The
 * replication module joins when a federation is configured (issue #6); with no peers and no
 * broker it has nothing to do.
 */
@Module({})
export class PortalModule {
  static forRoot(config: PortalModuleConfig): DynamicModule {
    return {
      module: PortalModule,
      imports: [
        ServiceModule.forRoot({
          identity: { name: 'portal', version: packageVersion() },
          logLevel: config.portal.LOG_LEVEL,
        }),
        PersistenceModule.forRoot({
          url: config.gateway.DATABASE_URL,
          applicationName: 'cryptomesh-portal',
          migrations: config.gateway.DB_MIGRATIONS,
          poolSize: config.gateway.DB_POOL_SIZE,
        }),
        GatewayFeatureModule.forRoot(config.gateway),
        QueryFeatureModule.forRoot({
          portalId: config.portal.PORTAL_ID,
          backlogLimits: config.gateway,
          proofTreeMb: config.portal.PROOF_TREE_MB,
        }),
        LogSignerFeatureModule.forRoot(config.logSigner),
      ],
    };
  }
}
