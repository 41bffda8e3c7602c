import { z } from 'zod';
import { isValidPortalId } from '@cryptomesh/intermesh/topics';
import {
  commonConfigShape,
  databaseConfigShape,
  enumVar,
  integerVar,
  loadConfig,
  logBacklogConfigShape,
  workersConfigShape,
} from '@cryptomesh/service';

/** CHECKPOINT_MAX_AGE_MS when unset. */
export const DEFAULT_CHECKPOINT_MAX_AGE_MS = 25;

/** PROOF_TREE_MB when unset, shared by the served logs: a log of about 800,000 entries held whole. */
export const DEFAULT_PROOF_TREE_MB = 64;

/** The query service's environment (docs/configuration.md lists every variable). */
export function queryConfigShape() {
  return {
    ...commonConfigShape(8082),
    ...databaseConfigShape(),
    ...logBacklogConfigShape(),
    ...workersConfigShape(),
    /**
     * How old the in-memory checkpoints may be (docs/design/query.md "Log heads"): a seal or a
     * cosignature committed at t is in every answer to a request that arrives after t + this. 0: each
     * answer reads them anew.
     */
    CHECKPOINT_MAX_AGE_MS: integerVar({ default: DEFAULT_CHECKPOINT_MAX_AGE_MS, min: 0, max: 10_000 }),
    /**
     * Memory for the served logs' proof trees, shared equally (docs/design/query.md "Proof tree"),
     * MiB: proofs from memory, no statement. A log too large for its share keeps its upper levels;
     * 0 turns the trees off.
     */
    PROOF_TREE_MB: integerVar({ default: DEFAULT_PROOF_TREE_MB, min: 0, max: 16_384 }),
    /**
     * The log reads (entries, proof nodes, profile index, tiles) as named prepared statements, planned
     * once per connection. `false` behind a pooler that does not keep a session per client
     * (PgBouncer in transaction mode before 1.21).
     */
    DB_PREPARED_STATEMENTS: enumVar(['true', 'false'], 'true').transform((v) => v === 'true'),
    /** This portal's id, named by `/federation` until the replication service wrote its own row. */
    PORTAL_ID: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .trim()
        .refine(isValidPortalId, { message: 'must be 1–63 of a–z 0–9 - (starting with a letter or digit)' })
        .optional(),
    ),
  };
}

export type QueryConfig = ReturnType<typeof loadQueryConfig>;

export function loadQueryConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(queryConfigShape(), env);
}
