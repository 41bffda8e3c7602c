import { fromBase64, parseDecimal, toBase64 } from './bytes';
import { LogError } from './log-error';
import { HASH_SIZE, type Hash } from './tree-hasher';

/**
 * C2SP tlog-checkpoint: the body of a signed note that commits to a log's tree head —
 *   <origin>\n<tree size>\n<base64 root hash>\n[extension lines…]
 * The tree size has no leading zeros; extension lines are opaque to standard tooling and MUST be
 * non-empty. A Mesh seal (`seal.ts`) is a checkpoint with three extension lines.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Hash;
  readonly extensions: readonly string[];
}

function malformed(message: string, details: { expected?: string; seen?: string } = {}): LogError {
  return new LogError('checkpoint.malformed', message, details);
}

/**
 * Parses a checkpoint body (the note text, ending in "\n"). MUST throw `checkpoint.malformed`,
 * saying which line and why, for: fewer than three lines, an empty line, a size that is not a
 * decimal without leading zeros (or above 2^53 − 1), a root that is not canonical base64 of 32
 * bytes; and `checkpoint.origin` when `expectedOrigin` is given and differs.
 */
export function parseCheckpoint(text: string, expectedOrigin?: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('a checkpoint ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) {
    throw malformed('a checkpoint has at least three lines: origin, tree size, root hash', {
      expected: '≥ 3 lines',
      seen: `${lines.length} lines`,
    });
  }
  const emptyAt = lines.findIndex((l) => l.length === 0);
  if (emptyAt >= 0) throw malformed(`checkpoint line ${emptyAt + 1} is empty`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (expectedOrigin !== undefined && origin !== expectedOrigin) {
    throw new LogError('checkpoint.origin', 'the checkpoint is for another log', {
      expected: expectedOrigin,
      seen: origin,
    });
  }
  const size = parseDecimal(sizeText);
  if (size === undefined) {
    throw malformed('the tree size must be a decimal with no sign or leading zeros', { seen: sizeText });
  }
  const root = fromBase64(rootText, 'checkpoint root hash', 'checkpoint.malformed');
  if (root.length !== HASH_SIZE) {
    throw malformed(`the root hash must be ${HASH_SIZE} bytes`, {
      expected: String(HASH_SIZE),
      seen: String(root.length),
    });
  }
  return { origin, size, root, extensions };
}

/** Serialises a checkpoint body. MUST throw `checkpoint.malformed` for values it could not parse back. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root, extensions } = checkpoint;
  if (origin.length === 0 || origin.includes('\n')) throw malformed('the origin must be one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw malformed(`invalid tree size ${size}`);
  if (root.length !== HASH_SIZE) throw malformed(`the root hash must be ${HASH_SIZE} bytes`);
  if (extensions.some((e) => e.length === 0 || e.includes('\n')))
    throw malformed('extension lines must be non-empty lines');
  return [origin, String(size), toBase64(root), ...extensions].map((l) => `${l}\n`).join('');
}
