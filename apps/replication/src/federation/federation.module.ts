import { DynamicModule, Module } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { WITNESS_TOPIC, kafkaClientConfig } from '@cryptomesh/intermesh';
import {
  systemClock,
  type Clock,
  type CosignatureStore,
  type FindingStore,
  type MirrorStore,
  type OwnSealReader,
  type RosterStore,
} from '@cryptomesh/audit';
import {
  TypeOrmCosignatureStore,
  TypeOrmFindingStore,
  TypeOrmInboundDelivery,
  TypeOrmMirrorEscrowStore,
  TypeOrmMirrorStore,
  TypeOrmOwnSealReader,
  TypeOrmRosterStore,
  TypeOrmOutsideWitnessStore,
  TypeOrmPublishedLog,
  TypeOrmWitnessCheckpointStore,
  TypeOrmWitnessOutbox,
} from '@cryptomesh/persistence';
import { MetricsService, SignatureWorkers, caTrustingFetch } from '@cryptomesh/service';
import {
  ESCROW_INTAKE_OPTIONS,
  EscrowIntake,
  MIRROR_ESCROW_STORE,
  type EscrowIntakeOptions,
  type MirrorEscrowStore,
} from '../mirror/escrow-intake';
import {
  INBOUND_DELIVERY,
  INBOUND_INTAKE_OPTIONS,
  InboundIntake,
  type InboundDelivery,
  type InboundIntakeOptions,
} from '../mirror/inbound-intake';
import { MIRROR_KAFKA, MIRROR_OPTIONS, MirrorService, type MirrorOptions } from '../mirror/mirror.service';
import { kafkaConnection, type ReplicationConfig } from '../replication.config';
import { ConsumerLagMetrics } from './consumer-lag.metrics';
import { FederationMetrics } from './federation.metrics';
import {
  COSIGNATURE_STORE,
  FEDERATION_CLOCK,
  FINDING_STORE,
  MIRROR_STORE,
  OWN_SEAL_READER,
  ROSTER_STORE,
  WITNESS_CHECKPOINT_STORE,
} from './federation-tokens';
import {
  OUTSIDE_WITNESS_OPTIONS,
  OUTSIDE_WITNESS_STORE,
  OWN_LOG,
  OutsideWitnessService,
  type OutsideWitnessOptions,
  type OutsideWitnessStore,
  type OwnLog,
} from './outside-witness.service';
import { AddCheckpointController, type WitnessCheckpointStore } from './add-checkpoint.controller';
import { RosterService } from './roster.service';
import { WitnessIntakeService } from './witness-intake.service';
import {
  WITNESS_KAFKA,
  WITNESS_PUBLISHER_OPTIONS,
  WitnessPublisherService,
} from './witness-publisher.service';
import { FEDERATION_CONTEXT, WitnessService, type FederationContext } from './witness.service';

/**
 * The federation half of the replication service (docs/design/federation.md): the roster written
 * for the query service, mirroring and auditing peers, cosigning, findings, the witness topic in
 * and out. Needs the global ServiceModule and PersistenceModule of its host application.
 */
/** A provider of `provide` made from the application's DataSource. */
function onDatabase<T>(
  provide: symbol | (abstract new (...args: never[]) => unknown),
  make: (ds: DataSource) => T,
) {
  return { provide, inject: [DataSource], useFactory: make };
}

