import { DynamicModule, Module, OnModuleInit } from '@nestjs/common';
import { PersistenceModule } from '@cryptomesh/persistence';
import { OpenApiRegistry, ServiceModule, packageVersion } from '@cryptomesh/service';
import { AccountLimits } from './auth/account-limits';
import { NoncePurger } from './auth/nonce-purger';
import { RequestAuthenticator } from './auth/request-authenticator';
import { LogPushback } from './catalog/log-pushback';
import { RecordCommitter } from './catalog/record-committer';
import type { GatewayConfig } from './gateway.config';
import { gatewayOpenApi } from './gateway.openapi';
import { GATEWAY_CONFIG } from './gateway.tokens';
import { HelloTransaction } from './hello.transaction';
import { InboundMetrics } from './inbound/inbound-metrics';
import { InboundPurger } from './inbound/inbound-purger';
import { MmmController, MmmMethodController } from './mmm.controller';
import { TRANSACTIONS } from './protocol/transaction';
import { CatalogGetTransaction } from './transactions/catalog-get.transaction';
import { CatalogUpdateTransaction } from './transactions/catalog-update.transaction';
import { ConnectClearTransaction } from './transactions/connect-clear.transaction';
import { ConnectCompleteTransaction } from './transactions/connect-complete.transaction';
import { ConnectPendingTransaction } from './transactions/connect-pending.transaction';
import { ConnectStartTransaction } from './transactions/connect-start.transaction';
import { ConnectStatusTransaction } from './transactions/connect-status.transaction';
import { CreateAccountTransaction } from './transactions/create-account.transaction';
import { DeleteAccountTransaction } from './transactions/delete-account.transaction';
import { EscrowGetTransaction } from './transactions/escrow-get.transaction';
import { EscrowPutTransaction } from './transactions/escrow-put.transaction';
import { GetTransaction } from './transactions/get.transaction';
import { InboundDeleteTransaction } from './transactions/inbound-delete.transaction';
import { InboundListTransaction } from './transactions/inbound-list.transaction';
import { InboundPostTransaction } from './transactions/inbound-post.transaction';
import { MoveAccountTransaction } from './transactions/move-account.transaction';
import { PublishTransaction } from './transactions/publish.transaction';
import { StatusTransaction } from './transactions/status.transaction';
import { ValidateAccountTransaction } from './transactions/validate-account.transaction';

/** Every transaction the gateway answers (docs/PROTOCOL.md); each is a provider. */
const TRANSACTION_PROVIDERS = [
  HelloTransaction,
  ValidateAccountTransaction,
  CreateAccountTransaction,
  DeleteAccountTransaction,
  MoveAccountTransaction,
  PublishTransaction,
  GetTransaction,
  ConnectStartTransaction,
  ConnectPendingTransaction,
  ConnectCompleteTransaction,
  ConnectClearTransaction,
  ConnectStatusTransaction,
  EscrowPutTransaction,
  EscrowGetTransaction,
  StatusTransaction,
  CatalogUpdateTransaction,
  CatalogGetTransaction,
  InboundPostTransaction,
  InboundListTransaction,
  InboundDeleteTransaction,
];

/**
 * What the gateway does, without the service shell: it needs the global ServiceModule and
 * PersistenceModule of whichever application hosts it (the gateway service, or the all-in-one
 * portal, which also calls `configureMeshBodies` from gateway.app.ts).
 */
@Module({})
export class GatewayFeatureModule implements OnModuleInit {
  constructor(private readonly openApi: OpenApiRegistry) {}

  onModuleInit(): void {
    this.openApi.add(gatewayOpenApi());
  }

  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayFeatureModule,
      controllers: [MmmController, MmmMethodController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        AccountLimits,
        RequestAuthenticator,
        RecordCommitter,
        LogPushback,
        NoncePurger,
        InboundPurger,
        InboundMetrics,
        ...TRANSACTION_PROVIDERS,
        { provide: TRANSACTIONS, inject: TRANSACTION_PROVIDERS, useFactory: (...all: unknown[]) => all },
      ],
    };
  }
}

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
          // Its request paths write their lines with requestLines (mesh-exception.filter.ts,
          // mmm.controller.ts): no async context, no promise hooks (issue #17).
          requestContext: false,
        }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'cryptomesh-gateway',
          migrations: config.DB_MIGRATIONS,
          poolSize: config.DB_POOL_SIZE,
        }),
        GatewayFeatureModule.forRoot(config),
      ],
    };
  }
}
