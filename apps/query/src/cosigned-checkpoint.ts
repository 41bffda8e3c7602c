import {
  MAX_NOTE_SIGNATURES,
  isLogError,
  parseNote,
  parseVerifierKey,
  type VerifierKey,
} from '@cryptomesh/log';
import type { StoredCosignature } from './federation-reader';

/**
 * The checkpoint of a seal (DESIGN.md "HTTP"; federation.md "Query"): the note exactly as its log
 * key signed it, then every stored cosignature over THIS seal — a row whose `seal` is the note's
 * body (`parseNote(note).text`) or the note itself — in the order given (by witness id), each line
 * exactly as stored plus "\n". A client opens it with the log key and counts the cosigners with
 * `findCosigners` of `@cryptomesh/log`.
 *
 * Guarantees: the result MUST parse with `parseNote` and keep `note` as its prefix byte for byte; a
 * stored line that would break that (not a signature line, a newline inside it), repeats a line
 * already there, or would pass MAX_NOTE_SIGNATURES is left out. With no stored row it MUST return
 * `note` unchanged; otherwise it MUST throw LogError `note.malformed` when `note` is not a signed note.
 */
export function cosignedCheckpoint(note: string, stored: readonly StoredCosignature[]): string {
  if (stored.length === 0) return note;
  const parsed = parseNote(note);
  const lines = new Set(note.slice(parsed.text.length + 1).split('\n'));
  let count = parsed.signatures.length;
  let checkpoint = note;
  for (const row of stored) {
    if (count >= MAX_NOTE_SIGNATURES) break;
    if ((row.seal !== parsed.text && row.seal !== note) || lines.has(row.line)) continue;
    if (!isSignatureLine(row.line)) continue;
    checkpoint += `${row.line}\n`;
    lines.add(row.line);
    count++;
  }
  return checkpoint;
}

function isSignatureLine(line: string): boolean {
  if (line.includes('\n')) return false;
  try {
    return parseNote(`x\n\n${line}\n`).signatures.length === 1;
  } catch (error) {
    if (isLogError(error)) return false;
    throw error;
  }
}

/**
 * The witness keys whose cosignatures count for `subject`'s seals: every federation member's
 * (this portal's and each peer's, by id) except the subject's own — a portal does not witness
 * itself. Keys that do not parse are left out (they cannot verify anything).
 */
export function witnessKeysFor(
  subject: string | undefined,
  members: ReadonlyArray<{ readonly id: string; readonly witnessKey: string | null }>,
): VerifierKey[] {
  const keys: VerifierKey[] = [];
  for (const member of members) {
    if (member.id === subject || member.witnessKey === null) continue;
    try {
      keys.push(parseVerifierKey(member.witnessKey));
    } catch (error) {
      if (!isLogError(error)) throw error;
    }
  }
  return keys;
}
