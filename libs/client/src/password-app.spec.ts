import { decryptJwe, jweRecipientIds, keyUdf } from '@cryptomesh/crypto/portable';
import {
  applicationProfileId,
  buildMasterProfile,
  buildPersonalProfile,
  type JsonObject,
  type PersonalProfile,
} from '@cryptomesh/mesh';
import { applicationDevices, nextPersonalInput, openApplication, sealApplication } from './application-data';
import { isClientError, type ClientError } from './client-error';
import { generateDeviceKeys, generateMasterKey, type DeviceKeys } from './device-keys';
import { normaliseSite, passwordData, readEntries, type PasswordEntry } from './password-app';

async function failure(promise: Promise<unknown> | (() => unknown)): Promise<ClientError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

/** A Personal Profile of `devices`, the password application authorised for all of them. */
async function personalOf(devices: DeviceKeys[]): Promise<PersonalProfile> {
  const master = await buildMasterProfile(
    { administrators: [devices[0]!.signature], created: 1 },
    generateMasterKey(),
  );
  const bare = await buildPersonalProfile(
    { master: master.profile.id, sequence: 0, devices: [devices[0]!] },
    devices[0]!.signature,
  );
  const id = applicationProfileId(bare.profile.id, 'password', 'default');
  const input = nextPersonalInput(bare.profile, {
    add: devices.slice(1),
    applications: [{ id, type: 'password', signers: [devices[0]!.signature] }],
  });
  return (await buildPersonalProfile(input, devices[0]!.signature)).profile;
}

const ENTRIES: PasswordEntry[] = [
  { sites: ['example.com'], username: 'alice', password: 's3cret', updated: 1800000000000 },
  { sites: ['mail.example.net', 'example.net'], username: 'al', password: 'p@ss', updated: 1800000000001 },
];

describe('the password application’s data', () => {
  it('is a JWE to every device the Personal Profile authorises, readable by each of them', async () => {
    const devices = [generateDeviceKeys(), generateDeviceKeys(), generateDeviceKeys(), generateDeviceKeys()];
    const personal = await personalOf(devices);
    const id = applicationProfileId(personal.id, 'password', 'default');
    expect(applicationDevices(personal, id).map((d) => d.id)).toHaveLength(4);
    const signed = await sealApplication(
      personal,
      { type: 'password', name: 'default', private: passwordData(ENTRIES) },
      devices[2]!,
    );
    expect(signed.profile.id).toBe(id);
    expect(signed.profile.public).toEqual({});
    expect(JSON.stringify(signed.jws)).not.toContain('s3cret');
    expect(jweRecipientIds(signed.profile.private).sort()).toEqual(
      devices.map((d) => keyUdf('X25519', d.encryption.publicKey)).sort(),
    );
    for (const device of devices) {
      const data = await openApplication(signed, device);
      expect(readEntries(data!)).toEqual(ENTRIES);
    }
  });

  it('is not readable by a device that is not authorised, and a removed device is left out of the next write', async () => {
    const devices = [generateDeviceKeys(), generateDeviceKeys(), generateDeviceKeys()];
    const personal = await personalOf(devices);
    const removed = devices[2]!;
    const without = (
      await buildPersonalProfile(
        nextPersonalInput(personal, { remove: [keyUdf('Ed25519', removed.signature.publicKey)] }),
        devices[0]!.signature,
      )
    ).profile;
    expect(without.sequence).toBe(personal.sequence + 1);
    expect(without.devices).toHaveLength(2);
    expect(without.applications[0]!.signers).toHaveLength(2);
    const later = await sealApplication(
      without,
      { type: 'password', name: 'default', private: passwordData(ENTRIES) },
      devices[1]!,
    );
    expect(readEntries((await openApplication(later, devices[1]!))!)).toEqual(ENTRIES);
    const refused = await failure(openApplication(later, removed));
    expect(refused).toMatchObject({ code: 'state.missing', check: 'application key' });
    await expect(decryptJwe(later.profile.private, removed.encryption)).rejects.toMatchObject({
      code: 'jwe.no-recipient',
    });
    expect((await failure(openApplication(later, generateDeviceKeys()))).code).toBe('state.missing');
  });

  it('is written only by a signer the Personal Profile authorises for it (usage.invalid)', async () => {
    const devices = [generateDeviceKeys(), generateDeviceKeys()];
    const personal = await personalOf(devices);
    const stranger = generateDeviceKeys();
    const error = await failure(
      sealApplication(personal, { type: 'password', name: 'default', private: {} }, stranger),
    );
    expect(error).toMatchObject({ code: 'usage.invalid', check: 'application signer' });
    const other = await failure(
      sealApplication(personal, { type: 'mail', name: 'default', private: {} }, devices[0]!),
    );
    expect(other.code).toBe('usage.invalid');
  });

  it('round-trips its entries, and refuses data of another shape (verify.profile)', async () => {
    expect(readEntries(JSON.parse(JSON.stringify(passwordData(ENTRIES))) as JsonObject)).toEqual(ENTRIES);
    for (const data of [
      {},
      { Entries: [{ Sites: [], Username: 'a', Password: 'b', Updated: 1 }] },
      { Entries: [{ Sites: ['a'] }] },
    ])
      expect((await failure(() => readEntries(data as never))).code).toBe('verify.profile');
  });

  it('names sites trimmed and in lower case, and refuses an empty one', async () => {
    expect(normaliseSite('  Example.COM ')).toBe('example.com');
    for (const bad of ['', '   ', 'two words'])
      expect(await failure(() => normaliseSite(bad))).toMatchObject({ code: 'usage.invalid', check: 'site' });
  });
});

describe('nextPersonalInput', () => {
  it('adds a device to the devices and to every application’s signers, once', async () => {
    const devices = [generateDeviceKeys(), generateDeviceKeys()];
    const personal = await personalOf(devices);
    const newcomer = generateDeviceKeys();
    const next = nextPersonalInput(personal, { add: [newcomer] });
    expect(next.sequence).toBe(personal.sequence + 1);
    expect(next.devices).toHaveLength(3);
    expect(next.applications?.[0]?.signers.map((k) => keyUdf('Ed25519', k.publicKey))).toEqual([
      ...personal.applications[0]!.signers.map((k) => k.udf),
      keyUdf('Ed25519', newcomer.signature.publicKey),
    ]);
  });
});
