import { randomBytes } from 'node:crypto';
import { generateKeyPair, keyUdf, toBase64Url } from '@cryptomesh/crypto';
import { decodeRecord, readProfileOf, recheckLog } from '@cryptomesh/mesh';
import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { queryDatabase } from '../support/db-snapshot';
import {
  connectNonce,
  jws,
  newDevice,
  post,
  TEST_PORTAL_ORIGIN,
  TestAccount,
  type Answer,
  type TestDevice,
} from '../support/mesh-client';
import { startGateway } from '../support/test-gateway';

/**
 * The acceptance's scripted client session (issue #5), against the real gateway on PostgreSQL:
 * every step through the protocol, then every queued log entry re-checked from its bytes alone.
 */
describe('gateway: a client session', () => {
  let db: TestDatabase;
  let gateway: RunningService;
  let alice: TestAccount;
  let phone: TestDevice;
  let tablet: TestDevice;

  beforeAll(async () => {
    db = await createTestDatabase('gwsession');
    gateway = await startGateway(db.url);
    alice = await TestAccount.create('Alice@Example.com');
    phone = await newDevice('phone');
    tablet = await newDevice('tablet');
  });

  afterAll(async () => {
    await gateway?.app.close();
    await db?.drop();
  });

  const send = (name: string, body: Record<string, unknown>) => post(gateway.url, name, body);

  function ok(answer: Answer, name: string): Record<string, unknown> {
    expect({
      status: answer.status,
      member: answer.member,
      error:
        answer.fields.Error === undefined
          ? undefined
          : `${JSON.stringify(answer.fields.Error)}: ${JSON.stringify(answer.fields.StatusDescription)}`,
    }).toEqual({
      status: 200,
      member: `${name}Response`,
      error: undefined,
    });
    expect(answer.fields).toMatchObject({ Status: 200, StatusDescription: 'OK' });
    return answer.fields;
  }

  it('validates a free address', async () => {
    expect(
      ok(await send('ValidateAccount', { Account: 'alice@example.com' }), 'ValidateAccount'),
    ).toMatchObject({
      Account: 'alice@example.com',
      AccountUdf: alice.udf,
      Valid: true,
      Available: true,
    });
    expect(ok(await send('ValidateAccount', { Account: 'no at sign' }), 'ValidateAccount')).toMatchObject({
      Valid: false,
      Available: false,
    });
  });

  it('creates an account with its master, personal and device profiles', async () => {
    const fields = ok(await send('CreateAccount', await alice.createAccount()), 'CreateAccount');
    expect(fields).toMatchObject({
      Account: 'alice@example.com',
      AccountUdf: alice.udf,
      MasterId: alice.master.profile.id,
      PersonalId: alice.personal.profile.id,
    });
    expect(
      ok(await send('ValidateAccount', { Account: 'alice@example.com' }), 'ValidateAccount'),
    ).toMatchObject({
      Available: false,
    });
  });

  it('publishes an application profile (after authorising it in the personal profile)', async () => {
    const app = await alice.application('mail', 'home', { Address: 'imap.example.net' });
    const personal = await alice.nextPersonal({ applications: [app.entry] });
    ok(await send('Publish', await alice.publish('update', personal)), 'Publish');
    alice.adopt(personal, alice.devices, [app.entry]);
    expect(ok(await send('Publish', await alice.publish('create', app.profile)), 'Publish')).toMatchObject({
      Id: app.profile.profile.id,
      State: 'active',
    });

    const byId = ok(
      await send('Get', await alice.authenticated('Get', { Id: app.profile.profile.id })),
      'Get',
    );
    expect(byId).toEqual(
      expect.objectContaining({ Id: app.profile.profile.id, Kind: 'application', Value: jws(app.profile) }),
    );
    const uri = `mmm:${app.profile.profile.id}:alice@example.com`;
    expect(ok(await send('Get', await alice.authenticated('Get', { Id: uri })), 'Get').Value).toEqual(
      jws(app.profile),
    );
  });

  it('connects a second device: start, pending, accept, status', async () => {
    const phoneNonce = connectNonce();
    const started = ok(
      await send('ConnectStart', {
        Account: 'alice@example.com',
        Device: jws(phone.profile),
        Nonce: phoneNonce,
      }),
      'ConnectStart',
    );
    const requestId = started.RequestId as string;
    expect(started.DeviceId).toBe(phone.profile.profile.id);
    // The portal relays the device's nonce and computes no witness (issue #14, hole 1).
    expect(started.Nonce).toBe(phoneNonce);
    expect(started.Witness).toBeUndefined();

    const polled = ok(
      await send(
        'ConnectStatus',
        await alice.authenticated('ConnectStatus', { RequestId: requestId }, phone),
      ),
      'ConnectStatus',
    );
    expect(polled).toMatchObject({ Result: 'pending' });
    expect(polled.Personal).toBeUndefined();

    const pending = ok(
      await send('ConnectPending', await alice.authenticated('ConnectPending')),
      'ConnectPending',
    );
    expect(pending.Requests).toEqual([
      {
        RequestId: requestId,
        DeviceId: phone.profile.profile.id,
        Device: jws(phone.profile),
        Nonce: phoneNonce,
        Created: expect.any(Number) as unknown,
      },
    ]);

    const personal = await alice.nextPersonal({ devices: [...alice.devices, phone] });
    const accepted = ok(
      await send('ConnectComplete', await alice.acceptConnection(requestId, phone, personal)),
      'ConnectComplete',
    );
    expect(accepted).toMatchObject({ Result: 'accepted', Personal: jws(personal) });
    alice.adopt(personal, [...alice.devices, phone], alice.applications);

    const done = ok(
      await send(
        'ConnectStatus',
        await alice.authenticated('ConnectStatus', { RequestId: requestId }, phone),
      ),
      'ConnectStatus',
    );
    expect(done).toMatchObject({ Result: 'accepted', Personal: jws(personal), Master: jws(alice.master) });
    expect(readProfileOf(done.Personal, 'personal').profile.devices.map((d) => d.id)).toContain(
      phone.profile.profile.id,
    );

    // The new device now authenticates as a device of the account.
    expect(ok(await send('Status', await alice.authenticated('Status', {}, phone)), 'Status')).toMatchObject({
      AccountStatus: 'active',
      Personal: jws(personal),
      PendingConnections: 0,
    });
  });

  it('rejects a third device', async () => {
    const started = ok(
      await send('ConnectStart', {
        Account: 'alice@example.com',
        Device: jws(tablet.profile),
        Nonce: connectNonce(),
      }),
      'ConnectStart',
    );
    const requestId = started.RequestId as string;
    expect(
      ok(
        await send(
          'ConnectComplete',
          await alice.authenticated('ConnectComplete', { RequestId: requestId, Accept: false }),
        ),
        'ConnectComplete',
      ),
    ).toMatchObject({ Result: 'rejected' });
    const polled = ok(
      await send(
        'ConnectStatus',
        await alice.authenticated('ConnectStatus', { RequestId: requestId }, tablet),
      ),
      'ConnectStatus',
    );
    expect(polled).toMatchObject({ Result: 'rejected' });
    expect(polled.Personal).toBeUndefined();
  });

  it('deletes a profile', async () => {
    const appId = alice.applications[0]!.id;
    expect(ok(await send('Publish', await alice.publish('delete', appId, phone)), 'Publish')).toMatchObject({
      Id: appId,
      State: 'inactive',
    });
    const gone = await send('Get', await alice.authenticated('Get', { Id: appId }));
    expect(gone.status).toBe(404);
    expect(gone.fields).toMatchObject({ Status: 404, Error: 'not-found' });
  });

  it('escrows a blob and fetches it back without authentication', async () => {
    const key = keyUdf('X25519', generateKeyPair('X25519').publicKey);
    const blob = toBase64Url(randomBytes(300));
    expect(
      ok(
        await send('EscrowPut', await alice.authenticated('EscrowPut', { Key: key, Blob: blob })),
        'EscrowPut',
      ),
    ).toEqual(expect.objectContaining({ Key: key }));
    expect(ok(await send('EscrowGet', { Key: key }), 'EscrowGet')).toMatchObject({ Key: key, Blob: blob });
    const rows = await queryDatabase<{ row: string }>(
      db.url,
      'SELECT row_to_json(e)::text AS row FROM escrow_blobs e',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).not.toContain(alice.udf);
  });

  it('reports the account status', async () => {
    const status = ok(await send('Status', await alice.authenticated('Status')), 'Status');
    expect(status).toMatchObject({
      Account: 'alice@example.com',
      AccountUdf: alice.udf,
      Master: jws(alice.master),
    });
    expect(status.Objects).toEqual(
      expect.arrayContaining([
        { Id: alice.master.profile.id, Kind: 'master', State: 'active' },
        { Id: alice.personal.profile.id, Kind: 'personal', State: 'active' },
        { Id: phone.profile.profile.id, Kind: 'device', State: 'active' },
        { Id: alice.applications[0]!.id, Kind: 'application', State: 'deleted' },
      ]),
    );
  });

  it('queued every logged transaction, in order, re-checkable from the entries alone, naming no address', async () => {
    const rows = await queryDatabase<{ entry: Buffer }>(db.url, 'SELECT entry FROM log_queue ORDER BY seq');
    const entries = rows.map((r) => new Uint8Array(r.entry));
    expect(entries.map((e) => decodeRecord(e).operation)).toEqual([
      'CreateAccount',
      'Publish',
      'Publish',
      'ConnectComplete',
      'Publish',
    ]);
    const checked = await recheckLog(entries, { origin: TEST_PORTAL_ORIGIN });
    expect(checked.ok).toBe(true);
    for (const entry of entries) {
      const text = new TextDecoder().decode(entry).toLowerCase();
      expect(text).not.toContain('alice@example.com');
      expect(text).not.toContain('example.com');
    }
  });

  it('deletes the account; its address stays assigned', async () => {
    ok(await send('DeleteAccount', await alice.deleteAccount()), 'DeleteAccount');
    const status = await send('Status', await alice.authenticated('Status'));
    expect(status.fields).toMatchObject({ Status: 404, Error: 'account.unknown' });
    expect(
      ok(await send('ValidateAccount', { Account: 'alice@example.com' }), 'ValidateAccount'),
    ).toMatchObject({
      Available: false,
    });
    const again = await TestAccount.create('alice@example.com');
    expect((await send('CreateAccount', await again.createAccount())).fields).toMatchObject({
      Status: 409,
      Error: 'account.exists',
    });
    const rows = await queryDatabase<{ entry: Buffer }>(db.url, 'SELECT entry FROM log_queue ORDER BY seq');
    expect(decodeRecord(new Uint8Array(rows.at(-1)!.entry)).operation).toBe('DeleteAccount');
    expect(
      (
        await recheckLog(
          rows.map((r) => new Uint8Array(r.entry)),
          { origin: TEST_PORTAL_ORIGIN },
        )
      ).ok,
    ).toBe(true);
  });
});
