import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

/** Creates the cluster in `dataDir` in a child process; throws with its output when that fails. */
function initialiseInChild(dataDir: string): void {
  const script = [
    `const { PGlite } = require(${JSON.stringify(require.resolve('@electric-sql/pglite'))});`,
    `PGlite.create(${JSON.stringify(dataDir)}, { startParams: ${JSON.stringify(EMBEDDED_START_PARAMS)} })`,
    '  .then((db) => db.close())',
    '  .catch((error) => { console.error(error); process.exit(1); });',
  ].join('\n');
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
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
}): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) initialiseInChild(dataDir);
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
