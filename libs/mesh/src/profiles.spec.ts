import {
  contentDigestUdf,
  decryptJwe,
  fromBase64Url,
  fromUtf8,
  keyUdf,
  toBase64Url,
  utf8,
} from '@cryptomesh/crypto/portable';
import { ADMIN, fixedKey, forgedDeviceProfile, makeAccount, MASTER_KEY, NOW, PHONE } from '../test/fixtures';
import {
  APPLICATION_PROFILE_CONTENT_ID,
  applicationProfileId,
  buildApplicationProfile,
  buildDeviceProfile,
  buildMasterProfile,
  personalProfileId,
  readProfile,
  readProfileOf,
  type MeshErrorCode,
} from '@cryptomesh/mesh';
import { canonicalJson } from './json';
import { signPayload } from './profile-envelope';
import { PROFILE_TYPES } from './profile-types';

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return 'no error';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('profiles: build → JWS → read', () => {
  it('round-trips each profile type, with typ naming the type and the documented identifiers', async () => {
    const { master, personal, adminDevice } = await makeAccount();
    expect(master.profile.id).toBe(keyUdf('Ed25519', MASTER_KEY.publicKey));
    expect(personal.profile.id).toBe(personalProfileId(master.profile.id));
    expect(personal.profile.id).not.toBe(master.profile.id);
    expect(adminDevice.profile.id).toBe(keyUdf('Ed25519', ADMIN.signature.publicKey));
    for (const signed of [master, personal, adminDevice]) {
      const header = JSON.parse(
        fromUtf8(Uint8Array.from(Buffer.from(signed.jws.protected, 'base64url'))),
      ) as {
        typ: string;
      };
      expect(header.typ).toBe(PROFILE_TYPES[signed.profile.kind]);
      expect(readProfile(JSON.parse(JSON.stringify(signed.jws)))).toEqual(signed);
    }
  });

  it('encrypts Application private data to the devices and round-trips the public part', async () => {
    const { personal } = await makeAccount();
    const app = await buildApplicationProfile(
      {
        personal: personal.profile.id,
        type: 'mail',
        name: 'work',
        public: { Address: 'smtp' },
        private: { Password: 'hunter2' },
        recipients: [ADMIN.encryption, PHONE.encryption],
      },
      ADMIN.signature,
    );
    expect(app.profile.id).toBe(applicationProfileId(personal.profile.id, 'mail', 'work'));
    const read = readProfileOf(app.jws, 'application');
    expect(read.profile.public).toEqual({ Address: 'smtp' });
    expect(JSON.stringify(read.jws)).not.toContain('hunter2');
    const plain = await decryptJwe(read.profile.private, PHONE.encryption);
    expect(JSON.parse(fromUtf8(plain))).toEqual({ Password: 'hunter2' });
  });

  it('gives an Application Profile identifier asked again the same answer, and no two triples one key', () => {
    const direct = (personal: string, type: string, name: string): string =>
      contentDigestUdf(
        canonicalJson({ Name: name, Personal: personal, Type: type }),
        APPLICATION_PROFILE_CONTENT_ID,
      );
    // Triples whose strings run together the same way: each its own identifier, asked twice.
    const triples: [string, string, string][] = [
      ['ab', 'c', 'd'],
      ['a', 'bc', 'd'],
      ['a', 'b', 'cd'],
      ['a', 'b', 'c:d'],
      ['1:a', 'b', 'c'],
    ];
    for (const round of [0, 1])
      for (const [personal, type, name] of triples)
        expect([round, applicationProfileId(personal, type, name)]).toEqual([
          round,
          direct(personal, type, name),
        ]);
    expect(new Set(triples.map((t) => applicationProfileId(...t))).size).toBe(triples.length);
  });

  const forge = (type: string, payload: object) => signPayload(payload, type, ADMIN.signature);

  it.each<[string, () => Promise<unknown>, MeshErrorCode]>([
    ['not a JWS', () => Promise.resolve(readProfile({ payload: 'x' })), 'profile.malformed'],
    [
      'a Device Profile whose key is the identity point (issue #14, hole 5)',
      () => Promise.resolve(readProfile(forgedDeviceProfile().jws)),
      'profile.malformed',
    ],
    [
      'a payload that names a member twice (issue #14, hole 5)',
      async () => {
        const { adminDevice } = await makeAccount();
        const text = fromUtf8(fromBase64Url(adminDevice.jws.payload) as Uint8Array);
        const twice = `{"Description":"evil",${text.slice(1)}`;
        return readProfile({ ...adminDevice.jws, payload: toBase64Url(utf8(twice)) });
      },
      'profile.malformed',
    ],
    ['unknown typ', async () => readProfile(await forge('application/other', {})), 'profile.unknown-type'],
    [
      'payload not JSON',
      async () => {
        const jws = await forge(PROFILE_TYPES.device, {});
        return readProfile({ ...jws, payload: toBase64Url(utf8('{not json')) });
      },
      'profile.malformed',
    ],
    [
      'extra member',
      async () => {
        const d = await buildDeviceProfile(
          { encryption: ADMIN.encryption, description: 'x' },
          ADMIN.signature,
        );
        const payload = JSON.parse(
          fromUtf8(canonicalJson(JSON.parse(Buffer.from(d.jws.payload, 'base64url').toString()) as object)),
        ) as object;
        return readProfile(await forge(PROFILE_TYPES.device, { ...payload, Extra: 1 }));
      },
      'profile.malformed',
    ],
    [
      'private key in a profile',
      async () => {
        const d = await buildDeviceProfile(
          { encryption: ADMIN.encryption, description: 'x' },
          ADMIN.signature,
        );
        const payload = JSON.parse(Buffer.from(d.jws.payload, 'base64url').toString()) as {
          Signature: object;
        };
        const signature = { ...payload.Signature, d: toBase64Url(ADMIN.signature.privateKey) };
        return readProfile(await forge(PROFILE_TYPES.device, { ...payload, Signature: signature }));
      },
      'profile.malformed',
    ],
    [
      'encryption key used as signature key',
      async () => {
        const d = await buildDeviceProfile(
          { encryption: ADMIN.encryption, description: 'x' },
          ADMIN.signature,
        );
        const payload = JSON.parse(Buffer.from(d.jws.payload, 'base64url').toString()) as {
          Encryption: object;
        };
        return readProfile(await forge(PROFILE_TYPES.device, { ...payload, Signature: payload.Encryption }));
      },
      'profile.malformed',
    ],
    [
      'Id not derived from the key',
      async () => {
        const d = await buildDeviceProfile(
          { encryption: ADMIN.encryption, description: 'x' },
          ADMIN.signature,
        );
        const payload = JSON.parse(Buffer.from(d.jws.payload, 'base64url').toString()) as object;
        return readProfile(
          await forge(PROFILE_TYPES.device, { ...payload, Id: keyUdf('Ed25519', PHONE.signature.publicKey) }),
        );
      },
      'profile.bad-id',
    ],
    [
      'Application Id not derived from Personal/Type/Name',
      async () => {
        const { personal } = await makeAccount();
        const a = await buildApplicationProfile(
          { personal: personal.profile.id, type: 'mail', name: 'a' },
          ADMIN.signature,
        );
        const payload = JSON.parse(Buffer.from(a.jws.payload, 'base64url').toString()) as object;
        return readProfile(await forge(PROFILE_TYPES.application, { ...payload, Name: 'b' }));
      },
      'profile.bad-id',
    ],
    [
      'a Master Profile without administrators',
      () => buildMasterProfile({ administrators: [], created: NOW }, fixedKey('Ed25519', 9)),
      'input.invalid',
    ],
    [
      'wrong kind asked for',
      async () => readProfileOf((await makeAccount()).master.jws, 'personal'),
      'profile.unknown-type',
    ],
  ])('refuses %s', async (_name, run, code) => {
    expect(await codeOf(run)).toBe(code);
  });
});
