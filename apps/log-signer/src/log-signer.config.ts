import { z } from 'zod';
import {
  ConfigError,
  commonConfigShape,
  databaseConfigShape,
  integerVar,
  loadConfig,
  signatureWorkersConfigShape,
} from '@cryptomesh/service';
import { loadLogKey, loadNextLogKey } from './log-key';

/** The log-signer service's environment (docs/configuration.md lists every variable). */
export function logSignerConfigShape() {
  return {
    ...commonConfigShape(8084),
    ...databaseConfigShape(),
    /** A part holding entries is sealed this long after the previous seal (DESIGN.md invariant 1). */
    SEAL_INTERVAL_MS: integerVar({ default: 1_000, min: 10, max: 3_600_000 }),
    /** With no entries, an empty part is sealed this long after the previous seal. */
    HEARTBEAT_MS: integerVar({ default: 60_000, min: 10, max: 86_400_000 }),
    /** A part is sealed as soon as it holds this many entries. */
    PART_MAX_ENTRIES: integerVar({ default: 10_000, min: 1, max: 1_000_000 }),
    /** Queued entries taken per sequencing transaction. */
    SEQUENCE_BATCH_SIZE: integerVar({ default: 1_000, min: 1, max: 50_000 }),
    /** How often the queue is polled (nothing depends on LISTEN/NOTIFY: DESIGN.md "How it runs"). */
    QUEUE_POLL_MS: integerVar({ default: 50, min: 1, max: 60_000 }),
    /** How often a standby retries the leadership lock. */
    LEADER_RETRY_MS: integerVar({ default: 1_000, min: 10, max: 60_000 }),
    /**
     * `mesh`: each queued record is re-checked with the auditors' rules before it is sealed, and one
     * that breaks a rule is refused (docs/design/log-signer.md "What the log-signer checks"); `none`:
     * only that it is a log entry (canonical JSON), for a log that does not hold Mesh records.
     */
    LOG_SIGNER_RULES: z.enum(['mesh', 'none']).default('mesh'),
    /** Worker threads that verify the re-checked records' signatures (issue #17); 0: in this thread. */
    ...signatureWorkersConfigShape(),
    LOG_ORIGIN: z.string().trim().optional(),
    /** The verifier key other services are given; when set, it MUST be the log key's. */
    LOG_VERIFIER_KEY: z.string().trim().optional(),
  };
}

export type LogSignerConfig = ReturnType<typeof loadLogSignerConfig>;

/**
 * Parses the environment and loads the log key (`log-key.ts`). LOG_ORIGIN, when set, MUST equal the
 * key's name — the checkpoint origin every seal carries — and LOG_VERIFIER_KEY, when set (the
 * gateway announces it in `Hello`), MUST be the key's own: a key of another portal is refused at
 * start rather than found out by peers.
 */
export function loadLogSignerConfig(env: NodeJS.ProcessEnv) {
  const base = loadConfig(logSignerConfigShape(), env);
  const logKey = loadLogKey(env);
  const origin = logKey.verifierKey.name;
  if (base.LOG_ORIGIN !== undefined && base.LOG_ORIGIN !== '' && base.LOG_ORIGIN !== origin) {
    throw new ConfigError(
      'LOG_ORIGIN',
      `does not match the log key's name ${JSON.stringify(origin)} (got ${JSON.stringify(base.LOG_ORIGIN)})`,
    );
  }
  const verifierKey = base.LOG_VERIFIER_KEY ?? '';
  const nextText = loadNextLogKey(env, logKey)?.verifierKey.text;
  if (verifierKey !== '' && verifierKey !== logKey.verifierKey.text && verifierKey !== nextText) {
    throw new ConfigError(
      'LOG_VERIFIER_KEY',
      `is not the verifier key of the log key (${logKey.verifierKey.text}; got ${JSON.stringify(verifierKey.slice(0, 100))})`,
    );
  }
  const nextLogKey = loadNextLogKey(env, logKey);
  return { ...base, LOG_ORIGIN: origin, logKey, ...(nextLogKey === undefined ? {} : { nextLogKey }) };
}
