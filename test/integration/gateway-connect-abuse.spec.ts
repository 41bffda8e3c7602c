import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import {
  connectNonce,
  jws,
  newDevice,
  post,
  TestAccount,
  type Answer,
  type Fields,
  type TestDevice,
} from '../support/mesh-client';
import { startGateway } from '../support/test-gateway';

/**
 * Issue #15: `ConnectStart` needs no authentication, so nobody may shut an account out of new
 * devices with it. One client address (behind the trusted proxy: the address X-Forwarded-For names;
 * an IPv6 address by its /64) holds at most MAX_PENDING_CONNECTIONS_PER_ADDRESS of an account's
 * requests; the owner (an administrator device) rejects every pending request at once with
 * ConnectClear, and the addresses it rejected cannot take the places again, so the real device gets
 * through.
 */
describe('gateway: ConnectStart cannot shut an account out of new devices', () => {
  let db: TestDatabase;
  let gateway: RunningService;

  beforeAll(async () => {
    db = await createTestDatabase('gwconnabuse');
    gateway = await startGateway(db.url, {
      TRUSTED_PROXIES: '127.0.0.1,::1',
      MAX_PENDING_CONNECTIONS: '4',
      MAX_PENDING_CONNECTIONS_PER_ADDRESS: '2',
    });
  });

  afterAll(async () => {
    await gateway?.app.close();
    await db?.drop();
  });

  /** POSTs as the trusted proxy would for a client at `from`. */
  async function postFrom(from: string, name: string, body: Fields): Promise<Answer> {
    const res = await fetch(`${gateway.url}/.well-known/mmm/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ [`${name}Request`]: body }),
    });
    const json = (await res.json()) as Record<string, Fields>;
    const [member, fields] = Object.entries(json)[0] ?? ['', {}];
    return { status: res.status, member, fields, headers: res.headers };
  }

  const start = async (account: TestAccount, from: string, device?: TestDevice) =>
    postFrom(from, 'ConnectStart', {
      Account: account.address,
      Device: jws((device ?? (await newDevice('a device'))).profile),
      Nonce: connectNonce(),
    });

  async function pendingIds(account: TestAccount): Promise<string[]> {
    const answer = await post(gateway.url, 'ConnectPending', await account.authenticated('ConnectPending'));
    expect(answer.status).toBe(200);
    return (answer.fields.Requests as Array<{ RequestId: string }>).map((r) => r.RequestId).sort();
  }

  async function newAccount(address: string): Promise<TestAccount> {
    const account = await TestAccount.create(address);
    expect((await post(gateway.url, 'CreateAccount', await account.createAccount())).status).toBe(200);
    return account;
  }

  function expectLimited(answer: Answer, reason: string): void {
    expect(answer.status).toBe(429);
    expect(answer.fields).toMatchObject({ Error: 'rate.limited', Reason: reason });
  }

  it('refuses one address beyond its cap (429 connect.address-limit, nothing stored); another address still gets through', async () => {
    const alice = await newAccount('alice@example.com');
    const first = await start(alice, '192.0.2.1');
    const second = await start(alice, '192.0.2.1');
    expect([first.status, second.status]).toEqual([200, 200]);
    expectLimited(await start(alice, '192.0.2.1'), 'connect.address-limit');
    expect(await pendingIds(alice)).toEqual([first.fields.RequestId, second.fields.RequestId].sort());
    // One IPv6 /64 is one source, whatever address of it is used.
    expect((await start(alice, '2001:db8:1:2::1')).status).toBe(200);
    expect((await start(alice, '2001:db8:1:2::ffff')).status).toBe(200);
    expectLimited(await start(alice, '2001:db8:1:2:abcd::7'), 'connect.address-limit');
    expect(await pendingIds(alice)).toHaveLength(4);

    const bob = await newAccount('bob@example.com');
    const other = await start(bob, '192.0.2.1');
    expect(other.status).toBe(200); // the cap is per account: 192.0.2.1 may still ask bob
    const carol = await newAccount('carol@example.com');
    await start(carol, '192.0.2.1');
    await start(carol, '192.0.2.1');
    const elsewhere = await start(carol, '192.0.2.2');
    expect(elsewhere.status).toBe(200);
    expect(await pendingIds(carol)).toHaveLength(3);
  });

  it('an account filled from several addresses: the owner clears it, those addresses stay refused, and the real device connects', async () => {
    const dave = await newAccount('dave@example.com');
    const attackers = ['198.51.100.1', '198.51.100.2'];
    for (const from of attackers)
      for (let i = 0; i < 2; i++) expect((await start(dave, from)).status).toBe(200);
    const phone = await newDevice('dave phone');
    const real = '203.0.113.9';
    expectLimited(await start(dave, real, phone), 'connect.account-limit');
    expect(await pendingIds(dave)).toHaveLength(4);

    const cleared = await post(gateway.url, 'ConnectClear', await dave.authenticated('ConnectClear'));
    expect(cleared.status).toBe(200);
    expect(cleared.fields).toMatchObject({ Account: dave.address, Rejected: 4 });
    expect(await pendingIds(dave)).toEqual([]);
    // The addresses whose requests were rejected cannot take the places again.
    for (const from of attackers) expectLimited(await start(dave, from), 'connect.address-limit');
    expect(await pendingIds(dave)).toEqual([]);

    const asked = await start(dave, real, phone);
    expect(asked.status).toBe(200);
    const requestId = asked.fields.RequestId as string;
    expect(await pendingIds(dave)).toEqual([requestId]);
    const personal = await dave.nextPersonal({ devices: [...dave.devices, phone] });
    const accepted = await post(
      gateway.url,
      'ConnectComplete',
      await dave.acceptConnection(requestId, phone, personal),
    );
    expect(accepted.status).toBe(200);
    expect(accepted.fields).toMatchObject({ Result: 'accepted' });
    // Clearing an account with nothing pending rejects nothing.
    const again = await post(gateway.url, 'ConnectClear', await dave.authenticated('ConnectClear'));
    expect(again.fields).toMatchObject({ Rejected: 0 });
  });

  it('only an administrator of the account clears: a device that is not one, another account and an anonymous caller are refused and nothing changes', async () => {
    const erin = await newAccount('erin@example.com');
    const tablet = await newDevice('erin tablet');
    const asked = await start(erin, '192.0.2.50', tablet);
    const personal = await erin.nextPersonal({ devices: [...erin.devices, tablet] });
    expect(
      (
        await post(
          gateway.url,
          'ConnectComplete',
          await erin.acceptConnection(asked.fields.RequestId as string, tablet, personal),
        )
      ).status,
    ).toBe(200);
    erin.adopt(personal, [...erin.devices, tablet], []);
    const waiting = await start(erin, '192.0.2.51');
    expect(waiting.status).toBe(200);

    // The tablet is a device of the account, but not an administrator.
    const byTablet = await post(
      gateway.url,
      'ConnectClear',
      await erin.authenticated('ConnectClear', {}, tablet),
    );
    expect(byTablet.status).toBe(403);
    expect(byTablet.fields).toMatchObject({ Error: 'auth.not-administrator' });
    const stranger = await newAccount('frank@example.com');
    const byStranger = await post(
      gateway.url,
      'ConnectClear',
      await stranger.authenticated('ConnectClear', { Account: erin.address }),
    );
    expect(byStranger.status).toBe(401);
    const anonymous = await post(gateway.url, 'ConnectClear', { Account: erin.address });
    expect(anonymous.status).toBe(401);
    expect(anonymous.fields).toMatchObject({ Error: 'auth.missing' });
    expect(await pendingIds(erin)).toEqual([waiting.fields.RequestId]);
  });
});
