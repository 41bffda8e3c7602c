import { KEY_TYPE_ED25519, makeVerifierKey } from '@cryptomesh/log';
import { ConfigError } from '@cryptomesh/service';
import { loadGatewayConfig } from './gateway.config';

const ENV = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
  PORTAL_ID: 'alpha',
  LOG_ORIGIN: 'alpha.example/log',
  LOG_VERIFIER_KEY: makeVerifierKey('alpha.example/log', KEY_TYPE_ED25519, new Uint8Array(32).fill(3)).text,
};

describe('the gateway configuration', () => {
  it('keeps CLOCK_SKEW_MS within the auditors’ window, so that peers never report what it accepted', () => {
    expect(loadGatewayConfig(ENV).CLOCK_SKEW_MS).toBe(300_000);
    expect(loadGatewayConfig({ ...ENV, CLOCK_SKEW_MS: '300000' }).CLOCK_SKEW_MS).toBe(300_000);
    expect(() => loadGatewayConfig({ ...ENV, CLOCK_SKEW_MS: '300001' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ ...ENV, CLOCK_SKEW_MS: '300001' })).toThrow(/CLOCK_SKEW_MS/);
  });
});
