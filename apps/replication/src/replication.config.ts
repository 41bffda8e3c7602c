import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { loadFederation } from './federation.config';
import { loadOutsideWitnesses } from './outside-witnesses.config';
import {
  DEFAULT_LOG_MESSAGE_BYTES,
  LOG_MESSAGE_MAX_BYTES,
  LOG_MESSAGE_MIN_BYTES,
  isValidPortalId,
  type KafkaConnection,
  type KafkaSasl,
} from '@cryptomesh/intermesh';
import { DEFAULT_MAX_SKEW_MS, MAX_PROOF_OF_WORK_LEVEL } from '@cryptomesh/mesh';
import {
  commonConfigShape,
  databaseConfigShape,
  enumVar,
  integerVar,
  kafkaBrokersVar,
  ConfigError,
  loadConfig,
  optionalPathVar,
  readCaFile,
  signatureWorkersConfigShape,
} from '@cryptomesh/service';

const kafkaName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,200}$/, { message: 'must be 1–200 characters of A–Z a–z 0–9 . _ -' });

/** HEAP_GROWING_PERCENT of the replication service when unset (the other services': 50). */
export const REPLICATION_HEAP_GROWING_PERCENT = 20;

/** The replication service's environment (docs/configuration.md lists every variable). */
export function replicationConfigShape() {
  return {
    // A catch-up keeps a growing set of account states live: its garbage headroom is kept smaller
    // than the other services' (docs/design/federation.md "Memory").
    ...commonConfigShape(8083, { heapGrowingPercent: REPLICATION_HEAP_GROWING_PERCENT }),
    ...databaseConfigShape(),
    KAFKA_BROKERS: kafkaBrokersVar(),
    /** SASL towards the brokers (docs/kafka-security.md); unset: none (loopback development). */
    KAFKA_SASL_MECHANISM: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .enum(['scram-sha-256', 'scram-sha-512', 'plain'], {
          errorMap: () => ({ message: 'must be one of scram-sha-256, scram-sha-512, plain' }),
        })
        .optional(),
    ),
    KAFKA_SASL_USERNAME: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).optional()),
    KAFKA_SASL_PASSWORD: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional()),
    KAFKA_SASL_PASSWORD_FILE: optionalPathVar(),
    /** TLS to the brokers (`SASL_SSL` or `SSL` listeners). */
    KAFKA_SSL: enumVar(['true', 'false'], 'false').transform((v) => v === 'true'),
    /** PEM certificates the brokers chain to, when not the system's roots (implies KAFKA_SSL). */
    KAFKA_SSL_CA_FILE: optionalPathVar(),
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
    /** `false` turns mirroring, auditing and cosigning off (publishing stays). */
    MIRROR: enumVar(['true', 'false'], 'true').transform((v) => v === 'true'),
    /** A peer whose newest mirrored seal is older than this has a `stale` finding open. */
    STALE_AFTER_MS: integerVar({ default: 180_000, min: 100, max: 7 * 86_400_000 }),
    /** How often each peer's checkpoint is fetched to catch up on parts the topic no longer has. */
    CATCHUP_INTERVAL_MS: integerVar({ default: 30_000, min: 100, max: 86_400_000 }),
    /** Per HTTP request to a peer's query service. */
    CATCHUP_TIMEOUT_MS: integerVar({ default: 10_000, min: 100, max: 300_000 }),
    /**
     * The most entries of one peer's part held before its seal arrives, on the topic or in a
     * catch-up (docs/design/replication.md "Bounds"): at least the peers' PART_MAX_ENTRIES.
     */
    PEER_PART_MAX_ENTRIES: integerVar({ default: 20_000, min: 1, max: 1_000_000 }),
    /** The most bytes of entries of one peer's part held before its seal arrives (64 KiB – 1 GiB). */
    PEER_PART_MAX_BYTES: integerVar({ default: 64 * 1024 * 1024, min: 64 * 1024, max: 1024 * 1024 * 1024 }),
    /**
     * PEM certificates the peers' HTTPS query services chain to, when they use a private CA
     * (docs/tls.md); unset, the system's roots are trusted.
     */
    PEER_CA_FILE: optionalPathVar(),
    /**
     * Escrow blobs of the other members (issue #19 item 2; docs/design/replication.md "Escrow
     * blobs"): the largest blob kept (default the gateway's MAX_PROFILE_BYTES default, 32 KiB), and
     * how many blobs and bytes of blobs each peer may have stored here. A blob over a bound is
     * counted and logged, not stored, and is no finding.
     */
    MIRROR_ESCROW_MAX_BYTES: integerVar({ default: 32 * 1024, min: 1024, max: 512 * 1024 }),
    MIRROR_ESCROW_MAX_PER_PEER: integerVar({ default: 1_000_000, min: 0, max: 1_000_000_000 }),
    MIRROR_ESCROW_MAX_BYTES_PER_PEER: integerVar({
      default: 4 * 1024 * 1024 * 1024,
      min: 0,
      max: 1024 * 1024 * 1024 * 1024,
    }),
    /**
     * Inbound items relayed from the other members (issue #20; docs/design/inbound.md "Access
     * control", docs/design/replication.md "Inbound items"), with the gateway's names and defaults: the
     * proof-of-work level of a stranger's contact request (0–4), the contact requests one sender (and
     * the senders of one origin portal) may have accepted here per hour, the items of allowed senders
     * and the strangers' contact requests one account may hold, the largest envelope, the oldest
     * envelope taken, and how far in the future its `Created` may be.
     */
    INBOUND_CONTACT_POW_LEVEL: integerVar({ default: 1, min: 0, max: MAX_PROOF_OF_WORK_LEVEL }),
    INBOUND_CONTACT_REQUESTS_PER_HOUR: integerVar({ default: 20, min: 0, max: 1_000_000 }),
    INBOUND_CONTACT_REQUESTS_PER_ORIGIN_PER_HOUR: integerVar({ default: 200, min: 0, max: 100_000_000 }),
    INBOUND_SPOOL_MAX_PER_ACCOUNT: integerVar({ default: 1_000, min: 1, max: 10_000_000 }),
    INBOUND_STRANGER_MAX_PER_ACCOUNT: integerVar({ default: 50, min: 0, max: 10_000_000 }),
    INBOUND_MAX_ENVELOPE_BYTES: integerVar({
      default: 64 * 1024,
      min: 1024,
      max: INBOUND_ENVELOPE_LIMIT_BYTES,
    }),
    INBOUND_MAX_AGE_MS: integerVar({ default: 7 * 86_400_000, min: 60_000, max: 90 * 86_400_000 }),
    CLOCK_SKEW_MS: integerVar({ default: DEFAULT_MAX_SKEW_MS, min: 1_000, max: DEFAULT_MAX_SKEW_MS }),
    /**
     * Worker threads that verify the signatures of peers' entries while the rule re-check runs in
     * order (issue #17; docs/design/replication.md "Signature workers"); 0: in the service's thread.
     */
    ...signatureWorkersConfigShape(),
    /** How often the witness outbox is polled when empty. */
    WITNESS_POLL_MS: integerVar({ default: 200, min: 10, max: 60_000 }),
    /** How often the newest seal is offered to the outside witnesses (OUTSIDE_WITNESSES). */
    OUTSIDE_WITNESS_POLL_MS: integerVar({ default: 1_000, min: 10, max: 3_600_000 }),
    /** Per request to an outside witness. */
    OUTSIDE_WITNESS_TIMEOUT_MS: integerVar({ default: 5_000, min: 100, max: 300_000 }),
    /** The longest wait before retrying an outside witness that failed (doubling from the poll). */
    OUTSIDE_WITNESS_RETRY_MAX_MS: integerVar({ default: 60_000, min: 10, max: 3_600_000 }),
  };
}

