import { ACCOUNT, ADMIN, countingRandom, makeAccount, NOW, ORIGIN, PHONE } from '../test/fixtures';
import {
  authoriseRecord,
  buildApplicationProfile,
  buildDeviceProfile,
  buildPersonalProfile,
  decodeRecord,
  encodeRecord,
  profileSetBy,
  profilesSetBy,
  type RecordContent,
} from '@cryptomesh/mesh';

const random = countingRandom(2000);

async function fixtures() {
  const account = await makeAccount(random);
  const phone = await buildDeviceProfile(
    { encryption: PHONE.encryption, description: 'phone' },
    PHONE.signature,
  );
  const personal = await buildPersonalProfile(
    { master: account.master.profile.id, sequence: 1, devices: [ADMIN, PHONE] },
    ADMIN.signature,
  );
  const app = await buildApplicationProfile(
    { personal: account.personal.profile.id, type: 'mail', name: 'home', public: { Server: 'imap' } },
    PHONE.signature,
  );
  return { account, phone, personal, app };
}

/** Through the entry bytes, as the log-signer and the query service see a record. */
async function logged(content: RecordContent) {
  return decodeRecord(
    encodeRecord(await authoriseRecord(content, ADMIN.signature, { portal: ORIGIN, time: NOW, random })),
  );
}

describe('profilesSetBy: the profiles a record sets or deletes', () => {
  it('CreateAccount sets the Master, the Personal and every Device Profile', async () => {
    const { account } = await fixtures();
    const changes = profilesSetBy(decodeRecord(encodeRecord(account.create)));
    expect(changes.map((c) => [c.id, c.state])).toEqual([
      [account.master.profile.id, 'set'],
      [account.personal.profile.id, 'set'],
      [account.adminDevice.profile.id, 'set'],
    ]);
    expect(changes.map((c) => (c.state === 'set' ? c.value.jws : undefined))).toEqual([
      account.master.jws,
      account.personal.jws,
      account.adminDevice.jws,
    ]);
  });

  it('Publish create/update sets its value, Publish delete deletes its Id', async () => {
    const { app, personal } = await fixtures();
    const base = { operation: 'Publish', account: ACCOUNT } as const;
    const create = await logged({ ...base, action: 'create', id: app.profile.id, value: app });
    expect(profilesSetBy(create)).toEqual([{ id: app.profile.id, state: 'set', value: app }]);
    const update = await logged({ ...base, action: 'update', id: personal.profile.id, value: personal });
    expect(profilesSetBy(update)).toEqual([{ id: personal.profile.id, state: 'set', value: personal }]);
    const remove = await logged({ ...base, action: 'delete', id: app.profile.id });
    expect(profilesSetBy(remove)).toEqual([{ id: app.profile.id, state: 'deleted' }]);
  });

  it('ConnectComplete sets the updated Personal Profile and the new device', async () => {
    const { personal, phone } = await fixtures();
    const record = await logged({ operation: 'ConnectComplete', account: ACCOUNT, personal, device: phone });
    expect(profilesSetBy(record)).toEqual([
      { id: personal.profile.id, state: 'set', value: personal },
      { id: phone.profile.id, state: 'set', value: phone },
    ]);
  });

  it('DeleteAccount names no profile (the caller ends the account’s catalog)', async () => {
    expect(profilesSetBy(await logged({ operation: 'DeleteAccount', account: ACCOUNT }))).toEqual([]);
  });

  it('gives one change per identifier, the last value winning', async () => {
    const { account, phone } = await fixtures();
    // Not a valid record (applyRecord refuses it), but it can be logged bytes; the index must not break.
    const twice: RecordContent = {
      operation: 'CreateAccount',
      account: ACCOUNT,
      master: account.master,
      personal: account.personal,
      devices: [account.adminDevice, phone, account.adminDevice],
    };
    expect(profilesSetBy(twice).map((c) => c.id)).toEqual([
      account.master.profile.id,
      account.personal.profile.id,
      phone.profile.id,
      account.adminDevice.profile.id,
    ]);
  });
});

describe('profileSetBy: the value a record gives one profile', () => {
  it('finds a set profile by its exact identifier, nothing for a deleted or absent one', async () => {
    const { account, app } = await fixtures();
    const create = decodeRecord(encodeRecord(account.create));
    expect(profileSetBy(create, account.personal.profile.id)?.jws).toEqual(account.personal.jws);
    expect(profileSetBy(create, app.profile.id)).toBeUndefined();
    const remove = await logged({
      operation: 'Publish',
      account: ACCOUNT,
      action: 'delete',
      id: app.profile.id,
    });
    expect(profileSetBy(remove, app.profile.id)).toBeUndefined();
  });
});
