import { fromBase64, parseDecimal, toBase64 } from './bytes';
import { formatCheckpoint, parseCheckpoint } from './checkpoint';
import type { Ed25519 } from './ed25519';
import { LogError } from './log-error';
import type { NoteSigner } from './note-signer';
import { openNote, signNote, type SignedNote } from './signed-note';
import { HASH_SIZE, type Hash } from './tree-hasher';
import type { VerifierKey } from './verifier-key';

/**
 * A seal (DESIGN.md "The log"): the signed checkpoint that closes part n. Its body is a C2SP
 * tlog-checkpoint with exactly three extension lines, in this order:
 *
 *   <origin>
 *   <tree size>
 *   <base64 root of the whole log>
 *   part <n> <first_n> <base64 partDigest_n>
 *   chain <base64 chain_n>
 *   time <unix milliseconds>
 *
 * Part n covers entries [first_n, size_n); partDigest_n = MTH of those entries alone;
 * chain_n = SHA-256(chain_{n-1} ‖ partDigest_n) (`chain.ts`).
 */
export interface Seal {
  readonly origin: string;
  /** size_n: entries in the whole log once part n is added. */
  readonly size: number;
  /** MTH of the whole log at `size`. */
  readonly root: Hash;
  readonly part: { readonly index: number; readonly first: number; readonly digest: Hash };
  readonly chain: Hash;
  /** Sealing time, unix milliseconds. */
  readonly timeMs: number;
}

/** The extension keywords a seal carries, in their required order. */
export const SEAL_EXTENSIONS = ['part', 'chain', 'time'] as const;

function malformed(message: string, details: { expected?: string; seen?: string } = {}): LogError {
  return new LogError('seal.malformed', message, details);
}

function decimalField(text: string | undefined, what: string): number {
  const n = text === undefined ? undefined : parseDecimal(text);
  if (n === undefined)
    throw malformed(`${what} must be a decimal with no sign or leading zeros`, { seen: text ?? '' });
  return n;
}

function hashField(text: string | undefined, what: string): Hash {
  const bytes = fromBase64(text ?? '', what, 'seal.malformed');
  if (bytes.length !== HASH_SIZE)
    throw malformed(`${what} must be ${HASH_SIZE} bytes`, { seen: String(bytes.length) });
  return bytes;
}

/**
 * Parses a seal body (an opened note's text). MUST throw: `checkpoint.malformed` /
 * `checkpoint.origin` for a bad checkpoint (see `parseCheckpoint`); `seal.bad-extension` for an
 * extension line whose keyword is not part/chain/time or is out of order or repeated;
 * `seal.malformed` for a missing extension line, a wrong field count (fields are separated by
 * exactly one space), a number with leading zeros, a hash that is not 32 bytes, or first > size.
 */
export function parseSealBody(text: string, expectedOrigin?: string): Seal {
  const checkpoint = parseCheckpoint(text, expectedOrigin);
  const { extensions } = checkpoint;
  extensions.forEach((line, i) => {
    const keyword = line.split(' ')[0] ?? '';
    if (keyword !== SEAL_EXTENSIONS[i]) {
      const known = (SEAL_EXTENSIONS as readonly string[]).includes(keyword);
      throw new LogError(
        'seal.bad-extension',
        known ? `extension "${keyword}" is out of order` : `unknown extension "${keyword}"`,
        {
          expected: SEAL_EXTENSIONS[i] ?? 'no further extension line',
          seen: keyword,
        },
      );
    }
  });
  if (extensions.length !== SEAL_EXTENSIONS.length) {
    throw malformed('a seal has exactly the extension lines part, chain and time', {
      expected: SEAL_EXTENSIONS.join(', '),
      seen: extensions.map((l) => l.split(' ')[0]).join(', ') || 'none',
    });
  }
  const part = extensions[0]!.split(' ');
  const chain = extensions[1]!.split(' ');
  const time = extensions[2]!.split(' ');
  if (part.length !== 4)
    throw malformed('the part line is "part <n> <first> <base64 digest>"', { seen: extensions[0] });
  if (chain.length !== 2)
    throw malformed('the chain line is "chain <base64 chain>"', { seen: extensions[1] });
  if (time.length !== 2)
    throw malformed('the time line is "time <unix milliseconds>"', { seen: extensions[2] });
  const seal: Seal = {
    origin: checkpoint.origin,
    size: checkpoint.size,
    root: checkpoint.root,
    part: {
      index: decimalField(part[1], 'part index'),
      first: decimalField(part[2], 'part first entry'),
      digest: hashField(part[3], 'part digest'),
    },
    chain: hashField(chain[1], 'chain'),
    timeMs: decimalField(time[1], 'time'),
  };
  if (seal.part.first > seal.size) {
    throw malformed('a part cannot start after the end of the log', {
      expected: `≤ ${seal.size}`,
      seen: String(seal.part.first),
    });
  }
  return seal;
}

/** Serialises a seal body. MUST throw `seal.malformed` / `checkpoint.malformed` for values it could not parse back. */
export function formatSealBody(seal: Seal): string {
  const { part } = seal;
  for (const [what, n] of [
    ['part index', part.index],
    ['part first entry', part.first],
    ['time', seal.timeMs],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0) throw malformed(`invalid ${what} ${n}`);
  }
  if (part.first > seal.size) throw malformed('a part cannot start after the end of the log');
  if (part.digest.length !== HASH_SIZE || seal.chain.length !== HASH_SIZE)
    throw malformed(`hashes are ${HASH_SIZE} bytes`);
  return formatCheckpoint({
    origin: seal.origin,
    size: seal.size,
    root: seal.root,
    extensions: [
      `part ${part.index} ${part.first} ${toBase64(part.digest)}`,
      `chain ${toBase64(seal.chain)}`,
      `time ${seal.timeMs}`,
    ],
  });
}

/**
 * Formats and signs a seal with the log key (type 0x01); returns the note text. The log-signer MUST
 * persist the result before publishing it and MUST NOT sign two seals for one part index
 * (DESIGN.md invariant 2). Errors: those of `formatSealBody` and `signNote`.
 */
export function signSeal(seal: Seal, logKey: NoteSigner): string {
  return signNote(formatSealBody(seal), logKey);
}

/** A seal whose signature verified, with its note (cosignature lines included). */
export interface OpenedSeal {
  readonly seal: Seal;
  readonly note: SignedNote;
}

/**
 * Verifies a seal's signature with the portal's verifier key (`openNote`: `note.malformed`,
 * `note.unknown-key`, `note.bad-signature`), and only then parses its body (`parseSealBody`
 * errors). The origin MUST equal `origin`, which defaults to the key name (C2SP tlog-checkpoint:
 * the key name SHOULD match the origin).
 */
export function openSeal(
  noteText: string,
  logKey: VerifierKey,
  ed25519: Ed25519,
  origin = logKey.name,
): OpenedSeal {
  const note = openNote(noteText, logKey, ed25519);
  return { seal: parseSealBody(note.text, origin), note };
}
