import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_ED25519, makeVerifierKey } from '@cryptomesh/log';
import { createService, type RunningService } from '@cryptomesh/service';
import { gatewayApp } from '../../apps/gateway/src/gateway.app';

/** The environment of a test gateway on `databaseUrl`; `overrides` replace any variable. */
export function gatewayEnv(databaseUrl: string, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const logKey = makeVerifierKey(
    'alpha.example/log',
    KEY_TYPE_ED25519,
    nodeEd25519.publicKeyOf(new Uint8Array(32).fill(1)),
  );
  return {
    PORT: '0',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    PORTAL_ID: 'alpha',
    LOG_ORIGIN: 'alpha.example/log',
    LOG_VERIFIER_KEY: logKey.text,
    ...overrides,
  };
}

/** A gateway on `databaseUrl`, listening on a free port. */
export function startGateway(
  databaseUrl: string,
  overrides: Record<string, string> = {},
): Promise<RunningService> {
  return createService(gatewayApp, gatewayEnv(databaseUrl, overrides));
}
