import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
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
  const db = await PGlite.create(dataDir);
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
