import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  cosign,
  formatSignerKey,
  parseVerifierKey,
} from '@cryptomesh/log';
import { ConfigError, type Env } from '@cryptomesh/service';
import { runKeygenCommand } from './keygen.command';
import { generateWitnessKey, loadWitnessKey } from './witness-key';

function configError(env: Env): ConfigError {
  try {
    loadWitnessKey(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('witness key', () => {
  const key = generateWitnessKey('alpha.example/witness');

  it('generates a type 0x04 key whose verifier key is named as asked', () => {
    expect(key.signerKey).toMatch(/^PRIVATE\+KEY\+alpha\.example\/witness\+[0-9a-f]{8}\+/);
    const verifier = parseVerifierKey(key.verifierKey);
    expect(verifier).toMatchObject({ name: 'alpha.example/witness', type: KEY_TYPE_COSIGNATURE_V1 });
    expect(generateWitnessKey('alpha.example/witness').signerKey).not.toBe(key.signerKey);
  });

  it('loads it from WITNESS_KEY or WITNESS_KEY_FILE, and can cosign with it', () => {
    const signer = loadWitnessKey({ WITNESS_KEY: key.signerKey });
    expect(signer?.verifierKey.text).toBe(key.verifierKey);
    const line = cosign(
      'example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
      signer!,
      1_700_000_000,
    );
    expect(line.keyId).toBe(signer!.verifierKey.keyId);
    const file = join(mkdtempSync(join(tmpdir(), 'witness-key-')), 'witness.key');
    writeFileSync(file, `${key.signerKey}\n`);
    expect(loadWitnessKey({ WITNESS_KEY_FILE: file })?.verifierKey.text).toBe(key.verifierKey);
  });

  it('is undefined when neither variable is set (empty counts as unset)', () => {
    expect(loadWitnessKey({})).toBeUndefined();
    expect(loadWitnessKey({ WITNESS_KEY: '', WITNESS_KEY_FILE: '  ' })).toBeUndefined();
  });

  it.each([
    [{ WITNESS_KEY: 'x', WITNESS_KEY_FILE: '/k' }, 'WITNESS_KEY', /not both/],
    [
      { WITNESS_KEY_FILE: '/nonexistent/witness.key' },
      'WITNESS_KEY_FILE',
      /cannot read "\/nonexistent\/witness.key" \(ENOENT\)/,
    ],
    [{ WITNESS_KEY: 'PRIVATE+KEY+a+00000000+AAAA' }, 'WITNESS_KEY', /is not a signer key/],
    [{ WITNESS_KEY: 'not a key' }, 'WITNESS_KEY', /is not a signer key/],
  ])('%j → one line naming %s', (env, variable, message) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('never echoes the secret, and refuses a log (type 0x01) key', () => {
    // The base64 key material may itself hold '+': everything after the key ID is the secret.
    const secretOf = (signerKey: string) => signerKey.split('+').slice(4).join('+');
    const secret = secretOf(key.signerKey);
    expect(secret.length).toBeGreaterThanOrEqual(44);
    const broken = configError({ WITNESS_KEY: `${key.signerKey}x` });
    expect(broken.variable).toBe('WITNESS_KEY');
    expect(broken.message).not.toContain(secret);
    const logKey = formatSignerKey('alpha.example/log', KEY_TYPE_ED25519, randomBytes(32), nodeEd25519);
    const refused = configError({ WITNESS_KEY: logKey });
    expect(refused.variable).toBe('WITNESS_KEY');
    expect(refused.message).toMatch(/type 0x01/);
    expect(refused.message).not.toContain(secretOf(logKey));
    const file = join(mkdtempSync(join(tmpdir(), 'witness-key-')), 'log.key');
    writeFileSync(file, `${logKey}\n`);
    expect(configError({ WITNESS_KEY_FILE: file }).variable).toBe('WITNESS_KEY_FILE');
  });
});

describe('replication keygen command', () => {
  function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = runKeygenCommand(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
    return { code, out, err };
  }

  it('prints a witness signer key and its verifier key', () => {
    const { code, out } = run(['--name', 'alpha.example/witness']);
    expect(code).toBe(0);
    expect(out).toHaveLength(2);
    const verifier = parseVerifierKey(out[1]!);
    expect(verifier).toMatchObject({ name: 'alpha.example/witness', type: KEY_TYPE_COSIGNATURE_V1 });
    expect(loadWitnessKey({ WITNESS_KEY: out[0]! })?.verifierKey.text).toBe(verifier.text);
  });

  it('writes the secret to --out with mode 0600 and never overwrites it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keygen-')), 'witness.key');
    const first = run(['--name', 'alpha.example/witness', '--out', file]);
    expect(first.code).toBe(0);
    expect(first.out).toHaveLength(1);
    expect(first.out[0]).not.toContain('PRIVATE');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadWitnessKey({ WITNESS_KEY_FILE: file })?.verifierKey.text).toBe(first.out[0]);
    const secret = readFileSync(file, 'utf8');
    const second = run(['--name', 'alpha.example/witness', '--out', file]);
    expect(second.code).toBe(2);
    expect(second.err[0]).toMatch(/EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe(secret);
  });

  it('exits 2 for bad usage', () => {
    expect(run([]).code).toBe(2);
    expect(run(['--name']).code).toBe(2);
    expect(run(['--name', 'has space']).code).toBe(2);
    expect(run(['--origin', 'alpha.example/witness']).code).toBe(2);
    expect(run(['--bogus']).code).toBe(2);
  });
});
