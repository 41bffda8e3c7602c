import fc from 'fast-check';
import { fromUtf8, utf8 } from '@cryptomesh/crypto/portable';
import {
  ACCOUNT,
  ADDRESS,
  ADMIN,
  CONTEXT,
  countingRandom,
  forgedDeviceProfile,
  type Device,
  makeAccount,
  NOW,
  ORIGIN,
  PHONE,
  STRANGER,
} from '../test/fixtures';
import {
  applyRecord,
  authoriseRecord,
  buildApplicationProfile,
  buildDeviceProfile,
  buildPersonalProfile,
  decodeRecord,
  encodeRecord,
  recheckEntry,
  recheckLog,
  DEFAULT_MAX_SEAL_DELAY_MS,
  DEFAULT_MAX_SKEW_MS,
  type AuditedAccount,
  type PublishAction,
  type RecheckContext,
  type RecordContent,
  type SignedProfile,
} from '@cryptomesh/mesh';

const random = countingRandom(1000);
const authorise = (content: RecordContent, by: Device = ADMIN, portal = ORIGIN) =>
  authoriseRecord(content, by.signature, { portal, time: NOW, random }).then(encodeRecord);

async function fold(
  entries: Uint8Array[],
  context: RecheckContext = CONTEXT,
): Promise<AuditedAccount | undefined> {
  let account: AuditedAccount | undefined;
  for (const entry of entries) {
    const result = await recheckEntry(account, entry, context);
    if (!result.ok) throw new Error(`${result.code}: ${result.detail}`);
    account = result.account;
  }
  return account;
}

/** Create, connect PHONE, authorise PHONE for the mail application: the state most tests start from. */
async function scenario() {
  const account = await makeAccount(random);
  const personalOf = (
    sequence: number,
    apps: { id: string; signers: Device[] }[] = [],
    devices = [ADMIN, PHONE],
  ) =>
    buildPersonalProfile(
      {
        master: account.master.profile.id,
        sequence,
        devices,
        applications: apps.map((a) => ({
          id: a.id,
          type: 'mail',
          signers: a.signers.map((d) => d.signature),
        })),
      },
      ADMIN.signature,
    );
  const app = (name: string, signer: Device = PHONE, data = {}) =>
    buildApplicationProfile(
      { personal: account.personal.profile.id, type: 'mail', name, public: data },
      signer.signature,
    );
  const phone = await buildDeviceProfile(
    { encryption: PHONE.encryption, description: 'phone' },
    PHONE.signature,
  );
  const mailId = (await app('home')).profile.id;
  const entries = [
    encodeRecord(account.create),
    await authorise({
      operation: 'ConnectComplete',
      account: ACCOUNT,
      personal: await personalOf(1),
      device: phone,
    }),
    await authorise({
      operation: 'Publish',
      account: ACCOUNT,
      action: 'update',
      id: account.personal.profile.id,
      value: await personalOf(2, [{ id: mailId, signers: [PHONE] }]),
    }),
  ];
  const publish = (action: PublishAction, id: string, value?: SignedProfile, by: Device = PHONE) =>
    authorise({ operation: 'Publish', account: ACCOUNT, action, id, ...(value ? { value } : {}) }, by);
  return { account, entries, personalOf, app, mailId, phone, publish };
}

