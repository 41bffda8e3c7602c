import { z } from 'zod';
import { commonConfigShape, enumVar, integerVar, loadConfig, postgresUrlVar } from '@cryptomesh/service';

const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/**
 * The single-portal mode's own variables (docs/configuration.md "portal"). Everything else —
 * the gateway's limits, the log-signer's intervals — is read by those modules as usual.
 */
export function portalConfigShape() {
  return {
    ...commonConfigShape(8080),
    /** Where the embedded database and the log key live. */
    DATA_DIR: z.preprocess((v) => (v === undefined || v === '' ? './data' : v), z.string().trim().min(1)),
    /** Use this PostgreSQL server instead of the embedded database. */
    DATABASE_URL: optional(postgresUrlVar()),
    PORTAL_ID: z.preprocess((v) => (v === undefined || v === '' ? 'local' : v), z.string().trim()),
    /** The checkpoint origin (and log key name) used when a log key is created. */
    LOG_ORIGIN: optional(z.string().trim().min(1)),
    /** The log key; created there on first start when absent (default DATA_DIR/log.key). */
    LOG_KEY_FILE: optional(z.string().trim().min(1)),
    /**
     * `true`: V8 optimises the embedded PostgreSQL's hot WebAssembly functions — about 3× the
     * throughput, about 90 MB more RSS (issue #16, docs/BENCHMARKS.md). Ignored with DATABASE_URL.
     */
    /**
     * Memory for the query side's proof trees, MiB, shared by the logs it serves (docs/design/query.md
     * "Proof tree"); smaller than the query service's default, as the whole portal is one process.
     */
    PROOF_TREE_MB: integerVar({ default: 16, min: 0, max: 16_384 }),
    EMBEDDED_WASM_OPTIMISE: enumVar(['true', 'false'], 'false').transform((v) => v === 'true'),
  };
}

export type PortalConfig = ReturnType<typeof loadPortalConfig>;

export function loadPortalConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(portalConfigShape(), env);
}
