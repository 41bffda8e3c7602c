import {
  ACCOUNT,
  ADMIN,
  CONTEXT,
  countingRandom,
  type Device,
  device,
  makeAccount,
  MASTER_KEY,
  NOW,
  ORIGIN,
  PHONE,
  STRANGER,
} from '../test/fixtures';
import { keyUdf } from '@cryptomesh/crypto/portable';
import {
  authoriseRecord,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  encodeRecord,
  recheckLog,
  type RecordContent,
  type SignedProfile,
  type MasterProfile,
} from '@cryptomesh/mesh';

/**
 * Several administrators (issue #19, 000 §6.1, §6.4): the Master Profile's `Administrators` are the
 * keys that may sign the Personal Profile and approve devices; changing that list is a Publish update
 * of the Master Profile, signed by the master key AND authorised by an administrator device. The same
 * applyRecord serves the gateway and every auditor, so each refusal here is both.
 */
const random = countingRandom(5000);
const TABLET = device(9);
const authorise = (content: RecordContent, by: Device) =>
  authoriseRecord(content, by.signature, { portal: ORIGIN, time: NOW, random }).then(encodeRecord);

async function setting() {
  const account = await makeAccount(random);
  const masterOf = (sequence: number, admins: Device[], key = MASTER_KEY) =>
    buildMasterProfile({ administrators: admins.map((d) => d.signature), sequence, created: NOW }, key);
  const personalOf = (sequence: number, devices: Device[], signer: Device = ADMIN) =>
    buildPersonalProfile({ master: account.master.profile.id, sequence, devices }, signer.signature);
  const profileOf = (d: Device, description: string) =>
    buildDeviceProfile({ encryption: d.encryption, description }, d.signature);
  const setMaster = (master: SignedProfile<MasterProfile>, by: Device) =>
    authorise(
      { operation: 'Publish', account: ACCOUNT, action: 'update', id: master.profile.id, value: master },
      by,
    );
  const connect = async (d: Device, personal: number, devices: Device[], by: Device) =>
    authorise(
      {
        operation: 'ConnectComplete',
        account: ACCOUNT,
        personal: await personalOf(personal, devices, by),
        device: await profileOf(d, 'new'),
      },
      by,
    );
  // ADMIN creates the account and connects PHONE (an ordinary device).
  const start = [encodeRecord(account.create), await connect(PHONE, 1, [ADMIN, PHONE], ADMIN)];
  return { account, masterOf, personalOf, setMaster, connect, start };
}

