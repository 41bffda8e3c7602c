import { z } from 'zod';
import {
  DEFAULT_LOG_MESSAGE_BYTES,
  LOG_MESSAGE_MAX_BYTES,
  LOG_MESSAGE_MIN_BYTES,
  isValidPortalId,
} from '@cryptomesh/intermesh';
import {
  commonConfigShape,
  databaseConfigShape,
  enumVar,
  integerVar,
  kafkaBrokersVar,
  loadConfig,
} from '@cryptomesh/service';

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
    /** This portal's id: its log topic is `intermesh.log.<PORTAL_ID>`. Same default as the all-in-one portal. */
    PORTAL_ID: z.preprocess(
      (v) => (v === undefined || v === '' ? 'local' : v),
      z.string().trim().refine(isValidPortalId, {
        message: 'must be 1–63 characters of a–z 0–9 -, starting with a letter or digit',
      }),
    ),
    /** `false` turns the publisher of this portal's log off (e.g. a standby that only mirrors). */
    PUBLISH_LOG: enumVar(['true', 'false'], 'true').transform((v) => v === 'true'),
    PUBLISH_POLL_MS: integerVar({ default: 200, min: 10, max: 60_000 }),
    PUBLISH_RETRY_MAX_MS: integerVar({ default: 10_000, min: 100, max: 300_000 }),
    PUBLISH_MESSAGE_MAX_BYTES: integerVar({
      default: DEFAULT_LOG_MESSAGE_BYTES,
      min: LOG_MESSAGE_MIN_BYTES,
      max: LOG_MESSAGE_MAX_BYTES,
    }),
  };
}

export type ReplicationConfig = ReturnType<typeof loadReplicationConfig>;

export function loadReplicationConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(replicationConfigShape(), env);
}
