import { z } from 'zod';
import { commonConfigShape, databaseConfigShape, kafkaBrokersVar, loadConfig } from '@cryptomesh/service';

const kafkaName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,200}$/, { message: 'must be 1–200 characters of A–Z a–z 0–9 . _ -' });

/** The replication service's environment (docs/configuration.md lists every variable). */
export function replicationConfigShape() {
  return {
    ...commonConfigShape(8083),
    ...databaseConfigShape(),
    KAFKA_BROKERS: kafkaBrokersVar(),
    KAFKA_CLIENT_ID: z.preprocess(
      (v) => (v === undefined || v === '' ? 'cryptomesh-replication' : v),
      kafkaName,
    ),
    KAFKA_GROUP_ID: z.preprocess(
      (v) => (v === undefined || v === '' ? 'cryptomesh-replication' : v),
      kafkaName,
    ),
  };
}

export type ReplicationConfig = ReturnType<typeof loadReplicationConfig>;

export function loadReplicationConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(replicationConfigShape(), env);
}
