import { fromUtf8 } from '@cryptomesh/crypto/portable';
import {
  ACCOUNT,
  ADDRESS,
  ADMIN,
  CONTEXT,
  countingRandom,
  type Device,
  makeAccount,
  NOW,
  ORIGIN,
  PHONE,
} from '../test/fixtures';
import {
  applyRecord,
  authoriseRecord,
  buildDeviceProfile,
  buildPersonalProfile,
  decodeRecord,
  encodeRecord,
  isMeshError,
  parseRecord,
  profilesSetBy,
  recheckEntry,
  recheckLog,
  recordEndsAccount,
  type RecordContent,
} from '@cryptomesh/mesh';

/**
 * MoveAccount (issue #14, hole 6; federation.md "Which value is current"): the signed record that
 * closes an account at the portal it leaves. Only an administrator of the account can sign it, so the
 * old portal cannot forge one; after it every record of the account in that log is refused — by the
 * gateway and by every auditor re-checking the log — and it ends the account's profiles there.
 */
const random = countingRandom(7000);
const NEW_HOME = 'beta.example/log';
const authorise = (content: RecordContent, by: Device = ADMIN) =>
  authoriseRecord(content, by.signature, { portal: ORIGIN, time: NOW, random });

/** An account with PHONE connected (not an administrator). */
async function connected() {
  const account = await makeAccount(random);
  const personal = await buildPersonalProfile(
    { master: account.master.profile.id, sequence: 1, devices: [ADMIN, PHONE] },
    ADMIN.signature,
  );
  const phone = await buildDeviceProfile(
    { encryption: PHONE.encryption, description: 'phone' },
    PHONE.signature,
  );
  const connect = await authorise({
    operation: 'ConnectComplete',
    account: ACCOUNT,
    personal,
    device: phone,
  });
  return { account, personal, phone, entries: [encodeRecord(account.create), encodeRecord(connect)] };
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isMeshError(error)) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('MoveAccount: closing an account at the portal it leaves', () => {
  it('is a logged record naming the new home by origin, canonical and without the address', async () => {
    const move = await authorise({ operation: 'MoveAccount', account: ACCOUNT, to: NEW_HOME });
    const entry = encodeRecord(move);
    expect(decodeRecord(entry)).toMatchObject({ operation: 'MoveAccount', account: ACCOUNT, to: NEW_HOME });
    expect(encodeRecord(decodeRecord(entry))).toEqual(entry);
    expect(fromUtf8(entry)).not.toContain(ADDRESS);
    expect(profilesSetBy(move)).toEqual([]);
    expect(recordEndsAccount(move)).toBe(true);
    expect(recordEndsAccount(decodeRecord(entry))).toBe(true);
  });

  it.each([
    ['no To', {}],
    ['an empty To', { To: '' }],
    ['a To with white space', { To: 'beta.example/log\n6' }],
    ['a To that is not a string', { To: 7 }],
    ['an extra member', { To: NEW_HOME, Personal: {} }],
  ])('refuses a MoveAccount record with %s (record.malformed)', async (_, members) => {
    const move = await authorise({ operation: 'MoveAccount', account: ACCOUNT, to: NEW_HOME });
    const statement = Object.fromEntries(Object.entries(move.statement).filter(([k]) => k !== 'To'));
    let code: string | undefined;
    try {
      parseRecord({ ...statement, ...members, Authorisation: { ...move.authorisation } });
    } catch (error) {
      code = isMeshError(error) ? error.code : String(error);
    }
    expect(code).toBe('record.malformed');
  });

  it('closes the account: every object ends, and every later record is refused account.moved', async () => {
    const s = await connected();
    const result = await recheckLog(s.entries, CONTEXT);
    expect(result.ok).toBe(true);
    const before = result.ok ? result.accounts.get(ACCOUNT)?.state : undefined;
    const moved = await applyRecord(
      before,
      await authorise({ operation: 'MoveAccount', account: ACCOUNT, to: NEW_HOME }),
      CONTEXT,
    );
    expect(moved).toMatchObject({ status: 'moved', movedTo: NEW_HOME });
    expect([...moved.objects.values()].every((o) => o.status === 'inactive')).toBe(true);

    // The device removed after the move (PHONE here) — or any device — can no longer act there.
    const next = await buildPersonalProfile(
      { master: s.account.master.profile.id, sequence: 2, devices: [ADMIN, PHONE] },
      ADMIN.signature,
    );
    const update = {
      operation: 'Publish',
      account: ACCOUNT,
      action: 'update',
      id: next.profile.id,
      value: next,
    } as const;
    expect(await code(applyRecord(moved, await authorise(update, PHONE), CONTEXT))).toBe('account.moved');
    expect(await code(applyRecord(moved, await authorise(update, ADMIN), CONTEXT))).toBe('account.moved');
    expect(
      await code(
        applyRecord(moved, await authorise({ operation: 'DeleteAccount', account: ACCOUNT }), CONTEXT),
      ),
    ).toBe('account.moved');
    expect(
      await code(
        applyRecord(
          moved,
          await authorise({ operation: 'MoveAccount', account: ACCOUNT, to: 'x/log' }),
          CONTEXT,
        ),
      ),
    ).toBe('account.moved');
    // Nor is it created again in the log it left.
    expect(await code(applyRecord(moved, s.account.create, CONTEXT))).toBe('account.moved');
  });

  it('is signed by an administrator device: a plain device, or a stranger, cannot close the account', async () => {
    const s = await connected();
    const result = await recheckLog(s.entries, CONTEXT);
    const state = result.ok ? result.accounts.get(ACCOUNT)?.state : undefined;
    const byPhone = await authorise({ operation: 'MoveAccount', account: ACCOUNT, to: NEW_HOME }, PHONE);
    expect(await code(applyRecord(state, byPhone, CONTEXT))).toBe('request.not-administrator');
  });

  it('an auditor re-checking the log refuses any record logged after the move', async () => {
    const s = await connected();
    const move = encodeRecord(await authorise({ operation: 'MoveAccount', account: ACCOUNT, to: NEW_HOME }));
    const after = encodeRecord(
      await authorise({
        operation: 'Publish',
        account: ACCOUNT,
        action: 'update',
        id: s.personal.profile.id,
        value: await buildPersonalProfile(
          { master: s.account.master.profile.id, sequence: 2, devices: [ADMIN] },
          ADMIN.signature,
        ),
      }),
    );
    const closed = await recheckLog([...s.entries, move], CONTEXT);
    expect(closed.ok).toBe(true);
    expect(await recheckLog([...s.entries, move, after], CONTEXT)).toMatchObject({
      ok: false,
      index: 3,
      code: 'account.moved',
    });
    const state = closed.ok ? closed.accounts.get(ACCOUNT) : undefined;
    expect(await recheckEntry(state, after, CONTEXT)).toMatchObject({ ok: false, code: 'account.moved' });
  });
});
