import { DynamicModule, Module } from '@nestjs/common';
import { PersistenceModule } from '@cryptomesh/persistence';
import { ServiceModule, packageVersion } from '@cryptomesh/service';
import { FederationModule } from './federation/federation.module';
import { LogPublisherFeatureModule } from './log-publisher.module';
import type { ReplicationConfig } from './replication.config';
import { WitnessConsumer } from './witness.consumer';

/** The replication service: InterMesh publishing, mirroring, auditing and cosigning over Kafka (issue #6). One active per portal. */
@Module({})
export class ReplicationModule {
  static forRoot(config: ReplicationConfig): DynamicModule {
    return {
      module: ReplicationModule,
      imports: [
        ServiceModule.forRoot({
          identity: { name: 'replication', version: packageVersion() },
          logLevel: config.LOG_LEVEL,
          // Its one request path that logs, /add-checkpoint, writes its lines with requestLines: no
          // async context, so no promise hooks on the mirror's path (issue #17).
          requestContext: false,
        }),
        PersistenceModule.forRoot({
          url: config.DATABASE_URL,
          applicationName: 'cryptomesh-replication',
          migrations: config.DB_MIGRATIONS,
          poolSize: config.DB_POOL_SIZE,
        }),
        ...(config.PUBLISH_LOG ? [LogPublisherFeatureModule.forRoot(config)] : []),
        FederationModule.forRoot(config),
      ],
      controllers: [WitnessConsumer],
    };
  }
}
