import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { connectNonce, jws, newDevice, post, TestAccount } from '../support/mesh-client';
import { startGateway } from '../support/test-gateway';

/**
 * Anonymous ConnectStarts are capped per account (MAX_PENDING_CONNECTIONS) and a request still
 * pending after CONNECT_REQUEST_TTL_MS is dropped, so abandoned or hostile requests cannot keep a
 * real device out for ever.
 */
describe('gateway: pending connection requests are capped and expire', () => {
  let db: TestDatabase;
  let gateway: RunningService;

  beforeAll(async () => {
    db = await createTestDatabase('gwexpiry');
    gateway = await startGateway(db.url, {
      MAX_PENDING_CONNECTIONS: '2',
      // The per-address cap (gateway-connect-abuse.spec.ts) out of the way: this is the account's cap.
      MAX_PENDING_CONNECTIONS_PER_ADDRESS: '10',
      CONNECT_REQUEST_TTL_MS: '1000',
    });
  });

  afterAll(async () => {
    await gateway?.app.close();
    await db?.drop();
  });

  it('refuses a request beyond the cap, then accepts one once the old ones expired', async () => {
    const alice = await TestAccount.create('alice@example.com');
    expect((await post(gateway.url, 'CreateAccount', await alice.createAccount())).status).toBe(200);
    const devices = await Promise.all(['a', 'b', 'c'].map((name) => newDevice(name)));
    const start = (i: number) =>
      post(gateway.url, 'ConnectStart', {
        Account: alice.address,
        Device: jws(devices[i]!.profile),
        Nonce: connectNonce(),
      });

    const first = await start(0);
    expect(first.status).toBe(200);
    expect((await start(1)).status).toBe(200);
    const refused = await start(2);
    expect(refused.status).toBe(429);
    expect(refused.fields).toMatchObject({ Error: 'rate.limited', Reason: 'connect.account-limit' });

    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect((await start(2)).status).toBe(200);
    const gone = await post(
      gateway.url,
      'ConnectStatus',
      await alice.authenticated('ConnectStatus', { RequestId: first.fields.RequestId }, devices[0]),
    );
    expect(gone.status).toBe(404);
  });
});
