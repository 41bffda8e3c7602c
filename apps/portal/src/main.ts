import 'reflect-metadata';
import { ConfigError, EXIT_CONFIG, runService } from '@cryptomesh/service';
import { portalApp } from './portal.app';
import { loadPortalConfig } from './portal.config';
import { resolve } from 'node:path';
import { portalBanner } from './portal-banner';
import { preparePortal } from './portal-setup';

/**
 * `npm start`: one portal in one process — embedded PostgreSQL (PGlite) in DATA_DIR unless
 * DATABASE_URL is set, a log key created on first start, one HTTP server on PORT (default 8080)
 * for the Mesh protocol and the query API.
 */
async function main(): Promise<void> {
  let setup;
  let config;
  try {
    config = loadPortalConfig(process.env);
    setup = await preparePortal(config, process.env);
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
  const portal = { ...setup, portalId: config.PORTAL_ID, dataDir: resolve(config.DATA_DIR) };
  await runService({
    ...portalApp(setup),
    afterListen: (url) => process.stderr.write(`${portalBanner(url, portal)}\n`),
  });
}

void main();
