import 'reflect-metadata';
import { ConfigError, EXIT_CONFIG, runService } from '@cryptomesh/service';
import { portalApp } from './portal.app';
import { loadPortalConfig } from './portal.config';
import { preparePortal } from './portal-setup';

/**
 * `npm start`: one portal in one process — embedded PostgreSQL (PGlite) in DATA_DIR unless
 * DATABASE_URL is set, a log key created on first start, one HTTP server on PORT (default 8080)
 * for the Mesh protocol and the query API.
 */
async function main(): Promise<void> {
  let setup;
  try {
    setup = await preparePortal(loadPortalConfig(process.env), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`portal: configuration error: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  process.stdout.write(
    `${JSON.stringify({
      level: 'info',
      time: new Date().toISOString(),
      service: 'portal',
      msg: setup.keyCreated ? 'log key created' : 'log key loaded',
      origin: setup.origin,
      verifierKey: setup.verifierKey,
      database: setup.database,
    })}\n`,
  );
  await runService(portalApp(setup));
}

void main();
