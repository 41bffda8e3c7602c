import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A `postgres://` URL for TypeORM and pg, on loopback only. */
  readonly url: string;
  readonly dataDir: string;
  /** Stops serving and closes the database cleanly (its files stay). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Memory (issue #16: the portal used 390 MB at rest, 858 MB on its first start). A WebAssembly
 * memory never shrinks, so what PGlite grows to stays: with PostgreSQL's 128 MB of shared buffers it
 * settled near 300 MB, with 16 MB near 170 MB (measured on Node 20: a 20,000-row insert after start; 8 MB took
 * the whole portal from 266 to 251 MB at rest);
 * a portal's working set is small and the operating system caches the files anyway. Creating the
 * database cluster (initdb) grows it to some 700 MB whatever the settings, so the first start runs
 * initdb in a child process that exits, and the portal opens the cluster afterwards.
 */
const EMBEDDED_START_PARAMS: readonly string[] = [
  ...PGlite.defaultStartParams,
  '-c',
  'shared_buffers=8MB',
  '-c',
  'work_mem=2MB',
  '-c',
  'maintenance_work_mem=16MB',
  '-c',
  'temp_buffers=2MB',
];

/**
 * PGlite's code (9 MB of WebAssembly) is compiled lazily by V8's baseline compiler (Liftoff), and its
 * hot functions are then recompiled by the optimising compiler (TurboFan) in the background. That
 * second tier cost the portal process about 100 MB of RSS — code and, above all, the compiler's own
 * working memory, which the allocator keeps — for the first start's peak and at rest alike
 * (measured on Node 20: 285–291 MB peak with it, 189 MB without; docs/BENCHMARKS.md). Without it the
 * embedded PostgreSQL runs its queries on baseline code, slower per query; the portal's throughput in
 * the single-portal mode was measured with both (docs/BENCHMARKS.md, issue #16). These are V8's
 * production flags (not `--liftoff-only`, which is for testing): tier-up off, dynamic tiering off.
 */
const BASELINE_WASM_FLAGS: readonly string[] = ['--no-wasm-tier-up', '--no-wasm-dynamic-tiering'];

/**
 * Applies BASELINE_WASM_FLAGS to this process unless the optimising tier was asked for. V8 reads
 * them when it compiles a WebAssembly module, so this must run before PGlite compiles its own (the
 * first `PGlite.create` of the process); it affects every WebAssembly module compiled afterwards.
 */
function useBaselineWasmCode(): void {
  for (const flag of BASELINE_WASM_FLAGS) setFlagsFromString(flag);
}

/** Creates the cluster in `dataDir` in a child process; throws with its output when that fails. */
function initialiseInChild(dataDir: string, optimisedWasm: boolean): void {
  const script = [
    `const { PGlite } = require(${JSON.stringify(require.resolve('@electric-sql/pglite'))});`,
    `PGlite.create(${JSON.stringify(dataDir)}, { startParams: ${JSON.stringify(EMBEDDED_START_PARAMS)} })`,
    '  .then((db) => db.close())',
    '  .catch((error) => { console.error(error); process.exit(1); });',
  ].join('\n');
  // The baseline flags also make initdb faster (measured 27 s → 16 s with two busy cores): most of
  // its code runs once, so optimising it was wasted work.
  const flags = optimisedWasm ? [] : BASELINE_WASM_FLAGS;
  const child = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' });
  if (child.status !== 0)
    throw new Error(
      `creating the embedded database in ${dataDir} failed: ${child.stderr || child.error?.message}`,
    );
}

/**
 * PostgreSQL for the single-portal mode with nothing to install: PGlite (Postgres compiled to
 * WebAssembly) keeps its files in `dataDir` and is served over the Postgres wire protocol on a
 * free loopback port, so the portal's TypeORM code runs unchanged. Several connections are
 * multiplexed onto the one embedded backend; nothing may depend on LISTEN/NOTIFY arriving
 * (DESIGN.md "How it runs").
 */
export async function startEmbeddedPostgres(options: {
  readonly dataDir: string;
  readonly maxConnections?: number;
  /**
   * Let V8 optimise PostgreSQL's hot functions (TurboFan): faster queries, about 100 MB more RSS.
   * Default false (BASELINE_WASM_FLAGS, applied to the whole process).
   */
  readonly optimisedWasm?: boolean;
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const optimisedWasm = options.optimisedWasm ?? false;
  mkdirSync(dataDir, { recursive: true });
  if (!optimisedWasm) useBaselineWasmCode();
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initialiseInChild(dataDir, optimisedWasm);
  const db = await PGlite.create(dataDir, { startParams: [...EMBEDDED_START_PARAMS] });
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections ?? 16,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const port = Number(server.getServerConn().split(':').pop());
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    stop() {
      stopped ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return stopped;
    },
  };
}
