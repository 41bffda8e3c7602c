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

/**
 * Client side: finds a nonce (a random 8-byte hex prefix and a counter) that shows `level` for `body`.
 * Level 1 takes about 2^20 digests. Throws 'pow.exhausted' after `maxAttempts` (default 2^26),
 * 'input.invalid' for a level outside 0–4.
 */
export function solveProofOfWork(
  body: string,
  level: number,
  options: { readonly random?: RandomSource; readonly maxAttempts?: number } = {},
): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_PROOF_OF_WORK_LEVEL)
    throw new MeshError('input.invalid', `a proof-of-work level is 0–${MAX_PROOF_OF_WORK_LEVEL}`);
  const prefix = toHex((options.random ?? defaultRandom)(8));
  const maxAttempts = options.maxAttempts ?? 2 ** 26;
  for (let counter = 0; counter < maxAttempts; counter++) {
    const nonce = `${prefix}${counter.toString(16)}`;
    if (proofOfWorkLevel(body, nonce) >= level) return nonce;
  }
  throw new MeshError('pow.exhausted', `no nonce reached level ${level} in ${maxAttempts} attempts`);
}
