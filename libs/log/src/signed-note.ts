import { concatBytes, fromBase64, fromUtf8, readU32be, toBase64, u32be, utf8 } from './bytes';
import { ED25519_SIGNATURE_SIZE, type Ed25519 } from './ed25519';
import { LogError } from './log-error';
import type { NoteSigner } from './note-signer';
import { checkKeyName, KEY_TYPE_ED25519, type VerifierKey } from './verifier-key';

/**
 * C2SP signed-note: a text ending in a newline, a blank line, then one or more signature lines
 * `— <key name> <base64(4-byte key ID ‖ signature)>` (U+2014 em dash, U+0020 space). The text the
 * signatures cover includes its final newline but not the blank line; the text ends at the LAST
 * blank line of the note.
 */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes after the key ID (for type 0x04: 8-byte timestamp ‖ 64-byte signature). */
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, ending in "\n". */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** C2SP signed-note asks verifiers to accept at least 16 signatures and to bound them. */
export const MAX_NOTE_SIGNATURES = 100;
/** Bound on a whole note, in UTF-16 code units (a seal is about 300). */
export const MAX_NOTE_LENGTH = 1 << 20;

const EM_DASH_PREFIX = '\u2014 ';
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function malformed(message: string, seen?: string): LogError {
  return new LogError('note.malformed', message, seen === undefined ? {} : { seen });
}

/**
 * Checks that `text` can be the text of a signed note: non-empty, ending in a newline, no control
 * characters other than newline, well-formed Unicode. MUST throw `note.malformed` otherwise.
 */
export function checkNoteText(text: string): void {
  if (text.length === 0 || !text.endsWith('\n')) throw malformed('the note text must end with a newline');
  if (FORBIDDEN_CONTROL.test(text)) throw malformed('the note holds a control character other than newline');
  if (LONE_SURROGATE.test(text)) throw malformed('the note is not well-formed Unicode');
}

/** Decodes a note received as bytes: strict UTF-8 (C2SP signed-note); MUST throw `note.malformed` otherwise. */
export function decodeNote(bytes: Uint8Array): string {
  return fromUtf8(bytes, 'note', 'note.malformed');
}

/**
 * Parses a signed note without verifying anything. MUST throw `note.malformed`, saying why, for: a
 * note over MAX_NOTE_LENGTH, control characters, no blank line before the signatures, a signature
 * line not starting with an em dash and a space, a bad key name, bad base64, a signature shorter
 * than 5 bytes, anything after the last signature line's newline, no signatures, or more than
 * MAX_NOTE_SIGNATURES.
 */
export function parseNote(note: string): SignedNote {
  if (note.length > MAX_NOTE_LENGTH) throw malformed(`the note is longer than ${MAX_NOTE_LENGTH} characters`);
  checkNoteText(note);
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line separates the text from the signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (text.length === 0) throw malformed('the note text is empty');
  if (lines.length === 1 && lines[0] === '') throw malformed('the note has no signature lines');
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw malformed(`the note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(EM_DASH_PREFIX)) {
    throw malformed('a signature line must start with an em dash (U+2014) and a space', line.slice(0, 40));
  }
  const rest = line.slice(EM_DASH_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw malformed('a signature line is "— <key name> <base64 signature>"', line);
  const name = rest.slice(0, space);
  checkKeyName(name, 'note.malformed');
  const bytes = fromBase64(rest.slice(space + 1), `signature of ${name}`, 'note.malformed');
  if (bytes.length < 5) throw malformed(`the signature of ${name} is shorter than a key ID and one byte`);
  return { name, keyId: readU32be(bytes), signature: bytes.slice(4) };
}

/** One signature line, without its newline. MUST NOT fail for a parsed signature. */
export function formatSignatureLine(signature: NoteSignature): string {
  return `${EM_DASH_PREFIX}${signature.name} ${toBase64(concatBytes(u32be(signature.keyId), signature.signature))}`;
}

/** Serialises a note: text, blank line, one line per signature. MUST throw `note.malformed` for a text a note cannot carry or no signatures. */
export function formatNote(note: SignedNote): string {
  checkNoteText(note.text);
  if (note.signatures.length === 0) throw malformed('a signed note needs at least one signature');
  return `${note.text}\n${note.signatures.map((s) => `${formatSignatureLine(s)}\n`).join('')}`;
}

/**
 * Signs `text` with an Ed25519 (type 0x01) key and returns the whole note. MUST throw
 * `note.malformed` for text a note cannot carry and `key.malformed` for a signer of another type.
 */
export function signNote(text: string, signer: NoteSigner): string {
  checkNoteText(text);
  const key = signer.verifierKey;
  if (key.type !== KEY_TYPE_ED25519)
    throw new LogError('key.malformed', 'notes are signed with a type 0x01 key');
  return formatNote({
    text,
    signatures: [{ name: key.name, keyId: key.keyId, signature: signer.sign(utf8(text)) }],
  });
}

/** Adds a signature line to an already signed note; the existing lines MUST be kept as they are. */
export function addSignature(note: string, signature: NoteSignature): string {
  const parsed = parseNote(note);
  return formatNote({ text: parsed.text, signatures: [...parsed.signatures, signature] });
}

/**
 * Opens a note with a trusted Ed25519 (type 0x01) verifier key, per C2SP signed-note
 * "Signatures": lines from other keys (other name or other key ID) are ignored; every line from
 * this key MUST verify, or the whole note is rejected with `note.bad-signature`; if no line is from
 * this key the note is rejected with `note.unknown-key`. Returns the parsed note, whose text is
 * then trustworthy. Malformed notes throw `note.malformed`.
 */
export function openNote(note: string, key: VerifierKey, ed25519: Ed25519): SignedNote {
  if (key.type !== KEY_TYPE_ED25519)
    throw new LogError('key.malformed', 'notes are opened with a type 0x01 key');
  const parsed = parseNote(note);
  const mine = parsed.signatures.filter((s) => s.name === key.name && s.keyId === key.keyId);
  if (mine.length === 0) {
    throw new LogError('note.unknown-key', `the note is not signed by ${key.name}`, {
      expected: `${key.name}+${key.keyId.toString(16).padStart(8, '0')}`,
      seen: parsed.signatures.map((s) => `${s.name}+${s.keyId.toString(16).padStart(8, '0')}`).join(', '),
    });
  }
  const message = utf8(parsed.text);
  for (const s of mine) {
    if (
      s.signature.length !== ED25519_SIGNATURE_SIZE ||
      !ed25519.verify(key.publicKey, message, s.signature)
    ) {
      throw new LogError('note.bad-signature', `the signature of ${key.name} does not verify`, {
        expected: `a valid Ed25519 signature by ${key.text}`,
        seen: toBase64(s.signature),
      });
    }
  }
  return parsed;
}
