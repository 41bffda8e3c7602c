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

  it('reads the inbound settings with the defaults of docs/configuration.md, and refuses bad ones by name', () => {
    const c = loadGatewayConfig(ENV);
    expect([
      c.INBOUND_CONTACT_POW_LEVEL,
      c.INBOUND_CONTACT_REQUESTS_PER_HOUR,
      c.INBOUND_SPOOL_MAX_PER_ACCOUNT,
      c.INBOUND_MAX_ENVELOPE_BYTES,
      c.INBOUND_MAX_AGE_MS,
      c.QUOTA_CATALOG_OBJECTS_PER_ACCOUNT,
      c.QUOTA_CATALOG_BYTES_PER_ACCOUNT,
    ]).toEqual([1, 20, 1_000, 65_536, 604_800_000, 10_000, 16 * 1024 * 1024]);
    for (const [name, value] of [
      ['INBOUND_CONTACT_POW_LEVEL', '5'],
      ['INBOUND_CONTACT_REQUESTS_PER_HOUR', 'many'],
      ['INBOUND_SPOOL_MAX_PER_ACCOUNT', '0'],
      ['INBOUND_MAX_ENVELOPE_BYTES', '100'],
      ['INBOUND_MAX_AGE_MS', '1000'],
    ] as const)
      expect(() => loadGatewayConfig({ ...ENV, [name]: value })).toThrow(new RegExp(name));
  });

  it('keeps a deleted inbound item’s tombstone longer than any envelope it takes (INBOUND_MAX_AGE_MS > CLOCK_SKEW_MS)', () => {
    expect(() =>
      loadGatewayConfig({ ...ENV, INBOUND_MAX_AGE_MS: '120000', CLOCK_SKEW_MS: '120000' }),
    ).toThrow(/INBOUND_MAX_AGE_MS: .*not above CLOCK_SKEW_MS/);
    expect(
      loadGatewayConfig({ ...ENV, INBOUND_MAX_AGE_MS: '120001', CLOCK_SKEW_MS: '120000' }).INBOUND_MAX_AGE_MS,
    ).toBe(120_001);
  });

  it('reads the group commit settings (defaults 256, 0 ms, 1) and refuses bad ones by name', () => {
    const c = loadGatewayConfig(ENV);
    expect([c.GROUP_COMMIT_MAX_BATCH, c.GROUP_COMMIT_WINDOW_MS, c.GROUP_COMMIT_MAX_IN_FLIGHT]).toEqual([
      256, 0, 1,
    ]);
    const set = loadGatewayConfig({
      ...ENV,
      GROUP_COMMIT_MAX_BATCH: '1',
      GROUP_COMMIT_WINDOW_MS: '2',
      GROUP_COMMIT_MAX_IN_FLIGHT: '4',
    });
    expect([set.GROUP_COMMIT_MAX_BATCH, set.GROUP_COMMIT_WINDOW_MS, set.GROUP_COMMIT_MAX_IN_FLIGHT]).toEqual([
      1, 2, 4,
    ]);
    for (const [name, value] of [
      ['GROUP_COMMIT_MAX_BATCH', '0'],
      ['GROUP_COMMIT_MAX_BATCH', '5000'],
      ['GROUP_COMMIT_WINDOW_MS', '-1'],
      ['GROUP_COMMIT_WINDOW_MS', '51'],
      ['GROUP_COMMIT_WINDOW_MS', '1.5'],
      ['GROUP_COMMIT_MAX_IN_FLIGHT', '0'],
      ['GROUP_COMMIT_MAX_IN_FLIGHT', '17'],
    ] as const)
      expect(() => loadGatewayConfig({ ...ENV, [name]: value })).toThrow(new RegExp(name));
  });
});
