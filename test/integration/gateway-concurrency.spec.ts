import { Client } from 'pg';
import { decodeEntry } from '@cryptomesh/log';
import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { post, TestAccount } from '../support/mesh-client';
import { startGateway } from '../support/test-gateway';

/**
 * Changes of one account arriving together, at one gateway and at two gateway processes on the same
 * database: each change is validated against the state it is committed on (the in-process account
 * queue, then the row lock across processes), so the catalog and the queued log entries agree, every
 * accepted change is in the queue exactly once, and of two changes that cannot both hold exactly one
 * is accepted.
 */
describe('gateway: concurrent changes of one account', () => {
  let db: TestDatabase;
  let gateways: RunningService[];
  let sql: Client;
  const unlimited = { RATE_LIMIT_ADDRESS_PER_MINUTE: '0', RATE_LIMIT_ACCOUNT_PER_MINUTE: '0' };

  beforeAll(async () => {
    db = await createTestDatabase('gwconcurrent');
    gateways = [await startGateway(db.url, unlimited), await startGateway(db.url, unlimited)];
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    for (const gateway of gateways ?? []) await gateway.app.close();
    await db?.drop();
  });

  /** The queued records of `account`, in queue order, and the account's catalog row. */
  async function state(account: TestAccount) {
    const queued = (await sql.query<{ entry: Buffer }>('SELECT entry FROM log_queue ORDER BY seq')).rows
      .map((r) => decodeEntry(new Uint8Array(r.entry)) as Record<string, unknown>)
      .filter((r) => r['Account'] === account.udf);
    const row = (
      await sql.query<{ version: string; personal: unknown }>(
        'SELECT version, personal FROM accounts WHERE account_udf = $1',
        [account.udf],
      )
    ).rows[0]!;
    const objects = new Map(
      (
        await sql.query<{ object_id: string; value: unknown }>(
          'SELECT object_id, value FROM catalog_objects WHERE account_udf = $1',
          [account.udf],
        )
      ).rows.map((r) => [r.object_id, r.value]),
    );
    return { queued, version: Number(row.version), personal: row.personal, objects };
  }

  it('commits every one of many updates of one profile, each once, the last queued is the catalog', async () => {
    const alice = await TestAccount.create('alice@example.com');
    expect((await post(gateways[0]!.url, 'CreateAccount', await alice.createAccount())).status).toBe(200);
    const first = await alice.application('mail', 'home', { Address: 'imap.example.net' });
    const personal = await alice.nextPersonal({ applications: [first.entry] });
    expect((await post(gateways[0]!.url, 'Publish', await alice.publish('update', personal))).status).toBe(
      200,
    );
    alice.adopt(personal, alice.devices, [first.entry]);
    expect(
      (await post(gateways[0]!.url, 'Publish', await alice.publish('create', first.profile))).status,
    ).toBe(200);
    const before = await state(alice);

    const versions = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        alice.application('mail', 'home', { Address: `imap${i}.example.net` }),
      ),
    );
    const bodies = await Promise.all(versions.map((v) => alice.publish('update', v.profile)));
    const answers = await Promise.all(bodies.map((body, i) => post(gateways[i % 2]!.url, 'Publish', body)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

    const after = await state(alice);
    expect(after.version).toBe(before.version + 24);
    const published = after.queued.slice(before.queued.length);
    expect(published).toHaveLength(24);
    expect(new Set(published.map((r) => JSON.stringify(r))).size).toBe(24);
    // the catalog holds what the log says last: the entry queued last for the profile
    const last = published[published.length - 1]!;
    expect(after.objects.get(first.profile.profile.id)).toEqual(last['Value']);
  });

  it('of two Personal Profiles with the same Sequence, accepts exactly one, at one gateway or two', async () => {
    const bob = await TestAccount.create('bob@example.com');
    expect((await post(gateways[1]!.url, 'CreateAccount', await bob.createAccount())).status).toBe(200);
    for (const [round, targets] of [
      [0, [0, 0]],
      [1, [0, 1]],
      [2, [1, 0]],
      [3, [1, 1]],
    ] as const) {
      const before = await state(bob);
      const apps = await Promise.all(
        ['a', 'b'].map((name) => bob.application('notes', `${name}${round}`, { Round: round })),
      );
      const rivals = await Promise.all(apps.map((app) => bob.nextPersonal({ applications: [app.entry] })));
      const answers = await Promise.all(
        rivals.map(async (rival, i) =>
          post(gateways[targets[i]!]!.url, 'Publish', await bob.publish('update', rival)),
        ),
      );
      const accepted = answers.flatMap((a, i) => (a.status === 200 ? [i] : []));
      expect(accepted).toHaveLength(1);
      const refused = answers.find((a) => a.status !== 200)!;
      expect(refused.status).toBe(409);
      // refused by the Sequence rule, or by the persistence model when the winner was committed first
      expect(['publish.stale-sequence', 'persistence.conflict']).toContain(refused.fields['Error']);

      const winner = rivals[accepted[0]!]!;
      const after = await state(bob);
      expect(after.version).toBe(before.version + 1);
      expect(after.queued).toHaveLength(before.queued.length + 1);
      expect(after.personal).toEqual(after.queued[after.queued.length - 1]!['Value']);
      expect(after.objects.get(winner.profile.id)).toEqual(after.personal);
      bob.adopt(winner, bob.devices, [apps[accepted[0]!]!.entry]);
    }
  });
});
