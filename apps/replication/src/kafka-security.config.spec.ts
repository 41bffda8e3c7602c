import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaClientConfig } from '@cryptomesh/intermesh';
import { ConfigError } from '@cryptomesh/service';
import { kafkaConnection, loadReplicationConfig } from './replication.config';

const dir = mkdtempSync(join(tmpdir(), 'cmp-kafka-sec-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const base = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/portal',
  KAFKA_BROKERS: 'kafka:9092',
  PORTAL_ID: 'alpha',
  KAFKA_CLIENT_ID: 'cryptomesh-alpha',
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

describe('Kafka security of the replication service (KAFKA_SASL_*, KAFKA_SSL*)', () => {
  it('connects without SASL or TLS by default (a loopback development broker)', () => {
    const connection = kafkaConnection(loadReplicationConfig(base), 'mirror');
    expect(connection).toEqual({ brokers: ['kafka:9092'], clientId: 'cryptomesh-alpha-mirror' });
    const kafka = kafkaClientConfig(connection);
    expect(kafka.sasl).toBeUndefined();
    expect(kafka.ssl).toBeUndefined();
  });

  it('passes SCRAM credentials, the password read from a file without its newline, and TLS with a CA to kafkajs', () => {
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = loadReplicationConfig({
      ...base,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'alpha',
      KAFKA_SASL_PASSWORD_FILE: file('password', 's3cret\n'),
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
    });
    const kafka = kafkaClientConfig(kafkaConnection(config, 'publisher'));
    expect(kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alpha', password: 's3cret' });
    expect(kafka.ssl).toEqual({ ca: [expect.stringContaining('BEGIN CERTIFICATE')] });
    expect(kafka.clientId).toBe('cryptomesh-alpha-publisher');
    const plain = loadReplicationConfig({
      ...base,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'alpha',
      KAFKA_SASL_PASSWORD: 'inline',
      KAFKA_SSL: 'true',
    });
    expect(kafkaClientConfig(kafkaConnection(plain))).toMatchObject({
      sasl: { mechanism: 'plain', password: 'inline' },
      ssl: true,
    });
  });

  it('refuses incomplete or contradictory settings, naming the variable', () => {
    expect(refused({ KAFKA_SASL_MECHANISM: 'gssapi' }).variable).toBe('KAFKA_SASL_MECHANISM');
    expect(refused({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_PASSWORD: 'x' }).variable).toBe(
      'KAFKA_SASL_USERNAME',
    );
    expect(refused({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'alpha' }).message).toMatch(
      /exactly one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE/,
    );
    expect(
      refused({
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: 'alpha',
        KAFKA_SASL_PASSWORD: 'x',
        KAFKA_SASL_PASSWORD_FILE: file('p2', 'y'),
      }).variable,
    ).toBe('KAFKA_SASL_PASSWORD_FILE');
    expect(refused({ KAFKA_SASL_USERNAME: 'alpha' }).message).toBe(
      'KAFKA_SASL_USERNAME: is set but KAFKA_SASL_MECHANISM is not: set both or neither',
    );
    const missing = join(dir, 'missing');
    expect(
      refused({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'a', KAFKA_SASL_PASSWORD_FILE: missing })
        .message,
    ).toBe(`KAFKA_SASL_PASSWORD_FILE: cannot read ${missing} (ENOENT)`);
    expect(
      refused({
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'a',
        KAFKA_SASL_PASSWORD_FILE: file('empty', '\n'),
      }).message,
    ).toMatch(/is empty/);
    expect(refused({ KAFKA_SSL_CA_FILE: file('not-pem', 'hello') }).variable).toBe('KAFKA_SSL_CA_FILE');
    expect(refused({ KAFKA_SSL: 'yes' }).variable).toBe('KAFKA_SSL');
  });
});