describe('transaction records and the auditor re-check', () => {
  it('re-checks a whole account life from the entries alone, and no entry contains the address', async () => {
    const s = await scenario();
    const home = await s.app('home');
    const entries = [
      ...s.entries,
      await s.publish('create', s.mailId, home),
      await s.publish('update', s.mailId, await s.app('home', PHONE, { Server: 'imap' })),
      await s.publish('delete', s.mailId),
      await s.publish('delete', s.phone.profile.id, undefined, ADMIN),
      await authorise({ operation: 'DeleteAccount', account: ACCOUNT }),
    ];
    const result = await recheckLog(entries, CONTEXT);
    expect(result).toMatchObject({ ok: true });
    const state = result.ok ? result.accounts.get(ACCOUNT)?.state : undefined;
    expect(state?.status).toBe('deleted');
    expect([...(state?.objects.values() ?? [])].every((o) => o.status === 'inactive')).toBe(true);
    for (const entry of entries) {
      const text = fromUtf8(entry);
      expect(text).not.toContain(ADDRESS);
      expect(text.toLowerCase()).not.toContain('alice');
      expect(encodeRecord(decodeRecord(entry))).toEqual(entry); // canonical round trip
    }
  });

  it('tracks the current profiles: after ConnectComplete the phone may sign requests', async () => {
    const s = await scenario();
    const state = (await fold(s.entries))?.state;
    expect(state?.personal.profile.sequence).toBe(2);
    expect(state?.personal.profile.devices.map((d) => d.id)).toContain(s.phone.profile.id);
    expect(state?.objects.get(s.phone.profile.id)?.status).toBe('active');
  });

  type Case = [string, (s: Awaited<ReturnType<typeof scenario>>) => Promise<Uint8Array[]>, string];
  it.each<Case>([
    [
      'create of an existing account',
      async () => [encodeRecord((await makeAccount(random)).create)],
      'account.exists',
    ],
    [
      'create of an existing object',
      async (s) => [
        await s.publish('create', s.mailId, await s.app('home')),
        await s.publish('create', s.mailId, await s.app('home')),
      ],
      'persistence.exists',
    ],
    [
      'update of an undefined object',
      async (s) => [await s.publish('update', s.mailId, await s.app('home'))],
      'persistence.undefined',
    ],
    [
      'delete of an undefined object',
      async (s) => [await s.publish('delete', s.mailId)],
      'persistence.undefined',
    ],
    [
      'update of a deleted object',
      async (s) => [
        await s.publish('create', s.mailId, await s.app('home')),
        await s.publish('delete', s.mailId),
        await s.publish('update', s.mailId, await s.app('home')),
      ],
      'persistence.inactive',
    ],
    [
      'delete of a deleted object',
      async (s) => [
        await s.publish('create', s.mailId, await s.app('home')),
        await s.publish('delete', s.mailId),
        await s.publish('delete', s.mailId),
      ],
      'persistence.inactive',
    ],
    [
      'an application signed by a key not authorised for it',
      async (s) => [await s.publish('create', s.mailId, await s.app('home', ADMIN))],
      'rule.application-signer',
    ],
    [
      'an application the Personal Profile does not list',
      async (s) => {
        const work = await s.app('work');
        return [await s.publish('create', work.profile.id, work)];
      },
      'rule.application-signer',
    ],
    [
      'a request from a device not in the Personal Profile',
      async (s) => [await s.publish('create', s.mailId, await s.app('home'), STRANGER)],
      'request.unknown-device',
    ],
    [
      'a Personal Profile signed by a non-administrator',
      async (s) => [
        await s.publish('update', s.account.personal.profile.id, {
          ...(await s.personalOf(3)),
          ...(await resignPersonal(s, 3)),
        }),
      ],
      'rule.personal-signer',
    ],
    [
      'a Personal Profile whose Sequence does not grow',
      async (s) => [await s.publish('update', s.account.personal.profile.id, await s.personalOf(2), ADMIN)],
      'publish.stale-sequence',
    ],
    [
      'deleting the Master Profile with Publish',
      async (s) => [await s.publish('delete', s.account.master.profile.id, undefined, ADMIN)],
      'publish.not-allowed',
    ],
    [
      'a value under another identifier',
      async (s) => [await s.publish('create', s.phone.profile.id, await s.app('home'))],
      'publish.id-mismatch',
    ],
    [
      'a non-administrator approving a connection',
      async (s) => [
        await authorise(
          {
            operation: 'ConnectComplete',
            account: ACCOUNT,
            personal: await s.personalOf(3, [], [ADMIN, PHONE, STRANGER]),
            device: await buildDeviceProfile(
              { encryption: STRANGER.encryption, description: 'x' },
              STRANGER.signature,
            ),
          },
          PHONE,
        ),
      ],
      'request.not-administrator',
    ],
    [
      'a connection whose device the Personal Profile does not list',
      async (s) => [
        await authorise({
          operation: 'ConnectComplete',
          account: ACCOUNT,
          personal: await s.personalOf(3),
          device: await buildDeviceProfile(
            { encryption: STRANGER.encryption, description: 'x' },
            STRANGER.signature,
          ),
        }),
      ],
      'publish.device-not-listed',
    ],
    [
      'a transaction after DeleteAccount',
      async (s) => [
        await authorise({ operation: 'DeleteAccount', account: ACCOUNT }),
        await s.publish('create', s.mailId, await s.app('home')),
      ],
      'account.deleted',
    ],
    [
      'DeleteAccount by a non-administrator',
      async () => [await authorise({ operation: 'DeleteAccount', account: ACCOUNT }, PHONE)],
      'request.not-administrator',
    ],
    [
      'a tampered object identifier',
      async (s) => [
        utf8(
          fromUtf8(await s.publish('delete', s.phone.profile.id, undefined, ADMIN)).replace(
            s.phone.profile.id,
            s.mailId,
          ),
        ),
      ],
      'request.mismatch',
    ],
    [
      'a tampered authorisation signature',
      async (s) => {
        const a = decodeRecord(await s.publish('create', s.mailId, await s.app('home')));
        const b = decodeRecord(await s.publish('create', s.mailId, await s.app('home')));
        return [
          encodeRecord({ ...a, authorisation: { ...a.authorisation, signature: b.authorisation.signature } }),
        ];
      },
      'request.bad-signature',
    ],
    [
      'a tampered signed value',
      async (s) => {
        const good = decodeRecord(await s.publish('create', s.mailId, await s.app('home')));
        const other = await s.app('home', PHONE, { Evil: true });
        const value = {
          ...other,
          jws: { ...other.jws, signature: good.operation === 'Publish' ? good.value!.jws.signature : '' },
        };
        return [await s.publish('create', s.mailId, value)];
      },
      'profile.bad-signature',
    ],
    [
      'bytes that are not canonical JSON',
      async (s) => [utf8(` ${fromUtf8(await s.publish('delete', s.mailId))}`)],
      'record.malformed',
    ],
  ])('refuses %s', async (_name, build, code) => {
    const s = await scenario();
    const state = await fold(s.entries);
    const extra = await build(s);
    const result = await recheckLog(extra, CONTEXT, new Map([[ACCOUNT, state!]]));
    expect(result).toMatchObject({ ok: false, index: extra.length - 1, code });
  });

  it('refuses a record of another account, and any record of an unknown account', async () => {
    const s = await scenario();
    const state = (await fold(s.entries))?.state;
    const { create } = await makeAccount(random);
    const other = decodeRecord(encodeRecord(create));
    await expect(applyRecord(state, { ...other, account: 'MA2G-OTHER' }, CONTEXT)).rejects.toMatchObject({
      code: 'record.wrong-account',
    });
    expect(await recheckEntry(undefined, await s.publish('delete', s.mailId), CONTEXT)).toMatchObject({
      ok: false,
      code: 'account.unknown',
    });
  });

  it('the auditor applies the clock of the seal: the skew either way, plus the sealing delay into the past', async () => {
    const s = await scenario();
    const skew = DEFAULT_MAX_SKEW_MS;
    const delay = DEFAULT_MAX_SEAL_DELAY_MS;
    const at = (sealTimeMs: number, window: Partial<RecheckContext> = {}) =>
      recheckEntry(undefined, s.entries[0]!, { ...CONTEXT, sealTimeMs, ...window });
    // Within [request − skew, request + skew + delay]: accepted (the edges included).
    for (const sealTimeMs of [NOW - skew, NOW, NOW + skew, NOW + skew + delay])
      expect(await at(sealTimeMs)).toMatchObject({ ok: true });
    expect(await at(NOW + skew + delay + 1)).toMatchObject({ ok: false, code: 'request.stale' });
    // The sealing delay gives no slack the other way: a request dated after its seal.
    expect(await at(NOW - skew - 1)).toMatchObject({ ok: false, code: 'request.future' });
    expect(await at(NOW + 61_000, { maxSkewMs: 60_000, maxSealDelayMs: 0 })).toMatchObject({
      ok: false,
      code: 'request.stale',
    });
  });

  it('accepts an entry sealed 30 minutes after its request, and calls one sealed 2 hours after stale', async () => {
    const s = await scenario();
    // An honest portal whose log-signer was down for half an hour: no accusation.
    expect(
      await recheckEntry(undefined, s.entries[0]!, { ...CONTEXT, sealTimeMs: NOW + 30 * 60_000 }),
    ).toMatchObject({ ok: true });
    // Beyond the hour of sealing delay the request is stale, as a re-logged old request is.
    expect(
      await recheckEntry(undefined, s.entries[0]!, { ...CONTEXT, sealTimeMs: NOW + 2 * 3_600_000 }),
    ).toMatchObject({ ok: false, code: 'request.stale' });
  });

  it('refuses a re-logged older update: an (account, nonce) pair appears once in a log', async () => {
    const s = await scenario();
    const home = await s.app('home');
    const created = await s.publish('create', s.mailId, home);
    const v1 = await s.publish('update', s.mailId, await s.app('home', PHONE, { Server: 'pop' }));
    const v2 = await s.publish('update', s.mailId, await s.app('home', PHONE, { Server: 'imap' }));
    const context = { ...CONTEXT, sealTimeMs: NOW };
    const life = [...s.entries, created, v1, v2];
    const result = await recheckLog([...life, v1], context);
    expect(result).toMatchObject({ ok: false, index: life.length, code: 'request.replayed' });
    // The same update signed anew passes every rule: only the nonce memory refuses the re-logged one.
    const fresh = await s.publish('update', s.mailId, await s.app('home', PHONE, { Server: 'pop' }));
    expect(await recheckLog([...life, fresh], context)).toMatchObject({ ok: true });
  });

  it('refuses a resurrected account: CreateAccount after DeleteAccount, even freshly signed', async () => {
    const s = await scenario();
    const deleted = await authorise({ operation: 'DeleteAccount', account: ACCOUNT });
    const again = (await makeAccount(random)).create;
    const result = await recheckLog([...s.entries, deleted, encodeRecord(again)], CONTEXT);
    expect(result).toMatchObject({ ok: false, index: s.entries.length + 1, code: 'account.deleted' });
    // The re-logged original CreateAccount is refused the same way.
    expect(await recheckLog([...s.entries, deleted, s.entries[0]!], CONTEXT)).toMatchObject({
      ok: false,
      code: 'account.deleted',
    });
  });

  it('remembers only the nonces a later seal could still carry: the whole past window of the newest seal', async () => {
    const s = await scenario();
    const account = await fold(s.entries, { ...CONTEXT, sealTimeMs: NOW });
    expect(account?.nonces.size).toBe(s.entries.length);
    const window = DEFAULT_MAX_SKEW_MS + DEFAULT_MAX_SEAL_DELAY_MS;
    const deleteAt = (time: number) =>
      authoriseRecord({ operation: 'DeleteAccount', account: ACCOUNT }, ADMIN.signature, {
        portal: ORIGIN,
        time,
        random,
      }).then(encodeRecord);
    // A seal within the past window of the requests (a late seal): a replay could still pass
    // freshness there, so their nonces are all still remembered.
    const within = await recheckEntry(account, await deleteAt(NOW + window), {
      ...CONTEXT,
      sealTimeMs: NOW + window,
    });
    expect(within.ok && within.account.nonces.size).toBe(s.entries.length + 1);
    // A seal one whole window after the requests: their nonces can no longer pass freshness, so they go.
    const sealTimeMs = NOW + window + 1;
    const result = await recheckEntry(account, await deleteAt(sealTimeMs), { ...CONTEXT, sealTimeMs });
    expect(result.ok && [...result.account.nonces.values()]).toEqual([sealTimeMs]);
    // And a forgotten request re-logged under that seal is still refused, by freshness.
    const replay = await recheckEntry(account, s.entries[2]!, { ...CONTEXT, sealTimeMs });
    expect(replay).toMatchObject({ ok: false, code: 'request.stale' });
  });

  it('the gateway path applies the clock through applyRecord too', async () => {
    const s = await scenario();
    const record = decodeRecord(s.entries[0]!);
    await expect(
      applyRecord(undefined, record, CONTEXT, { now: NOW + 600_000, maxSkewMs: 60_000 }),
    ).rejects.toMatchObject({ code: 'request.stale' });
  });

  it('refuses a logged request bound to another portal: a replay from another log (issue #14, hole 2)', async () => {
    const s = await scenario();
    const state = await fold(s.entries);
    // The account's own administrator, signing for beta: valid there, a replay here.
    const elsewhere = await authorise(
      { operation: 'DeleteAccount', account: ACCOUNT },
      ADMIN,
      'beta.test/log',
    );
    expect(await recheckEntry(state, elsewhere, CONTEXT)).toMatchObject({
      ok: false,
      code: 'request.wrong-portal',
    });
    expect(await recheckEntry(state, elsewhere, { origin: 'beta.test/log' })).toMatchObject({ ok: true });
    const result = await recheckLog([...s.entries, elsewhere], CONTEXT);
    expect(result).toMatchObject({ ok: false, index: s.entries.length, code: 'request.wrong-portal' });
  });

  it('refuses a Device Profile whose key is the identity point, with a forged signature (issue #14, hole 5)', async () => {
    const s = await scenario();
    const state = await fold(s.entries);
    const forged = forgedDeviceProfile();
    const entry = await s.publish('create', forged.profile.id, forged);
    expect(await recheckEntry(state, entry, CONTEXT)).toMatchObject({ ok: false, code: 'profile.malformed' });
  });

  it('round-trips random runs of application publishes: build → encode → decode → recheck = reference model', async () => {
    const s = await scenario();
    const start = await fold(s.entries);
    const ops = fc.array(
      fc.record({
        action: fc.constantFrom<PublishAction>('create', 'update', 'delete'),
        name: fc.constantFrom('home', 'work'),
        authorised: fc.boolean(),
      }),
      { minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(ops, async (run) => {
        const model = new Map<string, 'active' | 'inactive'>();
        let state = start!;
        for (const { action, name, authorised } of run) {
          const value = action === 'delete' ? undefined : await s.app(name, authorised ? PHONE : STRANGER);
          const id = value?.profile.id ?? (await s.app(name)).profile.id;
          const entry = await s.publish(action, id, value);
          const before = model.get(id);
          // applyRecord's order: authorisation, then the signing rule of the value, then the persistence model.
          const expected =
            action !== 'delete' && (name === 'work' || !authorised)
              ? 'rule.application-signer'
              : action === 'create'
                ? before === undefined
                  ? 'ok'
                  : 'persistence.exists'
                : before === undefined
                  ? 'persistence.undefined'
                  : before === 'inactive'
                    ? 'persistence.inactive'
                    : 'ok';
          const result = await recheckEntry(state, entry, CONTEXT);
          expect(result.ok ? 'ok' : result.code).toBe(expected);
          if (result.ok) {
            state = result.account;
            model.set(id, action === 'delete' ? 'inactive' : 'active');
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});

/** The next Personal Profile, signed by PHONE (a device, not an administrator). */
async function resignPersonal(s: Awaited<ReturnType<typeof scenario>>, sequence: number) {
  return buildPersonalProfile(
    { master: s.account.master.profile.id, sequence, devices: [ADMIN, PHONE] },
    PHONE.signature,
  );
}
