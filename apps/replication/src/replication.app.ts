import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { KafkaOptions, Transport } from '@nestjs/microservices';
import { Kafka } from 'kafkajs';
import { WITNESS_TOPIC, ensureTopics, kafkaClientConfig } from '@cryptomesh/intermesh';
import { HealthRegistry, ServiceSpec } from '@cryptomesh/service';
import { ReplicationConfig, kafkaConnection, loadReplicationConfig } from './replication.config';
import { ReplicationModule } from './replication.module';

export const replicationApp: ServiceSpec<ReplicationConfig> = {
  name: 'replication',
  loadConfig: loadReplicationConfig,
  module: (config) => ReplicationModule.forRoot(config),
  beforeListen: async (app, config) => {
    acceptWitnessBodies(app);
    await attachKafka(app, config);
  },
};

/**
 * `POST /add-checkpoint` (C2SP tlog-witness) bodies are text whatever content type a client
 * names (the spec names none): any type without a parser of its own is read as a string.
 */
function acceptWitnessBodies(app: INestApplication): void {
  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
}

/**
 * Makes the service a hybrid application: HTTP for health and metrics, and a Kafka consumer
 * whose @EventPattern handlers receive the InterMesh topics. Topics are created first because
 * the broker does not auto-create them.
 */
async function attachKafka(app: INestApplication, config: ReplicationConfig): Promise<void> {
  const clientConfig = kafkaClientConfig(kafkaConnection(config));
  const kafka = new Kafka(clientConfig);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic: WITNESS_TOPIC, numPartitions: 3 }]);
  } finally {
    await admin.disconnect();
  }
  app.get(HealthRegistry).register('kafka', async () => {
    const probe = kafka.admin();
    await probe.connect();
    try {
      await probe.describeCluster();
    } finally {
      await probe.disconnect();
    }
  });
  app.connectMicroservice<KafkaOptions>({
    transport: Transport.KAFKA,
    options: {
      client: clientConfig,
      // A fetch waits at most maxWaitTimeInMs for data; a shutdown waits for the fetch in flight,
      // so this also bounds how long SIGTERM takes.
      consumer: {
        groupId: config.KAFKA_GROUP_ID,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 500,
        // A successor of an instance killed without leaving the group waits this long at most.
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
      },
      subscribe: { fromBeginning: true },
      // The transport's producer only answers request/reply patterns, which InterMesh does not use.
      producer: { allowAutoTopicCreation: false },
      postfixId: '',
      // The exact bytes reach the strict witness-message decoder, never a JSON re-parse.
      parser: { keepBinary: true },
    },
  });
  await app.startAllMicroservices();
}
