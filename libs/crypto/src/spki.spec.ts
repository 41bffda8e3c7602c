import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { codeOf } from '../test/error-code';
import keys from '../testdata/keys.json';
import { fromHex, toHex } from './bytes';
import { KeyAlgorithm } from './key-algorithm';
import { decodeSpki, encodeSpki } from './spki';

const hex = (text: string): Uint8Array => fromHex(text) as Uint8Array;

describe('SubjectPublicKeyInfo (RFC 8410 §4)', () => {
  for (const v of [...keys.vectors, ...keys.spki]) {
    it(`encodes and decodes the ${v.algorithm} key of ${v.source}`, () => {
      const algorithm = v.algorithm as KeyAlgorithm;
      expect(toHex(encodeSpki(algorithm, hex(v.publicKeyHex)))).toBe(v.spkiHex);
      const decoded = decodeSpki(hex(v.spkiHex));
      expect(decoded.algorithm).toBe(algorithm);
      expect(toHex(decoded.publicKey)).toBe(v.publicKeyHex);
    });
  }

  it.each(['ed25519', 'ed448', 'x25519', 'x448'] as const)(
    'agrees with node:crypto for fresh %s keys',
    (type) => {
      const { publicKey } = generateKeyPairSync(type as 'ed25519');
      const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
      const decoded = decodeSpki(der);
      expect(encodeSpki(decoded.algorithm, decoded.publicKey)).toEqual(der);
      expect(
        createPublicKey({
          key: Buffer.from(encodeSpki(decoded.algorithm, decoded.publicKey)),
          format: 'der',
          type: 'spki',
        }).asymmetricKeyType,
      ).toBe(type);
    },
  );

  it.each([
    [
      'the draft §4.2 DER (NULL parameters, nested OCTET STRING)',
      '302e300706032b6570050003230004' + '20' + 'ae'.repeat(32),
    ],
    ['a truncated key', keys.vectors[0]?.spkiHex.slice(0, -2) ?? ''],
    ['a trailing byte', `${keys.vectors[0]?.spkiHex ?? ''}00`],
    ['an RSA-like OID', '302a300506032b6571032100' + '11'.repeat(32)],
    ['nothing', ''],
  ])('rejects %s', (_what, der) => {
    expect(codeOf(() => decodeSpki(hex(der)))).toBe('key.malformed');
  });

  it('rejects keys of the wrong length or algorithm', () => {
    expect(codeOf(() => encodeSpki('Ed25519', new Uint8Array(31)))).toBe('key.malformed');
    expect(codeOf(() => encodeSpki('P-256' as KeyAlgorithm, new Uint8Array(32)))).toBe(
      'key.unsupported-algorithm',
    );
  });
});
