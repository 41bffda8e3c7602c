import { DynamicModule, Module } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { kafkaClientConfig, type PublicationOutbox } from '@cryptomesh/intermesh';
import { TypeOrmEscrowOutbox, TypeOrmInboundOutbox, TypeOrmPublicationOutbox } from '@cryptomesh/persistence';
import { ESCROW_PUBLICATION, EscrowPublication } from './escrow-publication';
import { INBOUND_PUBLICATION, InboundPublication, type InboundOutbox } from './inbound-publication';
import { MetricsService } from '@cryptomesh/service';
import { LogPublisherMetrics } from './log-publisher.metrics';
import {
  LOG_PUBLISHER_KAFKA,
  LOG_PUBLISHER_OPTIONS,
  LogPublisherService,
  PUBLICATION_OUTBOX,
  type LogPublisherOptions,
} from './log-publisher.service';
import { kafkaConnection, type ReplicationConfig } from './replication.config';

/**
 * Publishing this portal's log, without the service shell: it needs the global ServiceModule and
 * PersistenceModule of whichever application hosts it.
 */
@Module({})
export class LogPublisherFeatureModule {
  static forRoot(config: ReplicationConfig): DynamicModule {
    const options: LogPublisherOptions = {
      portalId: config.PORTAL_ID,
      pollMs: config.PUBLISH_POLL_MS,
      retryMaxMs: config.PUBLISH_RETRY_MAX_MS,
      maxMessageBytes: config.PUBLISH_MESSAGE_MAX_BYTES,
    };
    return {
      module: LogPublisherFeatureModule,
      providers: [
        { provide: LOG_PUBLISHER_OPTIONS, useValue: options },
        {
          provide: LOG_PUBLISHER_KAFKA,
          useFactory: () => new Kafka(kafkaClientConfig(kafkaConnection(config, 'publisher'))),
        },
        {
          provide: PUBLICATION_OUTBOX,
          inject: [DataSource],
          useFactory: (dataSource: DataSource): PublicationOutbox => new TypeOrmPublicationOutbox(dataSource),
        },
        {
          provide: ESCROW_PUBLICATION,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) =>
            new EscrowPublication(
              new TypeOrmEscrowOutbox(dataSource),
              config.PORTAL_ID,
              config.federation.witnessKey,
            ),
        },
        {
          provide: INBOUND_PUBLICATION,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) =>
            new InboundPublication(
              new TypeOrmInboundOutbox(dataSource) satisfies InboundOutbox,
              config.PORTAL_ID,
              config.federation.witnessKey,
            ),
        },
        {
          provide: LogPublisherMetrics,
          inject: [MetricsService],
          useFactory: (m: MetricsService) => new LogPublisherMetrics(m),
        },
        LogPublisherService,
      ],
    };
  }
}
