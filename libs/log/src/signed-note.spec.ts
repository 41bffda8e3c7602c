import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { parseSignerKey } from './note-signer';
import { addSignature, formatNote, openNote, parseNote, signNote } from './signed-note';
import { KEY_TYPE_ED25519, parseVerifierKey } from './verifier-key';
import { logSigner } from '../testdata/log-fixture';
import { withCode as code } from '../testdata/with-code';

// golang.org/x/mod/sumdb/note, note.go package example: the note Go's note.Sign produces.
const PETER_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
// C2SP signed-note's own example (text with an empty line; key not published).
const C2SP_NOTE =
  'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n';

describe('signed notes (C2SP signed-note)', () => {
  it.each([
    ['node:crypto', nodeEd25519],
    ['@noble/curves', nobleEd25519],
  ])('signs byte for byte as Go note.Sign does, and opens the Go note (%s)', (_impl, ed25519) => {
    expect(signNote(TEXT, parseSignerKey(PETER_SIGNER, ed25519))).toBe(GO_NOTE);
    expect(openNote(GO_NOTE, parseVerifierKey(PETER), ed25519).text).toBe(TEXT);
  });

  it('splits text and signatures at the last blank line', () => {
    const note = parseNote(C2SP_NOTE);
    expect(note.text).toBe(
      'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n',
    );
    expect(note.signatures).toHaveLength(1);
    expect(note.signatures[0]).toMatchObject({ name: 'quasimodo.example/salvatore', keyId: 0x367ba04b });
    expect(formatNote(note)).toBe(C2SP_NOTE);
  });

  it('rejects a changed text with note.bad-signature, and a note without the key with note.unknown-key', () => {
    const key = parseVerifierKey(PETER);
    expect(() => openNote(GO_NOTE.replace('cryptography', 'cryptographY'), key, nodeEd25519)).toThrow(
      code('note.bad-signature'),
    );
    expect(() => openNote(C2SP_NOTE, key, nodeEd25519)).toThrow(code('note.unknown-key'));
    const other = logSigner('PeterNeumann', nodeEd25519, 'imposter').verifierKey;
    expect(other.name).toBe(key.name);
    expect(() => openNote(GO_NOTE, other, nodeEd25519)).toThrow(code('note.unknown-key'));
  });

  it('ignores signatures from unknown keys but rejects a failing one from the known key', () => {
    const key = parseVerifierKey(PETER);
    const extra = parseNote(C2SP_NOTE).signatures[0]!;
    expect(openNote(addSignature(GO_NOTE, extra), key, nodeEd25519).text).toBe(TEXT);
    const mine = parseNote(GO_NOTE).signatures[0]!;
    const forged = { ...mine, signature: mine.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(() => openNote(addSignature(GO_NOTE, forged), key, nodeEd25519)).toThrow(
      code('note.bad-signature'),
    );
    expect(() =>
      openNote(addSignature(GO_NOTE, { ...mine, signature: mine.signature.subarray(1) }), key, nodeEd25519),
    ).toThrow(code('note.bad-signature'));
  });

  const line = GO_NOTE.slice(TEXT.length + 1);
  it.each([
    ['no blank line', `${TEXT}${line}`],
    ['a hyphen for the em dash', `${TEXT}\n${line.replace('—', '-')}`],
    ['an en dash for the em dash', `${TEXT}\n${line.replace('—', '–')}`],
    ['no space after the em dash', `${TEXT}\n${line.replace('— ', '—')}`],
    ['two spaces after the name', `${TEXT}\n${line.replace('PeterNeumann ', 'PeterNeumann  ')}`],
    ['no signature after the name', `${TEXT}\n— PeterNeumann\n`],
    ['trailing junk', `${GO_NOTE}junk`],
    ['a trailing junk line', `${GO_NOTE}junk\n`],
    ['a trailing blank line', `${GO_NOTE}\n`],
    ['no final newline', GO_NOTE.slice(0, -1)],
    ['a carriage return', GO_NOTE.replace('\n\n', '\r\n\n')],
    ['a tab', GO_NOTE.replace('you', 'y\tou')],
    ['bad base64', GO_NOTE.replace('x08go', 'x08g!')],
    ['non-canonical base64', GO_NOTE.replace('JnAM=', 'JnAN=')],
    ['a signature shorter than a key ID', `${TEXT}\n— PeterNeumann AAAA\n`],
    ['a name with a plus', `${TEXT}\n${line.replace('PeterNeumann', 'Peter+Neumann')}`],
    ['no signatures', `${TEXT}\n`],
    ['empty text', `\n${line}`],
    ['too many signatures', `${TEXT}\n${line.repeat(101)}`],
  ])('rejects a note with %s as note.malformed', (_why, note) => {
    expect(() => parseNote(note)).toThrow(code('note.malformed'));
    expect(() => openNote(note, parseVerifierKey(PETER), nodeEd25519)).toThrow(code('note.malformed'));
  });

  it('accepts up to 100 signatures', () => {
    expect(parseNote(`${TEXT}\n${line.repeat(100)}`).signatures).toHaveLength(100);
  });

  it('refuses to sign text a note cannot carry, or with a witness key', () => {
    const signer = parseSignerKey(PETER_SIGNER, nodeEd25519);
    expect(() => signNote('no newline', signer)).toThrow(code('note.malformed'));
    expect(() => signNote('bell\u0007\n', signer)).toThrow(code('note.malformed'));
    expect(signer.verifierKey.type).toBe(KEY_TYPE_ED25519);
  });
});