describe('administrators: promote and demote (issue #19)', () => {
  it('a promoted device approves a device; once demoted, its approval is request.not-administrator', async () => {
    const s = await setting();
    const promoted = [...s.start, await s.setMaster(await s.masterOf(1, [ADMIN, PHONE]), ADMIN)];
    const approved = [...promoted, await s.connect(TABLET, 2, [ADMIN, PHONE, TABLET], PHONE)];
    const life = await recheckLog(approved, CONTEXT);
    expect(life).toMatchObject({ ok: true });
    const state = life.ok ? life.accounts.get(ACCOUNT)?.state : undefined;
    expect(state?.master.profile.administrators.map((k) => k.udf)).toEqual([
      keyUdf('Ed25519', ADMIN.signature.publicKey),
      keyUdf('Ed25519', PHONE.signature.publicKey),
    ]);
    expect(state?.personal.profile.devices).toHaveLength(3);

    const demoted = [...promoted, await s.setMaster(await s.masterOf(2, [ADMIN]), ADMIN)];
    expect(await recheckLog(demoted, CONTEXT)).toMatchObject({ ok: true });
    const late = [...demoted, await s.connect(TABLET, 2, [ADMIN, PHONE, TABLET], PHONE)];
    expect(await recheckLog(late, CONTEXT)).toMatchObject({
      ok: false,
      index: late.length - 1,
      code: 'request.not-administrator',
    });
    // Nor may it sign the Personal Profile by Publish (000 §6.4: an Administrator key of the Master).
    const publishPersonal = await authorise(
      {
        operation: 'Publish',
        account: ACCOUNT,
        action: 'update',
        id: s.account.personal.profile.id,
        value: await s.personalOf(2, [ADMIN, PHONE], PHONE),
      },
      PHONE,
    );
    expect(await recheckLog([...demoted, publishPersonal], CONTEXT)).toMatchObject({
      ok: false,
      code: 'rule.personal-signer',
    });
  });

  it('an administrator may withdraw its own right once the Personal Profile is signed by another; then it approves nothing', async () => {
    const s = await setting();
    const resigned = await authorise(
      {
        operation: 'Publish',
        account: ACCOUNT,
        action: 'update',
        id: s.account.personal.profile.id,
        value: await s.personalOf(2, [ADMIN, PHONE], PHONE),
      },
      PHONE,
    );
    const entries = [
      ...s.start,
      await s.setMaster(await s.masterOf(1, [ADMIN, PHONE]), ADMIN),
      resigned,
      await s.setMaster(await s.masterOf(2, [PHONE]), ADMIN),
    ];
    expect(await recheckLog(entries, CONTEXT)).toMatchObject({ ok: true });
    const byOld = [...entries, await s.connect(TABLET, 3, [ADMIN, PHONE, TABLET], ADMIN)];
    expect(await recheckLog(byOld, CONTEXT)).toMatchObject({ ok: false, code: 'request.not-administrator' });
    const byNew = [...entries, await s.connect(TABLET, 3, [ADMIN, PHONE, TABLET], PHONE)];
    expect(await recheckLog(byNew, CONTEXT)).toMatchObject({ ok: true });
  });

  type Case = [string, (s: Awaited<ReturnType<typeof setting>>) => Promise<Uint8Array[]>, string];
  it.each<Case>([
    [
      'a non-administrator promoting itself, even with a Master Profile the master key signed',
      async (s) => [await s.setMaster(await s.masterOf(1, [ADMIN, PHONE]), PHONE)],
      'request.not-administrator',
    ],
    [
      "a promotion signed by a key other than the master key (another id: not this account's Master)",
      async (s) => [await s.setMaster(await s.masterOf(1, [ADMIN, PHONE], STRANGER.signature), ADMIN)],
      'persistence.undefined',
    ],
    [
      'a forged promotion: the master key signed another list, the payload names PHONE',
      async (s) => {
        const genuine = await s.masterOf(1, [ADMIN]);
        const wanted = await s.masterOf(1, [ADMIN, PHONE]);
        const forged = { ...wanted, jws: { ...wanted.jws, signature: genuine.jws.signature } };
        return [await s.setMaster(forged, ADMIN)];
      },
      'profile.bad-signature',
    ],
    [
      'a promotion that does not raise the Sequence (a replayed older Master Profile)',
      async (s) => [await s.setMaster(await s.masterOf(0, [ADMIN, PHONE]), ADMIN)],
      'publish.stale-sequence',
    ],
    [
      'withdrawing the right of the key that signed the current Personal Profile (it would break §6.4)',
      async (s) => [
        await s.setMaster(await s.masterOf(1, [ADMIN, PHONE]), ADMIN),
        await s.setMaster(await s.masterOf(2, [PHONE]), PHONE),
      ],
      'rule.personal-signer',
    ],
    [
      'a promotion by a device not connected to the account',
      async (s) => [await s.setMaster(await s.masterOf(1, [ADMIN, STRANGER]), STRANGER)],
      'request.unknown-device',
    ],
  ])('refuses %s', async (_name, build, code) => {
    const s = await setting();
    const extra = await build(s);
    const entries = [...s.start, ...extra];
    expect(await recheckLog(entries, CONTEXT)).toMatchObject({ ok: false, index: entries.length - 1, code });
  });

  it('no Master Profile leaves the account without an administrator (build and parse both refuse)', async () => {
    const s = await setting();
    await expect(s.masterOf(1, [])).rejects.toMatchObject({ code: 'input.invalid' });
  });
});
