import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import authenticatorVectors from '../../../../libs/crypto/testdata/authenticator.json';
import digestVectors from '../../../../libs/crypto/testdata/content-digest.json';
import { runCaptured } from '../../test/run-captured';

/** Runs `mesh` in-process with captured streams. */
async function mesh(argv: string[], stdin: Uint8Array = new Uint8Array()) {
  const run = await runCaptured(argv, { stdin });
  return { ...run, err: run.err.join('\n') };
}

const ALG: Record<string, string> = { 'SHA-2-512': 'sha2', 'SHA-3-512': 'sha3' };

describe('mesh udf', () => {
  for (const v of digestVectors.vectors) {
    it(`prints ${v.udf} (${v.source})`, async () => {
      const data = Buffer.from(v.dataHex, 'hex');
      expect(
        await mesh(['udf', '--alg', ALG[v.algorithm] as string, '--content-type', v.contentType, '-'], data),
      ).toEqual({ code: 0, out: [v.udf], err: '' });
    });
  }

  const first = digestVectors.vectors[0] as (typeof digestVectors.vectors)[number] & {
    precisions: Record<string, string>;
  };
  it.each(Object.entries(first.precisions))('prints the §5.1.6 example at --bits %s', async (bits, udf) => {
    const data = Buffer.from(first.dataHex, 'hex');
    expect((await mesh(['udf', '--bits', bits, '--content-type', 'text/plain'], data)).out).toEqual([udf]);
  });

  for (const v of authenticatorVectors.vectors) {
    it(`prints the authenticator ${v.udf} with --key (${v.source})`, async () => {
      const data = Buffer.from(v.dataHex, 'hex');
      expect(await mesh(['udf', '--key', v.key, '--content-type', v.contentType], data)).toEqual({
        code: 0,
        out: [v.udf],
        err: '',
      });
    });
  }

  it('reads a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-udf-'));
    try {
      const file = join(dir, 'data.txt');
      writeFileSync(file, 'UDF Data Value');
      expect((await mesh(['udf', '--content-type', 'text/plain', file])).out).toEqual([first.udf]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['no --content-type', ['udf', '-'], /content-type/],
    ['an unknown algorithm', ['udf', '--alg', 'md5', '--content-type', 'text/plain'], /md5/],
    [
      'a precision that is not a multiple of 20',
      ['udf', '--bits', '128', '--content-type', 'text/plain'],
      /\[udf\.bad-precision\]/,
    ],
    [
      'a precision that is not a number',
      ['udf', '--bits', 'lots', '--content-type', 'text/plain'],
      /--bits must be a whole number/,
    ],
    ['an empty key', ['udf', '--key', '', '--content-type', 'text/plain'], /\[input\.invalid\]/],
    [
      'a file that does not exist',
      ['udf', '--content-type', 'text/plain', '/nonexistent/mesh-udf-test'],
      /cannot read .*ENOENT/,
    ],
  ])('exits 2 with a message for %s', async (_what, argv, message) => {
    const result = await mesh(argv);
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err).toMatch(message);
  });
});
