import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EmbeddedPostgres, startEmbeddedPostgres } from '@cryptomesh/persistence';
import { generateLogKey, loadLogKey } from '../../log-signer/src/log-key';
import type { PortalConfig } from './portal.config';

export interface PortalSetup {
  /** The environment the hosted modules read: the operator's, plus what the portal derived. */
  readonly env: NodeJS.ProcessEnv;
  readonly origin: string;
  readonly verifierKey: string;
  readonly database: 'embedded' | 'external';
  readonly keyCreated: boolean;
  readonly embedded?: EmbeddedPostgres;
}

/**
 * Prepares what the single-portal mode needs before its modules start: the database (PGlite in
 * DATA_DIR/pg unless DATABASE_URL is set) and the log key (DATA_DIR/log.key, created with mode
 * 0600 on first start; never overwritten). The key's name is the checkpoint origin.
 */
export async function preparePortal(config: PortalConfig, env: NodeJS.ProcessEnv): Promise<PortalSetup> {
  const dataDir = resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const keyFile = resolve(config.LOG_KEY_FILE ?? join(dataDir, 'log.key'));
  let keyCreated = false;
  if (!existsSync(keyFile)) {
    const origin = config.LOG_ORIGIN ?? `localhost/cryptomesh/${config.PORTAL_ID}`;
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, `${generateLogKey(origin).signerKey}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(keyFile, 0o600);
    keyCreated = true;
  }
  const logKey = loadLogKey({ LOG_KEY_FILE: keyFile });
  const embedded = config.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: join(dataDir, 'pg'),
        optimisedWasm: config.EMBEDDED_WASM_OPTIMISE,
      });
  return {
    env: {
      ...env,
      DATABASE_URL: config.DATABASE_URL ?? embedded!.url,
      LOG_KEY_FILE: keyFile,
      LOG_KEY: '',
      LOG_ORIGIN: config.LOG_ORIGIN ?? logKey.verifierKey.name,
      LOG_VERIFIER_KEY: logKey.verifierKey.text,
      PORTAL_ID: config.PORTAL_ID,
      // PGlite is one backend behind a socket multiplexer: concurrent reads from several pooled
      // connections were seen to return incomplete results (docs/decisions.md), so the embedded
      // database gets one pooled connection (plus the log-signer leader's own) unless told otherwise.
      ...(embedded && !env.DB_POOL_SIZE ? { DB_POOL_SIZE: '1' } : {}),
    },
    origin: logKey.verifierKey.name,
    verifierKey: logKey.verifierKey.text,
    database: embedded ? 'embedded' : 'external',
    keyCreated,
    embedded,
  };
}
