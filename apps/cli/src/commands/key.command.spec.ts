import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyUdf, readJwk, toBase64Url } from '@cryptomesh/crypto';
import keys from '../../../../libs/crypto/testdata/keys.json';
import { runCaptured } from '../../test/run-captured';

/** Runs `mesh` in-process with captured streams. */
async function mesh(argv: string[], stdin: Uint8Array = new Uint8Array()) {
  const run = await runCaptured(argv, { stdin });
  return { ...run, err: run.err.join('\n') };
}

const jwkOf = (v: (typeof keys.vectors)[number], withPrivate: boolean): string =>
  JSON.stringify({
    kty: 'OKP',
    crv: v.algorithm,
    x: toBase64Url(Buffer.from(v.publicKeyHex, 'hex')),
    ...(withPrivate ? { d: toBase64Url(Buffer.from(v.privateKeyHex, 'hex')) } : {}),
  });

describe('mesh key', () => {
  it.each(['ed25519', 'ed448', 'x25519', 'x448'])(
    'generate --alg %s prints a private JWK whose kid is its UDF',
    async (alg) => {
      const result = await mesh(['key', 'generate', '--alg', alg]);
      expect(result.code).toBe(0);
      expect(result.out).toHaveLength(1);
      const jwk = JSON.parse(result.out[0] as string) as { kid: string; d: string };
      const key = readJwk(jwk);
      expect(key.algorithm.toLowerCase()).toBe(alg);
      expect(key.privateKey).toBeDefined();
      expect(jwk.kid).toBe(keyUdf(key.algorithm, key.publicKey));
      expect((await mesh(['key', 'udf', '-'], Buffer.from(result.out[0] as string))).out).toEqual([jwk.kid]);
    },
  );

  for (const v of keys.vectors) {
    it(`udf prints ${v.keyUdf} for the ${v.algorithm} key of ${v.source.split(';')[0]}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mesh-key-'));
      try {
        const file = join(dir, 'key.jwk');
        writeFileSync(file, jwkOf(v, false));
        expect(await mesh(['key', 'udf', file])).toEqual({ code: 0, out: [v.keyUdf], err: '' });
        expect((await mesh(['key', 'udf', '--bits', '520', '-'], Buffer.from(jwkOf(v, true)))).out).toEqual([
          v.keyUdf520,
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  const v = keys.vectors[0] as (typeof keys.vectors)[number];
  it.each<[string, string[], string, RegExp]>([
    ['no --alg', ['key', 'generate'], '', /--alg/],
    ['an unsupported algorithm', ['key', 'generate', '--alg', 'rsa'], '', /rsa/],
    ['no file', ['key', 'udf'], '', /jwk-file/],
    ['input that is not JSON', ['key', 'udf', '-'], 'not json', /does not hold JSON/],
    ['a JWK of another key type', ['key', 'udf', '-'], '{"kty":"EC","crv":"P-256"}', /\[key\.malformed\]/],
    [
      'a JWK of an unknown curve',
      ['key', 'udf', '-'],
      '{"kty":"OKP","crv":"Ed9","x":"AA"}',
      /\[key\.unsupported-algorithm\]/,
    ],
    [
      'a JWK whose x is not the public key of d',
      ['key', 'udf', '-'],
      jwkOf({ ...v, publicKeyHex: (keys.vectors[2] as typeof v).publicKeyHex }, true),
      /\[key\.malformed\]/,
    ],
    ['a bad precision', ['key', 'udf', '--bits', '150', '-'], jwkOf(v, false), /\[udf\.bad-precision\]/],
  ])('exits 2 with a message for %s', async (_what, argv, stdin, message) => {
    const result = await mesh(argv, Buffer.from(stdin));
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err).toMatch(message);
  });
});
