import { concatBytes, fromBase64, toBase64 } from './bytes';
import type { Ed25519 } from './ed25519';
import { LogError } from './log-error';
import {
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  makeVerifierKey,
  type KeyType,
  type VerifierKey,
} from './verifier-key';

/**
 * A private key able to sign notes (type 0x01, the log key) or cosign them (type 0x04, the
 * witness key). Keys are injected, never read from globals (STYLE.md §4); the log key lives only
 * in the log-signer, the witness key only in the replication service (DESIGN.md "The log").
 */
export interface NoteSigner {
  readonly verifierKey: VerifierKey;
  /** Raw Ed25519 signature over `message`. MUST be deterministic and MUST NOT expose the key. */
  sign(message: Uint8Array): Uint8Array;
}

const SEED_SIZE = 32;

/** A signer over an Ed25519 seed. Throws `key.malformed` for a bad name or a seed not 32 bytes. */
export function makeNoteSigner(name: string, type: KeyType, seed: Uint8Array, ed25519: Ed25519): NoteSigner {
  if (seed.length !== SEED_SIZE) {
    throw new LogError('key.malformed', `an Ed25519 private key is a ${SEED_SIZE}-byte seed`, {
      expected: String(SEED_SIZE),
      seen: String(seed.length),
    });
  }
  const privateKey = seed.slice();
  const verifierKey = makeVerifierKey(name, type, ed25519.publicKeyOf(privateKey));
  return { verifierKey, sign: (message) => ed25519.sign(privateKey, message) };
}

/**
 * The signer-key string of the Go `sumdb/note` tools:
 * `PRIVATE+KEY+<name>+<hex key ID>+<base64(type ‖ seed)>`. It is a secret: callers MUST keep it
 * out of logs and out of the database.
 */
export function formatSignerKey(name: string, type: KeyType, seed: Uint8Array, ed25519: Ed25519): string {
  const signer = makeNoteSigner(name, type, seed, ed25519);
  const keyIdHex = signer.verifierKey.keyId.toString(16).padStart(8, '0');
  return `PRIVATE+KEY+${name}+${keyIdHex}+${toBase64(concatBytes(Uint8Array.of(type), seed))}`;
}

/**
 * Parses a signer-key string. MUST throw `key.malformed` (never echoing the secret) for a wrong
 * prefix, bad name, type, seed length or a key ID that does not match.
 */
export function parseSignerKey(text: string, ed25519: Ed25519): NoteSigner {
  const fields = text.split('+');
  const [p, k, name, idHex, ...rest] = fields;
  if (p !== 'PRIVATE' || k !== 'KEY' || name === undefined || idHex === undefined || rest.length === 0) {
    throw new LogError('key.malformed', 'a signer key is PRIVATE+KEY+<name>+<hex key ID>+<base64 key>');
  }
  let material: Uint8Array;
  try {
    material = fromBase64(rest.join('+'), 'signer key', 'key.malformed');
  } catch {
    throw new LogError('key.malformed', 'the signer key is not valid base64');
  }
  const type = material[0];
  if (type !== KEY_TYPE_ED25519 && type !== KEY_TYPE_COSIGNATURE_V1) {
    throw new LogError('key.malformed', 'unsupported signature type in the signer key');
  }
  const signer = makeNoteSigner(name, type, material.subarray(1), ed25519);
  if (signer.verifierKey.keyId.toString(16).padStart(8, '0') !== idHex) {
    throw new LogError('key.malformed', 'the signer key ID does not match its name and key');
  }
  return signer;
}
