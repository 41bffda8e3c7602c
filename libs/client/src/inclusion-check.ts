import {
  entryLeafHash,
  fromBase64,
  HASH_SIZE,
  isLogError,
  verifyInclusion,
  type Hash,
  type Seal,
} from '@cryptomesh/log';
import { ClientError } from './client-error';
import type { ProfileAnswer, ProofPath } from './query-client';

/**
 * Check 4; returns the entry's bytes. `proof` is the path built from the log's tiles, or the one
 * served with the answer (whose `proof.index` and `proof.size` must then be the entry's and the
 * checkpoint's).
 */
export function checkInclusion(
  answer: ProfileAnswer,
  proof: ProofPath,
  seal: Seal,
  portal: string,
  log: string,
): Uint8Array {
  const fail = (why: string, cause?: unknown) =>
    new ClientError(
      'verify.inclusion',
      `${portal} served entry ${answer.index} of ${log}'s log with ${why}`,
      {
        portal,
        check: 'inclusion proof',
        evidence: {
          log,
          index: answer.index,
          entry: answer.entry,
          proof: { index: answer.index, size: seal.size, path: proof.path, source: proof.source },
          checkpoint: answer.checkpoint,
        },
        cause,
      },
    );
  if (proof.source === 'json') {
    if (answer.proof.index !== answer.index) throw fail(`a proof of entry ${answer.proof.index}`);
    if (answer.proof.size !== seal.size)
      throw fail(`a proof for size ${answer.proof.size}, the checkpoint's is ${seal.size}`);
  }
  let entry: Uint8Array;
  try {
    entry = fromBase64(answer.entry, 'entry', 'proof.invalid');
  } catch (cause) {
    throw new ClientError('verify.answer', `${portal} served an entry that is not base64`, {
      portal,
      check: 'answer shape',
      cause,
    });
  }
  let path: Hash[];
  try {
    path = proof.path.map((hash) => {
      const bytes = fromBase64(hash, 'proof hash', 'proof.invalid');
      if (bytes.length !== HASH_SIZE) throw new RangeError(`a proof hash is ${HASH_SIZE} bytes`);
      return bytes;
    });
  } catch (cause) {
    throw fail('a proof that does not decode', cause);
  }
  try {
    verifyInclusion(answer.index, seal.size, entryLeafHash(entry), path, seal.root);
  } catch (cause) {
    if (!isLogError(cause)) throw cause;
    throw fail(`an inclusion proof that fails: ${cause.message}`, cause);
  }
  return entry;
}
