import { concatBytes, readU64be, toBase64, u64be, utf8 } from './bytes';
import { ED25519_SIGNATURE_SIZE, type Ed25519 } from './ed25519';
import { isLogError, LogError } from './log-error';
import type { NoteSigner } from './note-signer';
import { addSignature, checkNoteText, parseNote, type NoteSignature } from './signed-note';
import { KEY_TYPE_COSIGNATURE_V1, type VerifierKey } from './verifier-key';

/**
 * C2SP tlog-cosignature v1 (Ed25519): a peer's witness key (signed-note type 0x04) states that,
 * as of a time, this is the largest consistent checkpoint it has seen for the origin. On a seal it
 * signs the whole body, extension lines included (DESIGN.md "Cosignature"):
 *
 *   message   = "cosignature/v1\n" ‖ "time " ‖ <decimal POSIX seconds> ‖ "\n" ‖ <note text>
 *   signature = u64 big-endian timestamp ‖ 64-byte Ed25519 signature
 *
 * and appears as one more signature line `— <witness name> base64(key ID ‖ signature)`.
 */
export const COSIGNATURE_V1_SIZE = 8 + ED25519_SIGNATURE_SIZE;

/** A valid cosignature by a trusted witness key. */
export interface Cosigner {
  readonly key: VerifierKey;
  /** POSIX seconds, as signed. */
  readonly timestamp: number;
}

/** The exact bytes a v1 cosignature signs; `timestamp` MUST be a non-negative integer (POSIX seconds). */
export function cosignedMessage(noteText: string, timestamp: number): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${noteText}`);
}

/**
 * Cosigns a note text with a witness key at `timestamp` (POSIX seconds, injected: STYLE.md §4) and
 * returns the signature for the note's signature lines. The caller MUST have verified the seal (and
 * its consistency with everything it cosigned before) first: a cosignature is a public statement.
 * Throws `key.malformed` unless the signer is a type 0x04 key.
 */
export function cosign(noteText: string, witness: NoteSigner, timestamp: number): NoteSignature {
  checkNoteText(noteText);
  const key = witness.verifierKey;
  if (key.type !== KEY_TYPE_COSIGNATURE_V1)
    throw new LogError('key.malformed', 'cosignatures use a type 0x04 witness key');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new RangeError(`invalid cosignature timestamp ${timestamp}`);
  const signature = witness.sign(cosignedMessage(noteText, timestamp));
  return { name: key.name, keyId: key.keyId, signature: concatBytes(u64be(timestamp), signature) };
}

/**
 * Appends this witness's cosignature to a signed note (a seal) and returns the new note text; the
 * existing lines MUST be kept byte for byte. Same preconditions and errors as `cosign`.
 */
export function addCosignature(note: string, witness: NoteSigner, timestamp: number): string {
  return addSignature(note, cosign(parseNote(note).text, witness, timestamp));
}

/**
 * The timestamp of a v1 cosignature line, unverified. MUST throw `cosignature.malformed` unless the
 * signature is 72 bytes with a timestamp ≤ 2^53 − 1.
 */
export function cosignatureTimestamp(line: NoteSignature): number {
  if (line.signature.length !== COSIGNATURE_V1_SIZE) {
    throw new LogError('cosignature.malformed', `a v1 cosignature is ${COSIGNATURE_V1_SIZE} bytes`, {
      expected: String(COSIGNATURE_V1_SIZE),
      seen: String(line.signature.length),
    });
  }
  const timestamp = readU64be(line.signature);
  if (timestamp === undefined)
    throw new LogError('cosignature.malformed', 'the cosignature timestamp is out of range');
  return timestamp;
}

/**
 * Verifies one cosignature line against a witness key and returns its timestamp. MUST throw
 * `cosignature.malformed` for a key that is not type 0x04, a signature line from another key, or a
 * signature that is not 72 bytes or whose timestamp exceeds 2^53 − 1; and
 * `cosignature.bad-signature` when the Ed25519 signature fails.
 */
export function verifyCosignature(
  noteText: string,
  line: NoteSignature,
  witness: VerifierKey,
  ed25519: Ed25519,
): number {
  if (witness.type !== KEY_TYPE_COSIGNATURE_V1) {
    throw new LogError('cosignature.malformed', `${witness.name} is not a witness (type 0x04) key`);
  }
  if (line.name !== witness.name || line.keyId !== witness.keyId) {
    throw new LogError('cosignature.malformed', 'the signature line is from another key', {
      expected: witness.name,
      seen: line.name,
    });
  }
  const timestamp = cosignatureTimestamp(line);
  if (!ed25519.verify(witness.publicKey, cosignedMessage(noteText, timestamp), line.signature.subarray(8))) {
    throw new LogError('cosignature.bad-signature', `the cosignature of ${witness.name} does not verify`, {
      expected: `a valid cosignature/v1 by ${witness.text}`,
      seen: toBase64(line.signature),
    });
  }
  return timestamp;
}

/** The cosigners of a note among a set of trusted witness keys. */
export interface CosignerReport {
  /** One per distinct trusted key with a valid cosignature (the latest timestamp if several). */
  readonly valid: readonly Cosigner[];
  /** Lines from trusted keys that failed, with why. Lines from unknown keys are ignored. */
  readonly invalid: readonly { readonly key: VerifierKey; readonly error: LogError }[];
}

/**
 * Finds which trusted witnesses validly cosigned `note`. Per C2SP signed-note, lines whose
 * (name, key ID) match no trusted key are ignored; a trusted key counts once however many lines it
 * has. It does not check the note's own (log key) signature: callers MUST open the seal for that.
 * MUST throw `note.malformed` for a malformed note, and never for a bad cosignature (reported).
 */
export function findCosigners(
  note: string,
  trusted: readonly VerifierKey[],
  ed25519: Ed25519,
): CosignerReport {
  const parsed = parseNote(note);
  const valid = new Map<string, Cosigner>();
  const invalid: { key: VerifierKey; error: LogError }[] = [];
  for (const key of trusted) {
    if (key.type !== KEY_TYPE_COSIGNATURE_V1 || valid.has(key.text)) continue;
    for (const line of parsed.signatures) {
      if (line.name !== key.name || line.keyId !== key.keyId) continue;
      try {
        const timestamp = verifyCosignature(parsed.text, line, key, ed25519);
        const seen = valid.get(key.text);
        if (seen === undefined || seen.timestamp < timestamp) valid.set(key.text, { key, timestamp });
      } catch (error) {
        if (!isLogError(error)) throw error;
        invalid.push({ key, error });
      }
    }
  }
  return { valid: [...valid.values()], invalid };
}

/** The number of distinct trusted witnesses that validly cosigned `note` (see `findCosigners`). */
export function countCosigners(note: string, trusted: readonly VerifierKey[], ed25519: Ed25519): number {
  return findCosigners(note, trusted, ed25519).valid.length;
}
