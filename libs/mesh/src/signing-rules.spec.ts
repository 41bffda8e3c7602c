import { ADMIN, device, fixedKey, makeAccount, MASTER_KEY, NOW, PHONE, STRANGER } from '../test/fixtures';
import {
  buildApplicationProfile,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  checkProfileSigner,
  profileView,
  type MeshErrorCode,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { signProfilePayload } from './profile-envelope';
import { devicePayload } from './device-profile';

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** The same payload, signed by another key: the kid then names that key. */
async function resign<P extends SignedProfile>(signed: P, key: typeof ADMIN.signature): Promise<P> {
  const payload = JSON.parse(Buffer.from(signed.jws.payload, 'base64url').toString()) as never;
  const jws = await signProfilePayload(signed.profile.kind, payload, key);
  return {
    ...signed,
    jws,
    signer: (await buildDeviceProfile({ encryption: ADMIN.encryption, description: '' }, key)).signer,
  };
}

describe('signing rules (000 §6.4)', () => {
  it('accepts each profile signed as the rule demands', async () => {
    const { master, personal, adminDevice } = await makeAccount();
    const personalWithApp = await buildPersonalProfile(
      {
        master: master.profile.id,
        sequence: 1,
        devices: [ADMIN, PHONE],
        applications: [{ id: 'set below', type: 'mail', signers: [PHONE.signature] }],
      },
      ADMIN.signature,
    );
    const app = await buildApplicationProfile(
      { personal: personal.profile.id, type: 'mail', name: 'home' },
      PHONE.signature,
    );
    const authorising = await buildPersonalProfile(
      {
        master: master.profile.id,
        sequence: 1,
        devices: [ADMIN, PHONE],
        applications: [{ id: app.profile.id, type: 'mail', signers: [PHONE.signature] }],
      },
      ADMIN.signature,
    );
    expect(personalWithApp.profile.applications[0]?.id).toBe('set below');
    const view = profileView([master.profile], [authorising.profile]);
    for (const signed of [master, personal, adminDevice, app])
      expect((await checkProfileSigner(signed, view)).udf).toBe(signed.signer);
  });

  it.each<[string, () => Promise<unknown>, MeshErrorCode]>([
    [
      'Master signed by an administrator key instead of its master key',
      async () => {
        const { master } = await makeAccount();
        const forged = await resign(master, ADMIN.signature);
        return checkProfileSigner(forged, profileView([master.profile], []));
      },
      'rule.master-signer',
    ],
    [
      'Personal signed by a key that is not an administrator of its Master',
      async () => {
        const { master, personal } = await makeAccount();
        return checkProfileSigner(await resign(personal, PHONE.signature), profileView([master.profile], []));
      },
      'rule.personal-signer',
    ],
    [
      'Personal signed by the master key (not listed as an administrator)',
      async () => {
        const { master, personal } = await makeAccount();
        return checkProfileSigner(await resign(personal, MASTER_KEY), profileView([master.profile], []));
      },
      'rule.personal-signer',
    ],
    [
      'Personal whose Master is unknown',
      async () => checkProfileSigner((await makeAccount()).personal, profileView([], [])),
      'rule.unknown-master',
    ],
    [
      'Device signed by another device',
      async () => {
        const { adminDevice } = await makeAccount();
        return checkProfileSigner(await resign(adminDevice, PHONE.signature), profileView([], []));
      },
      'rule.device-signer',
    ],
    [
      'Application signed by a key the Personal Profile does not authorise',
      async () => {
        const { master, personal } = await makeAccount();
        const app = await buildApplicationProfile(
          { personal: personal.profile.id, type: 'mail', name: 'x' },
          STRANGER.signature,
        );
        const authorising = await buildPersonalProfile(
          {
            master: master.profile.id,
            sequence: 1,
            devices: [ADMIN],
            applications: [{ id: app.profile.id, type: 'mail', signers: [PHONE.signature] }],
          },
          ADMIN.signature,
        );
        return checkProfileSigner(app, profileView([master.profile], [authorising.profile]));
      },
      'rule.application-signer',
    ],
    [
      'Application authorised under another application type',
      async () => {
        const { master, personal } = await makeAccount();
        const app = await buildApplicationProfile(
          { personal: personal.profile.id, type: 'mail', name: 'x' },
          PHONE.signature,
        );
        const authorising = await buildPersonalProfile(
          {
            master: master.profile.id,
            sequence: 1,
            devices: [ADMIN],
            applications: [{ id: app.profile.id, type: 'ssh', signers: [PHONE.signature] }],
          },
          ADMIN.signature,
        );
        return checkProfileSigner(app, profileView([master.profile], [authorising.profile]));
      },
      'rule.application-signer',
    ],
    [
      'Application whose Personal Profile is unknown',
      async () => {
        const { personal } = await makeAccount();
        const app = await buildApplicationProfile(
          { personal: personal.profile.id, type: 'mail', name: 'x' },
          PHONE.signature,
        );
        return checkProfileSigner(app, profileView([], []));
      },
      'rule.unknown-personal',
    ],
    [
      'the right kid but a signature over other bytes',
      async () => {
        const d = await buildDeviceProfile(
          { encryption: PHONE.encryption, description: 'phone' },
          PHONE.signature,
        );
        const other = await signProfilePayload(
          'device',
          { ...devicePayload(d.profile), Description: 'evil' },
          PHONE.signature,
        );
        return checkProfileSigner(
          { ...d, jws: { ...d.jws, signature: other.signature } },
          profileView([], []),
        );
      },
      'profile.bad-signature',
    ],
  ])('refuses a %s', async (_name, run, code) => {
    expect(await codeOf(run)).toBe(code);
  });

  it('a Master Profile with Ed448 keys follows the same rule', async () => {
    const masterKey = fixedKey('Ed448', 7);
    const master = await buildMasterProfile(
      { administrators: [device(8).signature], created: NOW },
      masterKey,
    );
    expect((await checkProfileSigner(master, profileView([], []))).algorithm).toBe('Ed448');
  });
});
