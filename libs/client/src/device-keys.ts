import {
  defaultRandom,
  generateKeyPair,
  isCryptoError,
  privateJwk,
  readJwk,
  type KeyAlgorithm,
  type KeyPair,
  type RandomSource,
} from '@cryptomesh/crypto/portable';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';

/**
 * A device's private keys (002 §3.1.2): the Ed25519 key that signs its Device Profile and its requests
 * (an administrator device also signs Personal Profiles with it), and the X25519 key to which
 * application data is encrypted. They never leave the device unencrypted: the store writes them as
 * secrets, an escrow blob carries them only inside its JWE.
 */
export interface DeviceKeys {
  readonly signature: KeyPair<'Ed25519'>;
  readonly encryption: KeyPair<'X25519'>;
}

/** The secret document of this device's keys (docs/design/client.md "State"). */
export const DEVICE_KEYS_DOCUMENT = 'keys/device.json';
/** The secret document of the master signature key: only where the profile was created or recovered. */
export const MASTER_KEY_DOCUMENT = 'keys/master.json';

/** Fresh device keys; `random` MUST be a CSPRNG outside tests. */
export function generateDeviceKeys(random: RandomSource = defaultRandom): DeviceKeys {
  return { signature: generateKeyPair('Ed25519', random), encryption: generateKeyPair('X25519', random) };
}

/**
 * A fresh master signature key (the PMSK of 002 §3.1.1.1): its UDF is the profile fingerprint, the
 * Master Profile's identifier, for ever (000 §6.1).
 */
export function generateMasterKey(random: RandomSource = defaultRandom): KeyPair<'Ed25519'> {
  return generateKeyPair('Ed25519', random);
}

/** The JSON of device keys: `{"Signature": <private JWK>, "Encryption": <private JWK>}`. Secret. */
export function deviceKeysJson(keys: DeviceKeys): { Signature: object; Encryption: object } {
  return { Signature: { ...privateJwk(keys.signature) }, Encryption: { ...privateJwk(keys.encryption) } };
}

/**
 * Reads device keys from their JSON (deviceKeysJson). Guarantees: both private keys present, of the
 * right algorithms, and each JWK's `x` (when given) is the public key of its `d`. Throws ClientError
 * `state.corrupt` naming `what` (the document, or the escrow blob) otherwise.
 */
export function readDeviceKeys(value: unknown, what: string = DEVICE_KEYS_DOCUMENT): DeviceKeys {
  if (typeof value !== 'object' || value === null)
    throw new ClientError('state.corrupt', `${what}: not a JSON object of device keys`, { check: what });
  const record = value as Record<string, unknown>;
  return {
    signature: readPrivateKey(record.Signature, 'Ed25519', `${what} "Signature"`),
    encryption: readPrivateKey(record.Encryption, 'X25519', `${what} "Encryption"`),
  };
}

/**
 * Reads one private key of `algorithm` from a JWK. Throws ClientError `state.corrupt` (with the
 * CryptoError as cause) for anything else, a public-only JWK included.
 */
export function readPrivateKey<A extends KeyAlgorithm>(
  value: unknown,
  algorithm: A,
  what: string,
): KeyPair<A> {
  let key;
  try {
    key = readJwk(value);
  } catch (cause) {
    const reason = isCryptoError(cause) ? cause.message : String(cause);
    throw new ClientError('state.corrupt', `${what} is not a JWK: ${reason}`, { check: what, cause });
  }
  if (key.algorithm !== algorithm || key.privateKey === undefined)
    throw new ClientError('state.corrupt', `${what} is not a private ${algorithm} key`, { check: what });
  return { algorithm, privateKey: key.privateKey, publicKey: key.publicKey };
}

/** Writes this device's keys (secret document). */
export function saveDeviceKeys(store: ClientStore, keys: DeviceKeys): Promise<void> {
  return store.write(DEVICE_KEYS_DOCUMENT, `${JSON.stringify(deviceKeysJson(keys), null, 2)}\n`, {
    secret: true,
  });
}

/** This device's keys. Throws ClientError `state.missing` when absent, `state.corrupt` when unreadable. */
export async function loadDeviceKeys(store: ClientStore): Promise<DeviceKeys> {
  const text = await store.read(DEVICE_KEYS_DOCUMENT);
  if (text === undefined)
    throw new ClientError('state.missing', `no ${DEVICE_KEYS_DOCUMENT}: this home holds no device`, {
      check: DEVICE_KEYS_DOCUMENT,
    });
  return readDeviceKeys(parseJson(text, DEVICE_KEYS_DOCUMENT));
}

/** Writes the master key (secret document): `{"Signature": <private JWK>}`. */
export function saveMasterKey(store: ClientStore, key: KeyPair<'Ed25519'>): Promise<void> {
  return store.write(MASTER_KEY_DOCUMENT, `${JSON.stringify({ Signature: privateJwk(key) }, null, 2)}\n`, {
    secret: true,
  });
}

/** The master key when this device holds it, else undefined. Throws `state.corrupt` when unreadable. */
export async function loadMasterKey(store: ClientStore): Promise<KeyPair<'Ed25519'> | undefined> {
  const text = await store.read(MASTER_KEY_DOCUMENT);
  if (text === undefined) return undefined;
  const value = parseJson(text, MASTER_KEY_DOCUMENT) as { Signature?: unknown } | null;
  return readPrivateKey(value?.Signature, 'Ed25519', `${MASTER_KEY_DOCUMENT} "Signature"`);
}

/** JSON.parse, or ClientError `state.corrupt` naming the document. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ClientError('state.corrupt', `${what} is not JSON`, { check: what, cause });
  }
}
