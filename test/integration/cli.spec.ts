import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from '../../package.json';

/**
 * The `mesh` program as a user runs it: `package.json` `bin.mesh`, built by `npm run build`
 * (the test runner builds before jest), started with `node <that path>`.
 */
const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, pkg.bin.mesh);

function mesh(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the built mesh CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fingerprints standard input (UDF draft §5.1.6 example, SHA-2-512)', () => {
    const result = mesh(['udf', '--content-type', 'text/plain', '-'], 'UDF Data Value');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim()).toBe('MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF');
  });

  it('generates a key whose fingerprint it can compute', () => {
    const generated = mesh(['key', 'generate', '--alg', 'ed25519']);
    expect(generated.code).toBe(0);
    const file = join(dir, 'key.jwk');
    writeFileSync(file, generated.stdout);
    const udf = mesh(['key', 'udf', file]);
    expect(udf.code).toBe(0);
    expect(udf.stdout.trim()).toMatch(/^M[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$/);
  });

  it('exits 2 with a message on bad usage', () => {
    const result = mesh(['udf', '--bits', '13', '--content-type', 'text/plain', '-'], 'x');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^mesh: /);
  });
});
