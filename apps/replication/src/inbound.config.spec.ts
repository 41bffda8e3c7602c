import { ConfigError } from '@cryptomesh/service';
import { loadReplicationConfig } from './replication.config';

const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/portal',
  KAFKA_BROKERS: 'kafka:9092',
  PORTAL_ID: 'alpha',
};

function refused(env: Record<string, string>): ConfigError {
  try {
    loadReplicationConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('the replication service’s heap growth (HEAP_GROWING_PERCENT)', () => {
  it('defaults to 20, below the other services’ 50, and may be set', () => {
    expect(loadReplicationConfig(base).HEAP_GROWING_PERCENT).toBe(20);
    expect(loadReplicationConfig({ ...base, HEAP_GROWING_PERCENT: '50' }).HEAP_GROWING_PERCENT).toBe(50);
    expect(refused({ HEAP_GROWING_PERCENT: '301' }).message).toMatch(/HEAP_GROWING_PERCENT/);
  });
});

describe('inbound relay configuration of the replication service (INBOUND_*, CLOCK_SKEW_MS)', () => {
  it('has the defaults of docs/configuration.md, the gateway’s', () => {
    expect(loadReplicationConfig(base)).toMatchObject({
      INBOUND_CONTACT_POW_LEVEL: 1,
      INBOUND_CONTACT_REQUESTS_PER_HOUR: 20,
      INBOUND_CONTACT_REQUESTS_PER_ORIGIN_PER_HOUR: 200,
      INBOUND_SPOOL_MAX_PER_ACCOUNT: 1_000,
      INBOUND_STRANGER_MAX_PER_ACCOUNT: 50,
      INBOUND_MAX_ENVELOPE_BYTES: 65_536,
      INBOUND_MAX_AGE_MS: 604_800_000,
      CLOCK_SKEW_MS: 300_000,
    });
    expect(
      loadReplicationConfig({
        ...base,
        INBOUND_CONTACT_POW_LEVEL: '0',
        INBOUND_MAX_ENVELOPE_BYTES: '524288',
      }),
    ).toMatchObject({ INBOUND_CONTACT_POW_LEVEL: 0, INBOUND_MAX_ENVELOPE_BYTES: 524_288 });
  });

  it.each([
    [{ INBOUND_CONTACT_POW_LEVEL: '5' }, 'INBOUND_CONTACT_POW_LEVEL', /between 0 and 4/],
    [{ INBOUND_CONTACT_REQUESTS_PER_HOUR: '-1' }, 'INBOUND_CONTACT_REQUESTS_PER_HOUR', /between 0 and/],
    [{ INBOUND_SPOOL_MAX_PER_ACCOUNT: '0' }, 'INBOUND_SPOOL_MAX_PER_ACCOUNT', /between 1 and/],
    [{ INBOUND_MAX_ENVELOPE_BYTES: '524289' }, 'INBOUND_MAX_ENVELOPE_BYTES', /between 1024 and 524288/],
    [{ INBOUND_MAX_AGE_MS: 'a week' }, 'INBOUND_MAX_AGE_MS', /whole number/],
    [
      { INBOUND_MAX_AGE_MS: '120000', CLOCK_SKEW_MS: '300000' },
      'INBOUND_MAX_AGE_MS',
      /not above CLOCK_SKEW_MS/,
    ],
  ])('refuses %j naming %s', (env, variable, problem) => {
    const error = refused(env);
    expect(error.message.startsWith(`${variable}`)).toBe(true);
    expect(error.message).toMatch(problem);
  });
});
