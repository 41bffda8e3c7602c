import { asyncCodeOf, codeOf } from '../test/error-code';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from './bytes';
import { keyUdf } from './key-fingerprint';
import { generateKeyPair } from './key-pair';
import { decryptJwe, encryptJwe, jweRecipientIds } from './jwe';

const plaintext = utf8('{"EscrowedKey":"top secret"}');
const alice = generateKeyPair('X25519', (n) => new Uint8Array(n).fill(21));
const bob = generateKeyPair('X25519', (n) => new Uint8Array(n).fill(22));
const carol = generateKeyPair('X448', (n) => new Uint8Array(n).fill(23));
const mallory = generateKeyPair('X25519', (n) => new Uint8Array(n).fill(24));

describe('private data JWE (general, ECDH-ES+A256KW / A256GCM)', () => {
  it('encrypts to one recipient', async () => {
    const jwe = await encryptJwe(plaintext, [alice], { contentType: 'application/json' });
    expect(JSON.parse(fromUtf8(fromBase64Url(jwe.protected ?? '') as Uint8Array))).toEqual({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      cty: 'application/json',
      epk: { kty: 'OKP', crv: 'X25519', x: expect.any(String) as unknown },
    });
    expect(jweRecipientIds(jwe)).toEqual([keyUdf('X25519', alice.publicKey)]);
    expect(await decryptJwe(jwe, alice)).toEqual(plaintext);
    const epk = (JSON.parse(fromUtf8(fromBase64Url(jwe.protected ?? '') as Uint8Array)) as { epk: unknown })
      .epk;
    const twice = { ...jwe, recipients: jwe.recipients.map((r) => ({ ...r, header: { ...r.header, epk } })) };
    expect(await asyncCodeOf(() => decryptJwe(twice, alice))).toBe('jwe.malformed');
  });

  it('encrypts to many recipients, each of whom can decrypt, and no one else', async () => {
    const jwe = await encryptJwe(plaintext, [alice, bob, carol]);
    expect(jweRecipientIds(JSON.parse(JSON.stringify(jwe)))).toHaveLength(3);
    for (const recipient of [alice, bob, carol]) expect(await decryptJwe(jwe, recipient)).toEqual(plaintext);
    expect(await decryptJwe(jwe, { algorithm: 'X25519', privateKey: bob.privateKey })).toEqual(plaintext);
    expect(await asyncCodeOf(() => decryptJwe(jwe, mallory))).toBe('jwe.no-recipient');
  });

  it('draws fresh randomness each time', async () => {
    const a = await encryptJwe(plaintext, [alice]);
    const b = await encryptJwe(plaintext, [alice]);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.iv).not.toBe(b.iv);
  });

  describe('reports the rule that failed', () => {
    const tamper = async (change: (jwe: Record<string, unknown>) => void): Promise<unknown> => {
      const jwe = JSON.parse(JSON.stringify(await encryptJwe(plaintext, [alice, bob]))) as Record<
        string,
        unknown
      >;
      change(jwe);
      return jwe;
    };
    const flip = (text: unknown): string => {
      const bytes = fromBase64Url(text as string) as Uint8Array;
      bytes[0] = (bytes[0] as number) ^ 1;
      return toBase64Url(bytes);
    };
    const recipients = (jwe: Record<string, unknown>) =>
      jwe.recipients as Record<string, Record<string, unknown>>[];

    it.each<[string, (jwe: Record<string, unknown>) => void, string]>([
      ['a compact-looking string', (jwe) => Object.keys(jwe).forEach((k) => delete jwe[k]), 'jwe.malformed'],
      ['an extra member', (jwe) => (jwe.aad = 'AA'), 'jwe.malformed'],
      ['a shared unprotected header', (jwe) => (jwe.unprotected = {}), 'jwe.malformed'],
      ['no recipients', (jwe) => (jwe.recipients = []), 'jwe.malformed'],
      ['a recipient without kid', (jwe) => delete recipients(jwe)[0]?.header?.kid, 'jwe.malformed'],
      [
        'a recipient header with alg',
        (jwe) => ((recipients(jwe)[0]?.header as Record<string, unknown>).alg = 'dir'),
        'jwe.malformed',
      ],
      ['a recipient without epk', (jwe) => delete recipients(jwe)[1]?.header?.epk, 'jwe.malformed'],
      [
        'an epk shared in the protected header',
        (jwe) =>
          (jwe.protected = toBase64Url(
            utf8(
              JSON.stringify({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', epk: recipients(jwe)[0]?.header?.epk }),
            ),
          )),
        'jwe.malformed',
      ],
      ['an iv that is not base64url', (jwe) => (jwe.iv = '***'), 'jwe.malformed'],
      [
        'a protected header with zip',
        (jwe) => (jwe.protected = toBase64Url(utf8('{"alg":"ECDH-ES+A256KW","enc":"A256GCM","zip":"DEF"}'))),
        'jwe.malformed',
      ],
      [
        'enc A128GCM',
        (jwe) => (jwe.protected = toBase64Url(utf8('{"alg":"ECDH-ES+A256KW","enc":"A128GCM"}'))),
        'jwe.alg-not-allowed',
      ],
      [
        'alg ECDH-ES',
        (jwe) => (jwe.protected = toBase64Url(utf8('{"alg":"ECDH-ES","enc":"A256GCM"}'))),
        'jwe.alg-not-allowed',
      ],
      ['a changed ciphertext', (jwe) => (jwe.ciphertext = flip(jwe.ciphertext)), 'jwe.decrypt-failed'],
      ['a changed tag', (jwe) => (jwe.tag = flip(jwe.tag)), 'jwe.decrypt-failed'],
      [
        'a changed wrapped key',
        (jwe) =>
          ((recipients(jwe)[0] as Record<string, unknown>).encrypted_key = flip(
            recipients(jwe)[0]?.encrypted_key,
          )),
        'jwe.decrypt-failed',
      ],
      [
        'the recipients swapped under their kids',
        (jwe) => {
          const [a, b] = recipients(jwe);
          const kid = a?.header?.kid;
          (a?.header as Record<string, unknown>).kid = b?.header?.kid;
          (b?.header as Record<string, unknown>).kid = kid;
        },
        'jwe.decrypt-failed',
      ],
    ])('%s', async (_what, change, code) => {
      const jwe = await tamper(change);
      expect(await asyncCodeOf(() => decryptJwe(jwe, alice))).toBe(code);
    });

    it('refuses bad recipient lists and keys', async () => {
      expect(await asyncCodeOf(() => encryptJwe(plaintext, []))).toBe('jwe.bad-recipients');
      expect(await asyncCodeOf(() => encryptJwe(plaintext, [alice, bob, alice]))).toBe('jwe.bad-recipients');
      expect(await asyncCodeOf(() => encryptJwe(plaintext, [generateKeyPair('Ed25519')] as never))).toBe(
        'key.unsupported-algorithm',
      );
      expect(
        await asyncCodeOf(() =>
          encryptJwe(plaintext, [{ algorithm: 'X25519', publicKey: new Uint8Array(31) }]),
        ),
      ).toBe('key.malformed');
      expect(
        await asyncCodeOf(() => decryptJwe({}, { algorithm: 'X448', privateKey: alice.privateKey })),
      ).toBe('key.malformed');
      expect(codeOf(() => jweRecipientIds('nope'))).toBe('jwe.malformed');
    });
  });
});
