import type { SignatureCheck } from '@cryptomesh/crypto';

/**
 * A batch of signature checks as one ArrayBuffer, transferred to a worker without a copy (a
 * structured clone would copy each view's whole underlying buffer): a u32 count, then per check a
 * u8 algorithm (0 Ed25519, 1 Ed448) and the u32 lengths of the key, the signature and the message,
 * followed by those bytes. The worker (signature-worker.ts) reads the same layout.
 */
export function encodeChecks(checks: readonly SignatureCheck[]): ArrayBuffer {
  let size = 4;
  for (const c of checks) size += 13 + c.publicKey.length + c.signature.length + c.message.length;
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, checks.length);
  let at = 4;
  for (const c of checks) {
    view.setUint8(at, c.algorithm === 'Ed25519' ? 0 : 1);
    view.setUint32(at + 1, c.publicKey.length);
    view.setUint32(at + 5, c.signature.length);
    view.setUint32(at + 9, c.message.length);
    at += 13;
    for (const part of [c.publicKey, c.signature, c.message]) {
      bytes.set(part, at);
      at += part.length;
    }
  }
  return buffer;
}
