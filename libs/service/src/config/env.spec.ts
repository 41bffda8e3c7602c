import { ConfigError } from './config-error';
import { enumVar, integerVar, kafkaBrokersVar, loadConfig, portVar, postgresUrlVar } from './env';
import { commonConfigShape } from './service-config';
import { databaseConfigShape } from './database-config';

const shape = { ...commonConfigShape(8080), ...databaseConfigShape() };
const good = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/portal' };

function problem(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(shape, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and parses values', () => {
    expect(loadConfig(shape, good)).toEqual({
      HOST: '127.0.0.1',
      PORT: 8080,
      LOG_LEVEL: 'info',
      REQUEST_TIMEOUT_MS: 30_000,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      HEAP_GROWING_PERCENT: 50,
      DATABASE_URL: good.DATABASE_URL,
      DB_MIGRATIONS: 'run',
      DB_POOL_SIZE: 10,
    });
    expect(
      loadConfig(shape, { ...good, PORT: '0', DB_MIGRATIONS: 'check', LOG_LEVEL: 'debug' }),
    ).toMatchObject({
      PORT: 0,
      DB_MIGRATIONS: 'check',
      LOG_LEVEL: 'debug',
    });
  });

  it.each([
    [{}, 'DATABASE_URL', 'DATABASE_URL: is required (e.g. postgres://postgres@127.0.0.1:5432/cryptomesh)'],
    [
      { DATABASE_URL: 'postgres://host' },
      'DATABASE_URL',
      'DATABASE_URL: must be a URL like postgres://user@host:5432/database (got "postgres://host")',
    ],
    [{ ...good, PORT: 'eighty' }, 'PORT', 'PORT: must be a whole number (got "eighty")'],
    [{ ...good, PORT: '-1' }, 'PORT', 'PORT: must be between 0 and 65535 (got "-1")'],
    [{ ...good, PORT: '8080.5' }, 'PORT', 'PORT: must be a whole number (got "8080.5")'],
    [{ ...good, DB_POOL_SIZE: '0' }, 'DB_POOL_SIZE', 'DB_POOL_SIZE: must be between 1 and 200 (got "0")'],
    [
      { ...good, DB_MIGRATIONS: 'always' },
      'DB_MIGRATIONS',
      'DB_MIGRATIONS: must be one of run, check, skip (got "always")',
    ],
    [
      { ...good, SHUTDOWN_TIMEOUT_MS: '5s' },
      'SHUTDOWN_TIMEOUT_MS',
      'SHUTDOWN_TIMEOUT_MS: must be a whole number (got "5s")',
    ],
  ])('reports %j as one line naming %s', (env, variable, message) => {
    const error = problem(env);
    expect(error.code).toBe('config.invalid');
    expect(error.variable).toBe(variable);
    expect(error.message).toBe(message);
    expect(error.message).not.toContain('\n');
  });

  it('reports the first bad variable in declaration order when several are wrong', () => {
    expect(problem({ PORT: 'x', LOG_LEVEL: 'loud' }).variable).toBe('PORT');
  });

  it('shortens very long bad values in the message', () => {
    const message = problem({ ...good, PORT: 'x'.repeat(500) }).message;
    expect(message.length).toBeLessThan(140);
  });
});

describe('variable parsers', () => {
  it('parses Kafka broker lists', () => {
    expect(loadConfig({ K: kafkaBrokersVar() }, { K: '127.0.0.1:9092, kafka-2:9093' }).K).toEqual([
      '127.0.0.1:9092',
      'kafka-2:9093',
    ]);
    expect(() => loadConfig({ K: kafkaBrokersVar() }, { K: 'localhost' })).toThrow(
      'K: must be a comma-separated list of host:port, e.g. 127.0.0.1:9092 (got "localhost")',
    );
  });

  it('accepts postgresql:// and rejects other schemes', () => {
    expect(
      loadConfig({ U: postgresUrlVar() }, { U: 'postgresql://u:p@db:5432/x?sslmode=require' }).U,
    ).toContain('db:5432');
    expect(() => loadConfig({ U: postgresUrlVar() }, { U: 'mysql://db/x' })).toThrow(ConfigError);
  });

  it('treats an empty value as unset for defaulted variables', () => {
    expect(
      loadConfig(
        { P: portVar(1234), L: enumVar(['a', 'b'] as const, 'b'), N: integerVar({ default: 3 }) },
        { P: '', L: '', N: '' },
      ),
    ).toEqual({
      P: 1234,
      L: 'b',
      N: 3,
    });
  });
});