/**
 * The largest INBOUND_MAX_ENVELOPE_BYTES: an inbound message carries the envelope in base64 in ONE
 * Kafka message, which must stay within LOG_MESSAGE_MAX_BYTES (the decoder's bound) with room for
 * the other fields.
 */
export const INBOUND_ENVELOPE_LIMIT_BYTES = 512 * 1024;

export type ReplicationConfig = ReturnType<typeof loadReplicationConfig>;

export function loadReplicationConfig(env: NodeJS.ProcessEnv) {
  const base = loadConfig(replicationConfigShape(), env);
  if (base.INBOUND_MAX_AGE_MS <= base.CLOCK_SKEW_MS)
    throw new ConfigError(
      'INBOUND_MAX_AGE_MS',
      `is ${base.INBOUND_MAX_AGE_MS} ms, not above CLOCK_SKEW_MS (${base.CLOCK_SKEW_MS} ms): every envelope a sender's portal accepted could arrive expired; raise it (default 604800000, 7 days)`,
    );
  const kafka = kafkaSecurity(base);
  const peerCa = base.PEER_CA_FILE === undefined ? undefined : readCaFile('PEER_CA_FILE', base.PEER_CA_FILE);
  return {
    ...base,
    kafka,
    peerCa,
    federation: loadFederation(env, base.PORTAL_ID),
    outsideWitnesses: loadOutsideWitnesses(env),
  };
}

