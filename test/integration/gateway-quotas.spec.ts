import { randomBytes } from 'node:crypto';
import { generateKeyPair, keyUdf, toBase64Url } from '@cryptomesh/crypto';
import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { queryDatabase, snapshotDatabase } from '../support/db-snapshot';
import { post, TestAccount, type Fields } from '../support/mesh-client';
import { startGateway } from '../support/test-gateway';

/**
 * Issue #15, per-account quotas: objects (deleted ones included), bytes of signed profiles and
 * escrow blobs. Beyond a quota a change is 413 `quota.exceeded` with a Reason naming the quota and a
 * description a person can act on, and nothing is written; a change that does not grow the usage
 * (a delete) is still allowed. Real PostgreSQL, gateways in-process on one database.
 */
describe('gateway: per-account quotas', () => {
  let db: TestDatabase;
  let open: RunningService; // no quotas
  const gateways: RunningService[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('gwquotas');
    open = await startGateway(db.url, {
      QUOTA_OBJECTS_PER_ACCOUNT: '0',
      QUOTA_BYTES_PER_ACCOUNT: '0',
      QUOTA_ESCROW_PER_ACCOUNT: '0',
    });
    gateways.push(open);
  });

  afterAll(async () => {
    for (const g of gateways) await g.app.close();
    await db?.drop();
  });

  async function gateway(env: Record<string, string>): Promise<RunningService> {
    const g = await startGateway(db.url, { DB_MIGRATIONS: 'check', ...env });
    gateways.push(g);
    return g;
  }

  async function expectOk(on: RunningService, name: string, body: Fields): Promise<void> {
    const answer = await post(on.url, name, body);
    expect([answer.status, answer.fields.Error]).toEqual([200, undefined]);
  }

  async function expectQuota(on: RunningService, name: string, body: Fields, reason: string) {
    const before = await snapshotDatabase(db.url);
    const answer = await post(on.url, name, body);
    expect([answer.status, answer.fields.Error, answer.fields.Reason]).toEqual([
      413,
      'quota.exceeded',
      reason,
    ]);
    expect(await snapshotDatabase(db.url)).toEqual(before);
    return answer.fields.StatusDescription as string;
  }

  /** The account's catalog as the quotas count it: rows, and bytes of the active values. */
  async function usage(account: TestAccount): Promise<{ objects: number; bytes: number }> {
    const [row] = await queryDatabase<{ objects: number; bytes: number }>(
      db.url,
      `SELECT count(*)::int AS objects,
              coalesce(sum(length(value->>'protected') + length(value->>'payload') + length(value->>'signature')), 0)::int AS bytes
         FROM catalog_objects WHERE account_udf = $1`,
      [account.udf],
    );
    return row!;
  }

  /**
   * An Application Profile `name` whose entry a new Personal Profile (published at the gateway with
   * no quota) lists already, and the body of its Publish.
   */
  async function addApplication(account: TestAccount, name: string, data = {}) {
    const app = await account.application('mail', name, data);
    const applications = [...account.applications, app.entry];
    const personal = await account.nextPersonal({ applications });
    await expectOk(open, 'Publish', await account.publish('update', personal));
    account.adopt(personal, account.devices, applications);
    return { app, body: await account.publish('create', app.profile) };
  }

  it('refuses an object beyond QUOTA_OBJECTS_PER_ACCOUNT, and still allows a delete', async () => {
    const alice = await TestAccount.create('alice@example.com');
    await expectOk(open, 'CreateAccount', await alice.createAccount());
    const { objects } = await usage(alice);
    const strict = await gateway({ QUOTA_OBJECTS_PER_ACCOUNT: String(objects + 1) });

    const first = await addApplication(alice, 'one');
    await expectOk(strict, 'Publish', first.body);
    const second = await addApplication(alice, 'two');
    const description = await expectQuota(strict, 'Publish', second.body, 'quota.objects');
    expect(description).toMatch(
      new RegExp(`would hold ${objects + 2} objects; this portal allows ${objects + 1}`),
    );
    // A delete does not grow the count (the deleted id keeps its row), so it is allowed.
    await expectOk(strict, 'Publish', await alice.publish('delete', first.app.profile.profile.id));
    expect((await usage(alice)).objects).toBe(objects + 1);
  });

  it('refuses profiles beyond QUOTA_BYTES_PER_ACCOUNT', async () => {
    const bob = await TestAccount.create('bob@example.com');
    await expectOk(open, 'CreateAccount', await bob.createAccount());
    const strict = await gateway({ QUOTA_BYTES_PER_ACCOUNT: String((await usage(bob)).bytes + 3_000) });
    const small = await addApplication(bob, 'small', { Note: 'x'.repeat(100) });
    await expectOk(strict, 'Publish', small.body);
    const big = await addApplication(bob, 'big', { Note: 'x'.repeat(4_000) });
    const description = await expectQuota(strict, 'Publish', big.body, 'quota.bytes');
    expect(description).toMatch(/bytes of profiles; this portal allows \d+ per account/);
  });

  it('refuses an escrow blob beyond QUOTA_ESCROW_PER_ACCOUNT, counting only blobs stored', async () => {
    const carol = await TestAccount.create('carol@example.com');
    await expectOk(open, 'CreateAccount', await carol.createAccount());
    const strict = await gateway({ QUOTA_ESCROW_PER_ACCOUNT: '2' });
    // Hello announces the quotas (0: none).
    const hello = await post(strict.url, 'Hello', {});
    expect((hello.fields.Policy as Fields).Quotas).toEqual({
      ObjectsPerAccount: 10_000,
      BytesPerAccount: 16 * 1024 * 1024,
      EscrowBlobsPerAccount: 2,
      CatalogObjectsPerAccount: 10_000,
      CatalogBytesPerAccount: 16 * 1024 * 1024,
    });
    const put = async (key: string) =>
      carol.authenticated('EscrowPut', { Key: key, Blob: toBase64Url(randomBytes(64)) });
    const key = () => keyUdf('X25519', generateKeyPair('X25519').publicKey);

    const taken = key();
    await expectOk(strict, 'EscrowPut', await put(taken));
    // A refused put (the key holds a blob) does not count.
    const conflict = await post(strict.url, 'EscrowPut', await put(taken));
    expect([conflict.status, conflict.fields.Error]).toEqual([409, 'persistence.conflict']);
    await expectOk(strict, 'EscrowPut', await put(key()));
    const description = await expectQuota(strict, 'EscrowPut', await put(key()), 'quota.escrow');
    expect(description).toMatch(/stored 2 escrow blobs/);
    // The blob rows still name no owner: only the account's count moved.
    const [row] = await queryDatabase<{ escrow_blobs: number }>(
      db.url,
      'SELECT escrow_blobs FROM accounts WHERE account_udf = $1',
      [carol.udf],
    );
    expect(row!.escrow_blobs).toBe(2);
  });
});
