import { hash } from 'node:crypto';
import type { Sha2 } from './sha2-port';

function digest(algorithm: 'sha256' | 'sha512', data: Uint8Array): Uint8Array {
  // A copy: a digest of its own (offset 0, not a view of a pooled Buffer), as @noble/hashes returns.
  return new Uint8Array(hash(algorithm, data, 'buffer'));
}

/** SHA-2 through OpenSSL (`crypto.hash`, one call per digest): for servers (sha2-port.ts). */
export const nodeSha2: Sha2 = {
  name: 'node:crypto',
  sha256: (data) => digest('sha256', data),
  sha512: (data) => digest('sha512', data),
};
