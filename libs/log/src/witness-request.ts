import { bytesEqual, fromBase64, parseDecimal, toBase64 } from './bytes';
import { parseCheckpoint, type Checkpoint } from './checkpoint';
import { verifyConsistency } from './consistency-proof';
import type { Ed25519 } from './ed25519';
import { isLogError, LogError } from './log-error';
import { openNote, parseNote } from './signed-note';
import { EMPTY_ROOT, HASH_SIZE, type Hash } from './tree-hasher';
import type { VerifierKey } from './verifier-key';

/**
 * C2SP tlog-witness `add-checkpoint`: the request body is `old <size>\n`, up to 63 base64 hash
 * lines (the RFC 9162 §2.1.4 consistency proof from the old size), an empty line, then the signed
 * checkpoint.
 */
export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Hash[];
  /** The checkpoint note, exactly as sent (it MAY carry several signatures). */
  readonly checkpoint: string;
}

/** The most proof lines a request may carry (C2SP tlog-witness). */
export const MAX_PROOF_LINES = 63;

/** The request body for `request` (what a client of a witness sends). */
export function formatAddCheckpoint(request: AddCheckpointRequest): string {
  return `old ${request.oldSize}\n${request.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${request.checkpoint}`;
}

/**
 * Parses an add-checkpoint body. MUST throw LogError `witness.malformed` for an old size line that
 * is not `old` and a decimal without leading zeros, a proof line that is not base64 of 32 bytes,
 * more than 63 of them, or no empty line before the checkpoint.
 */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const malformed = (why: string) => new LogError('witness.malformed', `add-checkpoint request: ${why}`);
  const firstEnd = body.indexOf('\n');
  if (firstEnd < 0) throw malformed('no old size line');
  const old = /^old (\S+)$/.exec(body.slice(0, firstEnd));
  const oldSize = old === null ? undefined : parseDecimal(old[1]!);
  if (oldSize === undefined) throw malformed('the first line is not "old <decimal size>"');
  const proof: Hash[] = [];
  let at = firstEnd + 1;
  for (;;) {
    const end = body.indexOf('\n', at);
    if (end < 0) throw malformed('no empty line before the checkpoint');
    const line = body.slice(at, end);
    at = end + 1;
    if (line === '') break;
    if (proof.length === MAX_PROOF_LINES) throw malformed(`more than ${MAX_PROOF_LINES} proof lines`);
    let hash: Hash;
    try {
      hash = fromBase64(line, 'consistency proof line', 'witness.malformed');
    } catch (error) {
      if (isLogError(error)) throw malformed(`proof line ${proof.length + 1} is not base64`);
      throw error;
    }
    if (hash.length !== HASH_SIZE) throw malformed(`proof line ${proof.length + 1} is not a 32-byte hash`);
    proof.push(hash);
  }
  return { oldSize, proof, checkpoint: body.slice(at) };
}

/** What a witness keeps per log: the latest checkpoint it cosigned. */
export interface WitnessedCheckpoint {
  readonly size: number;
  readonly root: Hash;
}

/** A request that passed every check: the checkpoint to record and cosign. */
export interface AcceptedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The checkpoint note's text (what a cosignature signs). */
  readonly noteText: string;
}

/**
 * The checks of C2SP tlog-witness `add-checkpoint`, in the spec's order, against the log keys this
 * witness trusts (`logKey(origin)`: undefined for a log it does not witness) and the latest
 * checkpoint it cosigned for the origin (`latest(origin)`, undefined: none). It MUST throw LogError:
 *
 * - `witness.malformed` (400) for a malformed request or checkpoint, or an old size above the
 *   checkpoint's size;
 * - `witness.unknown-log` (404) for an origin it does not witness;
 * - `witness.unknown-key` (403) when no signature verifies with the trusted key (others ignored);
 * - `witness.stale` (409, `expected` = the latest cosigned size) when the old size is not the size
 *   of the latest checkpoint cosigned (0 for none);
 * - `witness.conflict` (409) when the sizes are equal but the roots differ;
 * - `witness.bad-proof` (422) when the consistency proof does not verify (or is not empty where it
 *   must be).
 *
 * It records nothing: the caller MUST record the accepted checkpoint atomically with the check of
 * the old size (compare-and-swap) before it cosigns.
 */
export async function checkAddCheckpoint(
  request: AddCheckpointRequest,
  logKey: (origin: string) => VerifierKey | undefined,
  latest: (origin: string) => Promise<WitnessedCheckpoint | undefined>,
  ed25519: Ed25519,
): Promise<AcceptedCheckpoint> {
  let origin: string;
  try {
    origin = parseCheckpoint(parseNote(request.checkpoint).text).origin;
  } catch (error) {
    if (isLogError(error))
      throw new LogError('witness.malformed', `the checkpoint is malformed: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
  const key = logKey(origin);
  if (key === undefined)
    throw new LogError(
      'witness.unknown-log',
      `this witness does not witness ${JSON.stringify(origin.slice(0, 100))}`,
    );
  let noteText: string;
  try {
    noteText = openNote(request.checkpoint, key, ed25519).text;
  } catch (error) {
    if (isLogError(error))
      throw new LogError('witness.unknown-key', `no signature by the log key of ${origin} verifies`, {
        expected: key.text,
        cause: error,
      });
    throw error;
  }
  const checkpoint = parseCheckpoint(noteText, origin);
  if (request.oldSize > checkpoint.size) {
    throw new LogError(
      'witness.malformed',
      `old size ${request.oldSize} is above the checkpoint's ${checkpoint.size}`,
    );
  }
  const last = await latest(origin);
  const lastSize = last?.size ?? 0;
  if (request.oldSize !== lastSize) {
    throw new LogError('witness.stale', `the latest checkpoint cosigned for ${origin} has size ${lastSize}`, {
      expected: String(lastSize),
      seen: String(request.oldSize),
    });
  }
  const lastRoot = last?.root ?? EMPTY_ROOT;
  if (request.oldSize === checkpoint.size) {
    if (!bytesEqual(lastRoot, checkpoint.root)) {
      // Two roots for one size: evidence of a split view (the spec's 409).
      throw new LogError('witness.conflict', `size ${checkpoint.size} was cosigned with another root`, {
        expected: toBase64(lastRoot),
        seen: toBase64(checkpoint.root),
      });
    }
    if (request.proof.length > 0)
      throw new LogError('witness.bad-proof', 'a proof between equal sizes is empty');
    return { checkpoint, noteText };
  }
  if (request.oldSize === 0) {
    if (request.proof.length > 0) throw new LogError('witness.bad-proof', 'the proof from size 0 is empty');
    return { checkpoint, noteText };
  }
  try {
    verifyConsistency(request.oldSize, checkpoint.size, request.proof, lastRoot, checkpoint.root);
  } catch (error) {
    if (isLogError(error))
      throw new LogError('witness.bad-proof', `the consistency proof does not verify: ${error.message}`, {
        cause: error,
      });
    throw error;
  }
  return { checkpoint, noteText };
}
