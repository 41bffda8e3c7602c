import { ConfigError } from '@cryptomesh/service';
import { loadQueryConfig } from './query.config';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/x';

function refusal(env: NodeJS.ProcessEnv): Error {
  try {
    loadQueryConfig({ DATABASE_URL, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as Error;
  }
  throw new Error('accepted');
}

describe('query configuration (issue #17)', () => {
  it('CHECKPOINT_MAX_AGE_MS: 25 by default, 0 to 10,000', () => {
    expect(loadQueryConfig({ DATABASE_URL }).CHECKPOINT_MAX_AGE_MS).toBe(25);
    expect(loadQueryConfig({ DATABASE_URL, CHECKPOINT_MAX_AGE_MS: '0' }).CHECKPOINT_MAX_AGE_MS).toBe(0);
    for (const bad of ['-1', '10001', '1.5', 'soon'])
      expect(refusal({ CHECKPOINT_MAX_AGE_MS: bad }).message).toContain('CHECKPOINT_MAX_AGE_MS');
  });

  it('DB_PREPARED_STATEMENTS: on by default, true or false', () => {
    expect(loadQueryConfig({ DATABASE_URL }).DB_PREPARED_STATEMENTS).toBe(true);
    expect(loadQueryConfig({ DATABASE_URL, DB_PREPARED_STATEMENTS: 'false' }).DB_PREPARED_STATEMENTS).toBe(
      false,
    );
    expect(refusal({ DB_PREPARED_STATEMENTS: 'no' }).message).toContain('DB_PREPARED_STATEMENTS');
  });
});
