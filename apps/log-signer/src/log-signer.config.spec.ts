import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_COSIGNATURE_V1, formatSignerKey, parseVerifierKey } from '@cryptomesh/log';
import { ConfigError } from '@cryptomesh/service';
import { runKeygenCommand } from './keygen.command';
import { generateLogKey } from './log-key';
import { loadLogSignerConfig } from './log-signer.config';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/portal';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadLogSignerConfig({ DATABASE_URL, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('log-signer configuration', () => {
  const key = generateLogKey('portal.example/log');

  it('loads the key from LOG_KEY or LOG_KEY_FILE, with the defaults of docs/configuration.md', () => {
    const config = loadLogSignerConfig({
      DATABASE_URL,
      LOG_KEY: key.signerKey,
      LOG_ORIGIN: 'portal.example/log',
      LOG_VERIFIER_KEY: key.verifierKey,
    });
    expect(config.logKey.verifierKey.text).toBe(key.verifierKey);
    expect(config).toMatchObject({
      LOG_ORIGIN: 'portal.example/log',
      SEAL_INTERVAL_MS: 1_000,
      HEARTBEAT_MS: 60_000,
      PART_MAX_ENTRIES: 10_000,
    });
    const file = join(mkdtempSync(join(tmpdir(), 'log-key-')), 'log.key');
    writeFileSync(file, `${key.signerKey}\n`);
    expect(loadLogSignerConfig({ DATABASE_URL, LOG_KEY_FILE: file }).logKey.verifierKey.text).toBe(
      key.verifierKey,
    );
  });

  it.each([
    [{}, 'LOG_KEY_FILE', /is required \(or LOG_KEY\)/],
    [{ LOG_KEY: 'x', LOG_KEY_FILE: '/k' }, 'LOG_KEY', /not both/],
    [
      { LOG_KEY_FILE: '/nonexistent/log.key' },
      'LOG_KEY_FILE',
      /cannot read "\/nonexistent\/log.key" \(ENOENT\)/,
    ],
    [{ LOG_KEY: 'PRIVATE+KEY+a+00000000+AAAA' }, 'LOG_KEY', /is not a signer key/],
    [{ LOG_ORIGIN: 'other.example/log' }, 'LOG_ORIGIN', /does not match the log key's name/],
    [
      { LOG_VERIFIER_KEY: generateLogKey('portal.example/log').verifierKey },
      'LOG_VERIFIER_KEY',
      /is not the verifier key of the log key/,
    ],
    [{ SEAL_INTERVAL_MS: '0' }, 'SEAL_INTERVAL_MS', /must be between 10 and/],
    [{ PART_MAX_ENTRIES: 'many' }, 'PART_MAX_ENTRIES', /must be a whole number/],
  ])('%j → one line naming %s', (env, variable, message) => {
    const full: Record<string, string> = { ...env };
    if (!variable.startsWith('LOG_KEY')) full.LOG_KEY = key.signerKey;
    const error = configError(full);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('never echoes the secret, and refuses a witness key', () => {
    const broken = `${key.signerKey}x`;
    expect(configError({ LOG_KEY: broken }).message).not.toContain(
      key.signerKey.split('+').slice(4).join('+'),
    );
    const witness = formatSignerKey('w.example', KEY_TYPE_COSIGNATURE_V1, randomBytes(32), nodeEd25519);
    expect(configError({ LOG_KEY: witness })).toMatchObject({ variable: 'LOG_KEY' });
  });
});

describe('keygen command', () => {
  function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = runKeygenCommand(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  }

  it('prints a signer key and its verifier key', () => {
    const { code, out } = run(['--origin', 'portal.example/log']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^PRIVATE\+KEY\+portal\.example\/log\+[0-9a-f]{8}\+/);
    const verifier = parseVerifierKey(out[1]!);
    expect(verifier.name).toBe('portal.example/log');
    expect(loadLogSignerConfig({ DATABASE_URL, LOG_KEY: out[0]! }).logKey.verifierKey.text).toBe(
      verifier.text,
    );
  });

  it('writes the secret to --out with mode 0600 and never overwrites it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keygen-')), 'log.key');
    const first = run(['--origin', 'portal.example/log', '--out', file]);
    expect(first.code).toBe(0);
    expect(first.out).toHaveLength(1);
    expect(first.out[0]).not.toContain('PRIVATE');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secret = readFileSync(file, 'utf8');
    expect(run(['--origin', 'portal.example/log', '--out', file]).code).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(secret);
  });

  it('exits 2 for bad usage', () => {
    expect(run([]).code).toBe(2);
    expect(run(['--origin', 'has space']).code).toBe(2);
    expect(run(['--bogus']).code).toBe(2);
  });

  const key = generateLogKey('portal.example/log');

  it('takes the next log key of a rotation from LOG_KEY_NEXT(_FILE), and refuses one that cannot succeed the log key', () => {
    const next = generateLogKey('portal.example/log');
    const file = join(mkdtempSync(join(tmpdir(), 'log-key-')), 'log-next.key');
    writeFileSync(file, `${next.signerKey}\n`);
    const config = loadLogSignerConfig({ DATABASE_URL, LOG_KEY: key.signerKey, LOG_KEY_NEXT_FILE: file });
    expect(config.nextLogKey?.verifierKey.text).toBe(next.verifierKey);
    // LOG_VERIFIER_KEY may already name the next key (the last step of the procedure).
    expect(
      loadLogSignerConfig({
        DATABASE_URL,
        LOG_KEY: key.signerKey,
        LOG_KEY_NEXT: next.signerKey,
        LOG_VERIFIER_KEY: next.verifierKey,
      }).nextLogKey?.verifierKey.text,
    ).toBe(next.verifierKey);
    expect(loadLogSignerConfig({ DATABASE_URL, LOG_KEY: key.signerKey }).nextLogKey).toBeUndefined();
    const witness = formatSignerKey(
      'portal.example/log',
      KEY_TYPE_COSIGNATURE_V1,
      randomBytes(32),
      nodeEd25519,
    );
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [
        { LOG_KEY_NEXT: generateLogKey('other.example/log').signerKey },
        'LOG_KEY_NEXT',
        /keeps the log's origin/,
      ],
      [{ LOG_KEY_NEXT: key.signerKey }, 'LOG_KEY_NEXT', /is the current log key/],
      [{ LOG_KEY_NEXT: witness }, 'LOG_KEY_NEXT', /witness \(type 0x04\) key/],
      [{ LOG_KEY_NEXT_FILE: '/nonexistent/next.key' }, 'LOG_KEY_NEXT_FILE', /cannot read/],
    ];
    for (const [env, variable, message] of cases) {
      const error = configError({ LOG_KEY: key.signerKey, ...env });
      expect(error.variable).toBe(variable);
      expect(error.message).toMatch(message);
    }
  });
});