interface KafkaSecurityVars {
  readonly KAFKA_SASL_MECHANISM?: KafkaSasl['mechanism'] | undefined;
  readonly KAFKA_SASL_USERNAME?: string | undefined;
  readonly KAFKA_SASL_PASSWORD?: string | undefined;
  readonly KAFKA_SASL_PASSWORD_FILE?: string | undefined;
  readonly KAFKA_SSL: boolean;
  readonly KAFKA_SSL_CA_FILE?: string | undefined;
}

/**
 * SASL and TLS towards the brokers, checked together: a mechanism needs a username and exactly one
 * of KAFKA_SASL_PASSWORD / KAFKA_SASL_PASSWORD_FILE (read here; a trailing newline is dropped), and
 * credentials without a mechanism are refused rather than silently unused.
 */
function kafkaSecurity(vars: KafkaSecurityVars): Pick<KafkaConnection, 'sasl' | 'ssl'> {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username } = vars;
  const password = vars.KAFKA_SASL_PASSWORD;
  const passwordFile = vars.KAFKA_SASL_PASSWORD_FILE;
  if (mechanism === undefined) {
    const stray = [
      ['KAFKA_SASL_USERNAME', username],
      ['KAFKA_SASL_PASSWORD', password],
      ['KAFKA_SASL_PASSWORD_FILE', passwordFile],
    ].find(([, v]) => v !== undefined);
    if (stray)
      throw new ConfigError(stray[0]!, 'is set but KAFKA_SASL_MECHANISM is not: set both or neither');
  }
  let sasl: KafkaSasl | undefined;
  if (mechanism !== undefined) {
    if (username === undefined)
      throw new ConfigError('KAFKA_SASL_USERNAME', `is required with KAFKA_SASL_MECHANISM=${mechanism}`);
    if ((password === undefined) === (passwordFile === undefined))
      throw new ConfigError(
        'KAFKA_SASL_PASSWORD_FILE',
        `set exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE with KAFKA_SASL_MECHANISM=${mechanism}`,
      );
    let secret = password;
    if (passwordFile !== undefined) {
      try {
        secret = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new ConfigError('KAFKA_SASL_PASSWORD_FILE', `cannot read ${passwordFile} (${reason})`);
      }
      if (secret === '') throw new ConfigError('KAFKA_SASL_PASSWORD_FILE', `${passwordFile} is empty`);
    }
    sasl = { mechanism, username, password: secret! };
  }
  const ca =
    vars.KAFKA_SSL_CA_FILE === undefined
      ? undefined
      : readCaFile('KAFKA_SSL_CA_FILE', vars.KAFKA_SSL_CA_FILE);
  const ssl = ca !== undefined ? { ca } : vars.KAFKA_SSL ? true : undefined;
  return { ...(sasl === undefined ? {} : { sasl }), ...(ssl === undefined ? {} : { ssl }) };
}

/** The kafkajs connection of this portal's clients (`<KAFKA_CLIENT_ID>-<suffix>`), security included. */
export function kafkaConnection(config: ReplicationConfig, suffix?: string): KafkaConnection {
  return {
    brokers: config.KAFKA_BROKERS,
    clientId: suffix === undefined ? config.KAFKA_CLIENT_ID : `${config.KAFKA_CLIENT_ID}-${suffix}`,
    ...config.kafka,
  };
}
