import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { fromBase64 } from './bytes';
import { formatSignerKey, makeNoteSigner, parseSignerKey } from './note-signer';
import {
  computeKeyId,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  makeVerifierKey,
  parseVerifierKey,
} from './verifier-key';
import { withCode as code } from '../testdata/with-code';

// Published keys: golang.org/x/mod/sumdb/note (note.go example, note_test.go) and
// github.com/transparency-dev/formats note/note_cosigv1_test.go (a 0x01 key whose base64 holds a
// '+', and a native 0x04 cosignature key).
const PETER_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const PLUS = 'TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6';
const WITNESS = 'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2';

describe('verifier keys (C2SP signed-note)', () => {
  it.each([PETER, ENOCH, PLUS])('parses the published type 0x01 key %s and recomputes its key ID', (text) => {
    const key = parseVerifierKey(text);
    expect(key.type).toBe(KEY_TYPE_ED25519);
    expect(key.text).toBe(text);
    expect(computeKeyId(key.name, key.type, key.publicKey).toString(16).padStart(8, '0')).toBe(
      text.split('+')[1],
    );
  });

  it('parses a published type 0x04 witness key', () => {
    const key = parseVerifierKey(WITNESS, KEY_TYPE_COSIGNATURE_V1);
    expect(key).toMatchObject({
      name: 'remora.n621.de',
      type: KEY_TYPE_COSIGNATURE_V1,
      keyId: 0xda77ade7,
      text: WITNESS,
    });
    expect(() => parseVerifierKey(WITNESS, KEY_TYPE_ED25519)).toThrow(code('key.malformed'));
  });

  it('gives the same key a different ID as a witness key (the type byte is hashed)', () => {
    const pub = parseVerifierKey(PETER).publicKey;
    const witness = makeVerifierKey('PeterNeumann', KEY_TYPE_COSIGNATURE_V1, pub);
    expect(witness.keyId).not.toBe(0xc74f20a3);
    expect(witness.text).toMatch(/^PeterNeumann\+[0-9a-f]{8}\+BBpc/);
  });

  it.each([
    ['no separators', 'PeterNeumann'],
    ['no key', 'PeterNeumann+c74f20a3'],
    ['empty name', '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['space in name', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['upper-case ID', 'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['short ID', 'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['wrong ID', 'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['bad base64', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!'],
    ['unsupported type 0x02', 'PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['short key', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy'],
  ])('rejects %s with key.malformed', (_why, text) => {
    expect(() => parseVerifierKey(text)).toThrow(code('key.malformed'));
  });

  it('rejects every truncation and every single-character change of a valid key (as Go note_test does)', () => {
    for (let i = 0; i <= PETER.length; i++) {
      for (let j = i + 1; j <= PETER.length; j++) {
        if (i === 0 && j === PETER.length) continue;
        expect(() => parseVerifierKey(PETER.slice(i, j))).toThrow(code('key.malformed'));
      }
    }
    for (let i = 0; i < PETER.length; i++) {
      const changed = PETER.slice(0, i) + String.fromCharCode(PETER.charCodeAt(i) + 1) + PETER.slice(i + 1);
      expect(() => parseVerifierKey(changed)).toThrow(code('key.malformed'));
    }
  });
});

describe('signer keys', () => {
  it.each([
    ['node:crypto', nodeEd25519],
    ['@noble/curves', nobleEd25519],
  ])('derive the published verifier key from the published signer key (%s)', (_impl, ed25519) => {
    const signer = parseSignerKey(PETER_SIGNER, ed25519);
    expect(signer.verifierKey.text).toBe(PETER);
    const seed = fromBase64(PETER_SIGNER.split('+').slice(4).join('+')).subarray(1);
    expect(formatSignerKey('PeterNeumann', KEY_TYPE_ED25519, seed, ed25519)).toBe(PETER_SIGNER);
  });

  it('rejects malformed signer keys without echoing them', () => {
    for (const bad of [
      'PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
      'PUBLIC+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
      'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD',
      'PRIVATE+KEY+PeterNeumann+c74f20a3',
    ]) {
      let error: unknown;
      try {
        parseSignerKey(bad, nodeEd25519);
      } catch (e) {
        error = e;
      }
      expect(error).toEqual(code('key.malformed'));
      expect(JSON.stringify(error) + String(error)).not.toContain('AYEKFALV');
    }
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => makeNoteSigner('x', KEY_TYPE_ED25519, new Uint8Array(31), nodeEd25519)).toThrow(
      code('key.malformed'),
    );
  });
});
