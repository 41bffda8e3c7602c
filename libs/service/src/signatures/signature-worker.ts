/**
 * The code each signature worker runs (evaluated, so that it needs no file of its own at run time,
 * under ts-node, jest or the built service alike). It answers each batch (check-codec.ts) with one
 * byte per check: 1 when `crypto.verify` of OpenSSL accepts the signature over exactly the message
 * under exactly the key, else 0 — as jose does for a JWS (`verifyJws`), errors included: a key or
 * signature OpenSSL cannot take is a 0. Imported keys are kept, at most 4,096 (oldest out first).
 */
export const WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const SPKI = [Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from('3043300506032b6571033a00', 'hex')];
const keys = new Map();
function keyObject(algorithm, key) {
  const id = algorithm + Buffer.from(key).toString('base64');
  let found = keys.get(id);
  if (found === undefined) {
    try {
      found = createPublicKey({ key: Buffer.concat([SPKI[algorithm], key]), format: 'der', type: 'spki' });
    } catch {
      found = null;
    }
    if (keys.size >= 4096) keys.delete(keys.keys().next().value);
    keys.set(id, found);
  }
  return found;
}
parentPort.on('message', ({ id, buffer }) => {
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  const count = view.getUint32(0);
  const verdicts = new Uint8Array(count);
  let at = 4;
  for (let i = 0; i < count; i++) {
    const algorithm = view.getUint8(at);
    const keyLength = view.getUint32(at + 1);
    const signatureLength = view.getUint32(at + 5);
    const messageLength = view.getUint32(at + 9);
    at += 13;
    const key = bytes.subarray(at, (at += keyLength));
    const signature = bytes.subarray(at, (at += signatureLength));
    const message = bytes.subarray(at, (at += messageLength));
    const object = algorithm <= 1 ? keyObject(algorithm, key) : null;
    let ok = false;
    try {
      ok = object !== null && verify(null, message, object, signature);
    } catch {
      ok = false;
    }
    verdicts[i] = ok ? 1 : 0;
  }
  parentPort.postMessage({ id, verdicts }, [verdicts.buffer]);
});
`;
