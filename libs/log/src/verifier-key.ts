import { concatBytes, fromBase64, readU32be, toBase64, utf8 } from './bytes';
import { ED25519_PUBLIC_KEY_SIZE } from './ed25519';
import { LogError } from './log-error';
import { sha256Of } from './tree-hasher';

/**
 * C2SP signed-note key identities and verifier-key strings.
 *
 * Each portal has two Ed25519 keys (DESIGN.md "The log"): the **log key**, signed-note signature
 * type 0x01, which signs seals; and the **witness key**, type 0x04 (C2SP tlog-cosignature v1),
 * which cosigns peers' seals. The type byte is part of the key ID and of the verifier-key string,
 * so one key can never be mistaken for the other.
 */
export type KeyType = typeof KEY_TYPE_ED25519 | typeof KEY_TYPE_COSIGNATURE_V1;

/** C2SP signed-note: Ed25519 signatures over the note text. */
export const KEY_TYPE_ED25519 = 0x01;
/** C2SP signed-note / tlog-cosignature: timestamped Ed25519 witness cosignatures (v1). */
export const KEY_TYPE_COSIGNATURE_V1 = 0x04;

/** A public key a note can be verified against. */
export interface VerifierKey {
  readonly name: string;
  readonly type: KeyType;
  /** The C2SP key ID as an unsigned 32-bit integer. */
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** The canonical verifier-key string `<name>+<hex key ID>+<base64(type ‖ public key)>`. */
  readonly text: string;
}

/**
 * MUST throw `code` unless `name` is a valid C2SP key name: non-empty, no Unicode space, no '+'
 * (C2SP signed-note "Format"). Control characters are refused as well (a note may hold none).
 */
export function checkKeyName(name: string, code: 'key.malformed' | 'note.malformed' = 'key.malformed'): void {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || /[\s+\u0000-\u001f\u007f]/u.test(name)) {
    throw new LogError(code, 'a key name must be non-empty, without spaces, "+" or control characters', {
      seen: name,
    });
  }
}

/**
 * The C2SP key ID: the first four bytes, big-endian, of
 * SHA-256(key name ‖ 0x0A ‖ type byte ‖ public key) (C2SP signed-note "Signatures"). It MUST NOT
 * be taken as proof of a key: it only selects which configured key to try.
 */
export function computeKeyId(name: string, type: KeyType, publicKey: Uint8Array): number {
  return readU32be(sha256Of(concatBytes(utf8(name), Uint8Array.of(0x0a, type), publicKey)));
}

/** Builds the verifier key for an Ed25519 public key. MUST throw `key.malformed` for a bad name, type or key. */
export function makeVerifierKey(name: string, type: KeyType, publicKey: Uint8Array): VerifierKey {
  checkKeyName(name);
  if (type !== KEY_TYPE_ED25519 && type !== KEY_TYPE_COSIGNATURE_V1) {
    throw new LogError('key.malformed', `unsupported signature type 0x${Number(type).toString(16)}`);
  }
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new LogError('key.malformed', `an Ed25519 public key is ${ED25519_PUBLIC_KEY_SIZE} bytes`, {
      expected: String(ED25519_PUBLIC_KEY_SIZE),
      seen: String(publicKey.length),
    });
  }
  const keyId = computeKeyId(name, type, publicKey);
  const text = `${name}+${keyId.toString(16).padStart(8, '0')}+${toBase64(concatBytes(Uint8Array.of(type), publicKey))}`;
  return { name, type, keyId, publicKey: publicKey.slice(), text };
}

/**
 * Parses a verifier-key string `<name>+<hex key ID>+<base64(type ‖ public key)>`. MUST throw
 * `key.malformed`, saying why, for: a bad name, a key ID that is not 8 lower-case hex digits, bad
 * base64, a type other than 0x01/0x04 (or than `expectedType` when given), a key of the wrong
 * length, or a key ID that does not match the name and key.
 */
export function parseVerifierKey(text: string, expectedType?: KeyType): VerifierKey {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (first < 0 || second < 0) {
    throw new LogError('key.malformed', 'a verifier key is <name>+<hex key ID>+<base64 key>', { seen: text });
  }
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) {
    throw new LogError('key.malformed', 'the key ID must be 8 lower-case hex digits', { seen: idHex });
  }
  const material = fromBase64(text.slice(second + 1), 'verifier key', 'key.malformed');
  const type = material[0];
  if (type !== KEY_TYPE_ED25519 && type !== KEY_TYPE_COSIGNATURE_V1) {
    throw new LogError('key.malformed', 'unsupported signature type in the verifier key', {
      expected: '0x01 or 0x04',
      seen: type === undefined ? 'nothing' : `0x${type.toString(16).padStart(2, '0')}`,
    });
  }
  if (expectedType !== undefined && type !== expectedType) {
    throw new LogError('key.malformed', 'the verifier key has the wrong signature type', {
      expected: `0x0${expectedType}`,
      seen: `0x0${type}`,
    });
  }
  const key = makeVerifierKey(name, type, material.subarray(1));
  if (key.keyId !== parseInt(idHex, 16)) {
    throw new LogError('key.malformed', 'the key ID does not match the key name and public key', {
      expected: key.text.slice(first + 1, second),
      seen: idHex,
    });
  }
  return key;
}
