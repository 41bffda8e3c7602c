import {
  compressionLevel,
  contentDigestUdf,
  defaultRandom,
  toHex,
  typedContentDigest,
  type RandomSource,
} from '@cryptomesh/crypto/portable';
import { canonicalJson } from './json';
import { MeshError } from './mesh-error';

/** The Content-ID of a proof-of-work digest (mesh-model.md "Proof of work"). */
export const PROOF_OF_WORK_CONTENT_ID = 'MeshProofOfWork';
/** The highest level a UDF can show (draft-hallambaker-mesh-udf-13 §5.1.3: 50 trailing zero bits). */
export const MAX_PROOF_OF_WORK_LEVEL = 4;

function workInput(body: string, nonce: string): Uint8Array {
  return canonicalJson({ Body: body, Nonce: nonce });
}

/**
 * The request UDF whose compression shows the work: the SHA-2-512 content digest UDF, Content-ID
 * 'MeshProofOfWork', of the JCS of {Body: <request body UDF>, Nonce}. Its type byte is 96 + level.
 */
export function proofOfWorkUdf(body: string, nonce: string): string {
  return contentDigestUdf(workInput(body, nonce), PROOF_OF_WORK_CONTENT_ID);
}

/** The compression level 0–4 (§5.1.3: ≥20/30/40/50 trailing zero bits) that `nonce` reaches. */
export function proofOfWorkLevel(body: string, nonce: string): number {
  return compressionLevel(typedContentDigest(workInput(body, nonce), PROOF_OF_WORK_CONTENT_ID, 'SHA-2-512'));
}

/** Gateway side: 'pow.insufficient' unless `nonce` shows at least `level` for `body`. */
export function checkProofOfWork(body: string, nonce: string, level: number): void {
  const shown = proofOfWorkLevel(body, nonce);
  if (shown < level)
    throw new MeshError('pow.insufficient', `the proof of work shows level ${shown}, ${level} is demanded`);
}

/**
 * Whether `nonce` shows `level` for `body` (always at level 0; never without a nonce above it): the
 * predicate a portal applies where a missing or weak proof of work is a decision, not an error.
 */
export function proofOfWorkShows(body: string, nonce: string | null | undefined, level: number): boolean {
  if (level === 0) return true;
  if (nonce === null || nonce === undefined) return false;
  return proofOfWorkLevel(body, nonce) >= level;
}

/** What a solver is given: where its nonces start, and how many it may try. */
export interface ProofOfWorkOptions {
  readonly random?: RandomSource;
  readonly maxAttempts?: number;
}

/** The solvers' search: a random 8-byte hex prefix, then a counter from 0. */
interface Search {
  readonly prefix: string;
  readonly maxAttempts: number;
}

function startSearch(level: number, options: ProofOfWorkOptions): Search {
  if (!Number.isInteger(level) || level < 0 || level > MAX_PROOF_OF_WORK_LEVEL)
    throw new MeshError('input.invalid', `a proof-of-work level is 0–${MAX_PROOF_OF_WORK_LEVEL}`);
  return { prefix: toHex((options.random ?? defaultRandom)(8)), maxAttempts: options.maxAttempts ?? 2 ** 26 };
}

/** The first nonce of counters [from, until) that shows `level`, if any. */
function searchRange(
  body: string,
  level: number,
  prefix: string,
  from: number,
  until: number,
): string | undefined {
  for (let counter = from; counter < until; counter++) {
    const nonce = `${prefix}${counter.toString(16)}`;
    if (proofOfWorkLevel(body, nonce) >= level) return nonce;
  }
  return undefined;
}

function exhausted(level: number, maxAttempts: number): MeshError {
  return new MeshError('pow.exhausted', `no nonce reached level ${level} in ${maxAttempts} attempts`);
}

/**
 * Client side: finds a nonce (a random 8-byte hex prefix and a counter) that shows `level` for `body`.
 * Level 1 takes about 2^20 digests. Throws 'pow.exhausted' after `maxAttempts` (default 2^26),
 * 'input.invalid' for a level outside 0–4. It holds the thread until done: a client that talks to a
 * portal meanwhile uses solveProofOfWorkAsync.
 */
export function solveProofOfWork(body: string, level: number, options: ProofOfWorkOptions = {}): string {
  const { prefix, maxAttempts } = startSearch(level, options);
  const nonce = searchRange(body, level, prefix, 0, maxAttempts);
  if (nonce === undefined) throw exhausted(level, maxAttempts);
  return nonce;
}

/** Attempts between two looks at the clock. */
const ATTEMPTS_PER_LOOK = 256;

/**
 * Lets the event loop run its timers and I/O before the search goes on: `setImmediate` where there
 * is one (Node: the next turn, after timers and I/O, with no 1 ms floor), else a timer (browsers,
 * which clamp it to 4 ms when nested and throttle it in a hidden tab: a browser client solves in a
 * Worker).
 */
const giveWay: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise<void>((resolve) => setImmediate(resolve))
    : () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * solveProofOfWork (the same nonce, or the same error, for the same `random` and `maxAttempts`) that
 * gives way to the event loop once `sliceMs` of work (default 20) has passed, looking at the clock
 * every 256 digests. A level-1 solve takes seconds, a minute on a slow device; a solver that held
 * the loop so long would stop the client's timers (its connections' keep-alive among them) and,
 * in a test, the portals running in the same process.
 */
export async function solveProofOfWorkAsync(
  body: string,
  level: number,
  options: ProofOfWorkOptions & { readonly sliceMs?: number } = {},
): Promise<string> {
  const { prefix, maxAttempts } = startSearch(level, options);
  const sliceMs = options.sliceMs ?? 20;
  let sliceStart = Date.now();
  for (let from = 0; from < maxAttempts; from += ATTEMPTS_PER_LOOK) {
    const nonce = searchRange(body, level, prefix, from, Math.min(from + ATTEMPTS_PER_LOOK, maxAttempts));
    if (nonce !== undefined) return nonce;
    if (Date.now() - sliceStart >= sliceMs) {
      await giveWay();
      sliceStart = Date.now();
    }
  }
  throw exhausted(level, maxAttempts);
}
