import { keyUdf, publicJwk, publicKeyOf, type RandomSource } from '@cryptomesh/crypto/portable';
import { isClientError, type ClientError } from './client-error';
import { MemoryClientStore } from './client-store';
import {
  DEVICE_KEYS_DOCUMENT,
  deviceKeysJson,
  generateDeviceKeys,
  generateMasterKey,
  loadDeviceKeys,
  loadMasterKey,
  MASTER_KEY_DOCUMENT,
  readDeviceKeys,
  saveDeviceKeys,
  saveMasterKey,
} from './device-keys';

/** A deterministic random source: byte i of draw n is (seed + n + i) mod 256. */
function counting(seed: number): RandomSource {
  let draws = 0;
  return (length) => {
    const n = draws++;
    return Uint8Array.from({ length }, (_, i) => (seed + n + i) & 0xff);
  };
}

function failure(fn: () => unknown): ClientError {
  try {
    fn();
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('device keys', () => {
  it('are an Ed25519 signature key and an X25519 encryption key, drawn from the injected random source', () => {
    const keys = generateDeviceKeys(counting(7));
    expect(keys.signature.algorithm).toBe('Ed25519');
    expect(keys.encryption.algorithm).toBe('X25519');
    expect(keys.signature.privateKey).toEqual(Uint8Array.from({ length: 32 }, (_, i) => 7 + i));
    expect(keys.encryption.privateKey).toEqual(Uint8Array.from({ length: 32 }, (_, i) => 8 + i));
    expect(keys.encryption.publicKey).toEqual(publicKeyOf('X25519', keys.encryption.privateKey));
    expect(generateDeviceKeys(counting(7))).toEqual(keys);
    expect(generateMasterKey(counting(1)).algorithm).toBe('Ed25519');
  });

  it('round-trip through their JSON: private JWKs whose kid is the key UDF', () => {
    const keys = generateDeviceKeys();
    const json = deviceKeysJson(keys);
    expect(json.Signature).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      kid: keyUdf('Ed25519', keys.signature.publicKey),
    });
    expect(json.Encryption).toMatchObject({ kty: 'OKP', crv: 'X25519' });
    expect(typeof (json.Encryption as { d?: unknown }).d).toBe('string');
    expect(readDeviceKeys(JSON.parse(JSON.stringify(json)) as unknown)).toEqual(keys);
  });

  it('refuse JSON that is not two private keys of the right algorithms (state.corrupt)', () => {
    const keys = generateDeviceKeys();
    const json = deviceKeysJson(keys);
    const cases: unknown[] = [
      null,
      'keys',
      { Signature: json.Signature },
      { Signature: json.Encryption, Encryption: json.Signature },
      { Signature: publicJwk('Ed25519', keys.signature.publicKey), Encryption: json.Encryption },
      {
        Signature: { ...json.Signature, x: publicJwk('Ed25519', generateDeviceKeys().signature.publicKey).x },
        Encryption: json.Encryption,
      },
    ];
    for (const value of cases) {
      const error = failure(() => readDeviceKeys(value));
      expect(error.code).toBe('state.corrupt');
      expect(error.message).toContain(DEVICE_KEYS_DOCUMENT);
    }
  });

  it('are stored as secret documents and loaded back; absence is state.missing, garbage state.corrupt', async () => {
    const store = new MemoryClientStore();
    await expect(loadDeviceKeys(store)).rejects.toMatchObject({ code: 'state.missing' });
    expect(await loadMasterKey(store)).toBeUndefined();
    const keys = generateDeviceKeys();
    const master = generateMasterKey();
    await saveDeviceKeys(store, keys);
    await saveMasterKey(store, master);
    expect(store.documents.get(DEVICE_KEYS_DOCUMENT)?.secret).toBe(true);
    expect(store.documents.get(MASTER_KEY_DOCUMENT)?.secret).toBe(true);
    expect(await loadDeviceKeys(store)).toEqual(keys);
    expect(await loadMasterKey(store)).toEqual(master);
    await store.write(DEVICE_KEYS_DOCUMENT, '{not json');
    await expect(loadDeviceKeys(store)).rejects.toMatchObject({ code: 'state.corrupt' });
    await store.write(MASTER_KEY_DOCUMENT, JSON.stringify({ Signature: deviceKeysJson(keys).Encryption }));
    await expect(loadMasterKey(store)).rejects.toMatchObject({ code: 'state.corrupt' });
  });
});