@Module({})
export class FederationModule {
  static forRoot(config: ReplicationConfig, clock: Clock = systemClock): DynamicModule {
    const context: FederationContext = {
      portalId: config.PORTAL_ID,
      peers: config.federation.peers,
      witnessKey: config.federation.witnessKey,
      quorum: config.federation.quorum,
    };
    const mirrorOptions: MirrorOptions = {
      enabled: config.MIRROR,
      groupId: `${config.KAFKA_GROUP_ID}-mirror`,
      staleAfterMs: config.STALE_AFTER_MS,
      catchUpIntervalMs: config.CATCHUP_INTERVAL_MS,
      catchUpTimeoutMs: config.CATCHUP_TIMEOUT_MS,
      partLimits: { maxEntries: config.PEER_PART_MAX_ENTRIES, maxBytes: config.PEER_PART_MAX_BYTES },
      ...(config.peerCa === undefined ? {} : { peerFetch: caTrustingFetch(config.peerCa) }),
    };
    const kafka = (suffix: string) => () => new Kafka(kafkaClientConfig(kafkaConnection(config, suffix)));
    return {
      module: FederationModule,
      controllers: [AddCheckpointController],
      providers: [
        { provide: FEDERATION_CONTEXT, useValue: context },
        { provide: MIRROR_OPTIONS, useValue: mirrorOptions },
        { provide: WITNESS_PUBLISHER_OPTIONS, useValue: { pollMs: config.WITNESS_POLL_MS } },
        { provide: MIRROR_KAFKA, useFactory: kafka('mirror') },
        { provide: WITNESS_KAFKA, useFactory: kafka('witness') },
        { provide: FEDERATION_CLOCK, useValue: clock },
        // One adapter per port (STYLE.md §9); `satisfies` proves each fits the port it is injected as.
        onDatabase(MIRROR_STORE, (ds) => new TypeOrmMirrorStore(ds) satisfies MirrorStore),
        onDatabase(ROSTER_STORE, (ds) => new TypeOrmRosterStore(ds) satisfies RosterStore),
        onDatabase(OWN_SEAL_READER, (ds) => new TypeOrmOwnSealReader(ds) satisfies OwnSealReader),
        onDatabase(FINDING_STORE, (ds) => new TypeOrmFindingStore(ds) satisfies FindingStore),
        onDatabase(COSIGNATURE_STORE, (ds) => new TypeOrmCosignatureStore(ds) satisfies CosignatureStore),
        onDatabase(TypeOrmWitnessOutbox, (ds) => new TypeOrmWitnessOutbox(ds)),
        onDatabase(MIRROR_ESCROW_STORE, (ds) => new TypeOrmMirrorEscrowStore(ds) satisfies MirrorEscrowStore),
        {
          provide: ESCROW_INTAKE_OPTIONS,
          useValue: {
            maxBlobBytes: config.MIRROR_ESCROW_MAX_BYTES,
            maxPerPeer: config.MIRROR_ESCROW_MAX_PER_PEER,
            maxBytesPerPeer: config.MIRROR_ESCROW_MAX_BYTES_PER_PEER,
          } satisfies EscrowIntakeOptions,
        },
        EscrowIntake,
        onDatabase(INBOUND_DELIVERY, (ds) => new TypeOrmInboundDelivery(ds) satisfies InboundDelivery),
        {
          provide: INBOUND_INTAKE_OPTIONS,
          useValue: {
            contactPowLevel: config.INBOUND_CONTACT_POW_LEVEL,
            maxEnvelopeBytes: config.INBOUND_MAX_ENVELOPE_BYTES,
            limits: {
              contactRequestsPerHour: config.INBOUND_CONTACT_REQUESTS_PER_HOUR,
              contactRequestsPerOriginPerHour: config.INBOUND_CONTACT_REQUESTS_PER_ORIGIN_PER_HOUR,
              spoolMaxPerAccount: config.INBOUND_SPOOL_MAX_PER_ACCOUNT,
              strangerMaxPerAccount: config.INBOUND_STRANGER_MAX_PER_ACCOUNT,
              maxAgeMs: config.INBOUND_MAX_AGE_MS,
              clockSkewMs: config.CLOCK_SKEW_MS,
            },
          } satisfies InboundIntakeOptions,
        },
        InboundIntake,
        {
          provide: OUTSIDE_WITNESS_OPTIONS,
          useValue: {
            witnesses: config.outsideWitnesses,
            pollMs: config.OUTSIDE_WITNESS_POLL_MS,
            timeoutMs: config.OUTSIDE_WITNESS_TIMEOUT_MS,
            retryMaxMs: config.OUTSIDE_WITNESS_RETRY_MAX_MS,
          } satisfies OutsideWitnessOptions,
        },
        onDatabase(
          OUTSIDE_WITNESS_STORE,
          (ds) => new TypeOrmOutsideWitnessStore(ds) satisfies OutsideWitnessStore,
        ),
        onDatabase(OWN_LOG, (ds) => new TypeOrmPublishedLog(ds) satisfies OwnLog),
        OutsideWitnessService,
        onDatabase(
          WITNESS_CHECKPOINT_STORE,
          (ds) => new TypeOrmWitnessCheckpointStore(ds) satisfies WitnessCheckpointStore,
        ),
        {
          provide: SignatureWorkers,
          inject: [MetricsService],
          useFactory: (metrics: MetricsService) => new SignatureWorkers(config.SIGNATURE_WORKERS, metrics),
        },
        {
          provide: FederationMetrics,
          inject: [MetricsService],
          useFactory: (metrics: MetricsService) => new FederationMetrics(metrics),
        },
        {
          // The witness consumer commits its offsets to its group; the mirror keeps its own.
          provide: ConsumerLagMetrics,
          inject: [MetricsService, MirrorService],
          useFactory: (metrics: MetricsService, mirror: MirrorService) =>
            new ConsumerLagMetrics(metrics, kafka('metrics')(), [
              { group: config.KAFKA_GROUP_ID, topics: [WITNESS_TOPIC] },
              { group: mirrorOptions.groupId, positions: () => mirror.topicPositions() },
            ]),
        },
        WitnessService,
        WitnessIntakeService,
        RosterService,
        MirrorService,
        WitnessPublisherService,
      ],
      exports: [WitnessIntakeService],
    };
  }
}
