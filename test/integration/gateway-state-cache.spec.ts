import { sha2 } from '@cryptomesh/crypto';
import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { queryDatabase, snapshotDatabase } from '../support/db-snapshot';
import { newDevice, post, TestAccount, type Fields, type TestDevice } from '../support/mesh-client';
import { scrape } from '../support/prometheus-text';
import { startGateway } from '../support/test-gateway';

/**
 * Issue #17, the gateway's fast path: each process keeps the account states of its latest commits
 * and writes a change in one statement on the condition that the account is still at the version
 * it was validated against. Against two gateway processes on one database (as WORKERS or replicas
 * run), a state kept by one and made stale by the other never decides: a device removed elsewhere is
 * refused, an application added elsewhere is accepted, a replay is `auth.replayed` at either, and a
 * refusal changes nothing. Real PostgreSQL.
 */
describe('gateway: account states kept in memory (the fast path)', () => {
  let db: TestDatabase;
  let a: RunningService;
  let b: RunningService;
  const unlimited = { RATE_LIMIT_ADDRESS_PER_MINUTE: '0', RATE_LIMIT_ACCOUNT_PER_MINUTE: '0' };

  beforeAll(async () => {
    db = await createTestDatabase('gwstates');
    a = await startGateway(db.url, unlimited);
    b = await startGateway(db.url, { ...unlimited, DB_MIGRATIONS: 'check' });
  });

  afterAll(async () => {
    await b?.app.close();
    await a?.app.close();
    await db?.drop();
  });

  async function ok(on: RunningService, name: string, body: Fields): Promise<void> {
    const answer = await post(on.url, name, body);
    expect([answer.status, answer.fields.Error, answer.fields.StatusDescription]).toEqual([
      200,
      undefined,
      expect.anything(),
    ]);
  }

  async function refused(on: RunningService, body: Fields, error: string): Promise<void> {
    const before = await snapshotDatabase(db.url);
    const answer = await post(on.url, 'Publish', body);
    expect(answer.fields.Error).toBe(error);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(await snapshotDatabase(db.url)).toEqual(before);
  }

  async function commits(on: RunningService, path: string): Promise<number> {
    return (await scrape(on.url)).sum('gateway_commits_total', { path });
  }

  async function lookups(on: RunningService, result: string): Promise<number> {
    return (await scrape(on.url)).sum('gateway_account_states_total', { result });
  }

  /** Publishes a new Application Profile `name`, authorised by `signer`, after listing it at `at`. */
  async function newApplication(account: TestAccount, name: string, listAt: RunningService) {
    const app = await account.application('mail', name, { Note: name });
    const applications = [...account.applications, app.entry];
    const personal = await account.nextPersonal({ applications });
    await ok(listAt, 'Publish', await account.publish('update', personal));
    account.adopt(personal, account.devices, applications);
    return app;
  }

  it('hashes with OpenSSL, as every server does (the SHA-2 ports)', () => {
    expect(sha2().name).toBe('node:crypto');
  });

  it('keeps the state of a busy account: its changes take the fast path', async () => {
    const carol = await TestAccount.create('carol@example.com');
    await ok(a, 'CreateAccount', await carol.createAccount());
    const fastBefore = await commits(a, 'fast');
    // CreateAccount kept the state it committed: the first change is a hit, not a miss.
    const [hitsBefore, missesBefore] = [await lookups(a, 'hit'), await lookups(a, 'miss')];
    const app = await newApplication(carol, 'home', a);
    expect([(await lookups(a, 'hit')) - hitsBefore, (await lookups(a, 'miss')) - missesBefore]).toEqual([
      1, 0,
    ]);
    await ok(a, 'Publish', await carol.publish('create', app.profile));
    for (let i = 0; i < 5; i += 1) {
      const next = await carol.application('mail', 'home', { Note: `v${i}` });
      await ok(a, 'Publish', await carol.publish('update', next.profile));
    }
    expect((await commits(a, 'fast')) - fastBefore).toBe(7);
  });

  it('refuses a device that another process removed, though this one kept the state that listed it', async () => {
    const alice = await TestAccount.create('alice@example.com');
    await ok(a, 'CreateAccount', await alice.createAccount());
    const phone: TestDevice = await newDevice('phone');
    const withPhone = await alice.nextPersonal({ devices: [alice.admin, phone] });
    await ok(a, 'Publish', await alice.publish('update', withPhone));
    alice.adopt(withPhone, [alice.admin, phone], []);
    // Gateway a keeps the state in which the phone is a device: the phone's change is accepted there.
    const first = await newApplication(alice, 'first', a);
    await ok(a, 'Publish', await alice.publish('create', first.profile, phone));

    // The administrator removes the phone through gateway b.
    const withoutPhone = await alice.nextPersonal({ devices: [alice.admin] });
    await ok(b, 'Publish', await alice.publish('update', withoutPhone));
    alice.adopt(withoutPhone, [alice.admin], alice.applications);

    const second = await alice.application('mail', 'first', { Note: 'by a removed phone' });
    await refused(a, await alice.publish('update', second.profile, phone), 'auth.unknown-device');
    // The administrator's own change at a is accepted.
    await ok(
      a,
      'Publish',
      await alice.publish('update', (await alice.application('mail', 'first', {})).profile),
    );
  });

  it('accepts a change that only an application added through another process allows', async () => {
    const bob = await TestAccount.create('bob@example.com');
    await ok(a, 'CreateAccount', await bob.createAccount());
    const home = await newApplication(bob, 'home', a);
    await ok(a, 'Publish', await bob.publish('create', home.profile)); // a keeps bob's state
    const work = await newApplication(bob, 'work', b); // listed through b only
    await ok(a, 'Publish', await bob.publish('create', work.profile));
  });

  it('drops a kept state the account moved on from (through another process) before judging anything', async () => {
    const erin = await TestAccount.create('erin@example.com');
    await ok(a, 'CreateAccount', await erin.createAccount());
    const home = await newApplication(erin, 'home', a);
    await ok(a, 'Publish', await erin.publish('create', home.profile)); // a keeps erin's state
    const byB = await erin.application('mail', 'home', { Note: 'through b' });
    await ok(b, 'Publish', await erin.publish('update', byB.profile));
    const staleBefore = await lookups(a, 'stale');
    const byA = await erin.application('mail', 'home', { Note: 'through a' });
    await ok(a, 'Publish', await erin.publish('update', byA.profile));
    expect((await lookups(a, 'stale')) - staleBefore).toBe(1);
    const rows = await queryDatabase<{ value: { payload: string } }>(
      db.url,
      'SELECT value FROM catalog_objects WHERE account_udf = $1 AND object_id = $2',
      [erin.udf, home.profile.profile.id],
    );
    expect(rows[0]!.value.payload).toBe(byA.profile.jws.payload);
  });

  it('trusts no version number: a row brought back to the kept version with other content is judged on the rows', async () => {
    // As after a failover to a standby that missed a commit, or a point-in-time recovery: the same
    // version number, another state (here, without the phone).
    const frank = await TestAccount.create('frank@example.com');
    await ok(a, 'CreateAccount', await frank.createAccount());
    const phone = await newDevice('phone');
    const withPhone = await frank.nextPersonal({ devices: [frank.admin, phone] });
    await ok(a, 'Publish', await frank.publish('update', withPhone));
    frank.adopt(withPhone, [frank.admin, phone], []);
    const app = await newApplication(frank, 'home', a);
    await ok(a, 'Publish', await frank.publish('create', app.profile, phone)); // a keeps the phone
    const [kept] = await queryDatabase<{ version: string }>(
      db.url,
      'SELECT version::text AS version FROM accounts WHERE account_udf = $1',
      [frank.udf],
    );
    const withoutPhone = await frank.nextPersonal({ devices: [frank.admin] });
    await ok(b, 'Publish', await frank.publish('update', withoutPhone));
    frank.adopt(withoutPhone, [frank.admin], frank.applications);
    await queryDatabase(db.url, 'UPDATE accounts SET version = $2 WHERE account_udf = $1', [
      frank.udf,
      kept!.version,
    ]);
    const again = await frank.application('mail', 'home', { Note: 'by a removed phone' });
    await refused(a, await frank.publish('update', again.profile, phone), 'auth.unknown-device');
  });

  it('an account too heavy to keep is read on its own, not in the shared peek, and judged alike', async () => {
    // ACCOUNT_STATE_CACHE_MB=0: no state is kept and no peek carries rows (every account is "heavy").
    const c = await startGateway(db.url, {
      ...unlimited,
      ACCOUNT_STATE_CACHE_MB: '0',
      DB_MIGRATIONS: 'check',
    });
    try {
      const hana = await TestAccount.create('hana@example.com');
      await ok(c, 'CreateAccount', await hana.createAccount());
      const phone = await newDevice('phone');
      const withPhone = await hana.nextPersonal({ devices: [hana.admin, phone] });
      await ok(c, 'Publish', await hana.publish('update', withPhone));
      hana.adopt(withPhone, [hana.admin, phone], []);
      const app = await newApplication(hana, 'home', c);
      await ok(c, 'Publish', await hana.publish('create', app.profile, phone));
      const withoutPhone = await hana.nextPersonal({ devices: [hana.admin] });
      await ok(b, 'Publish', await hana.publish('update', withoutPhone));
      hana.adopt(withoutPhone, [hana.admin], hana.applications);
      const again = await hana.application('mail', 'home', { Note: 'by a removed phone' });
      await refused(c, await hana.publish('update', again.profile, phone), 'auth.unknown-device');
      await ok(
        c,
        'Publish',
        await hana.publish('update', (await hana.application('mail', 'home', {})).profile),
      );
      expect(await lookups(c, 'hit')).toBe(0);
      expect(await commits(c, 'fast')).toBeGreaterThanOrEqual(4);
    } finally {
      await c.app.close();
    }
  });

  it('a replay spends nothing of the account: not its rate limit, not a write', async () => {
    const limited = await startGateway(db.url, {
      RATE_LIMIT_ADDRESS_PER_MINUTE: '0',
      RATE_LIMIT_ACCOUNT_PER_MINUTE: '4',
      DB_MIGRATIONS: 'check',
    });
    try {
      const gina = await TestAccount.create('gina@example.com');
      await ok(a, 'CreateAccount', await gina.createAccount());
      const app = await newApplication(gina, 'home', a);
      const update = await gina.publish('create', app.profile);
      await ok(limited, 'Publish', update); // one token of four
      for (let i = 0; i < 6; i += 1) await refused(limited, update, 'auth.replayed');
      const next = await gina.application('mail', 'home', { Note: 'still allowed' });
      await ok(limited, 'Publish', await gina.publish('update', next.profile)); // the second token
    } finally {
      await limited.app.close();
    }
  });

  it('answers a replay auth.replayed at the process that took it and at the other, writing nothing', async () => {
    const dave = await TestAccount.create('dave@example.com');
    await ok(a, 'CreateAccount', await dave.createAccount());
    const app = await newApplication(dave, 'home', a);
    const body = await dave.publish('create', app.profile);
    await ok(a, 'Publish', body);
    await refused(a, body, 'auth.replayed');
    await refused(b, body, 'auth.replayed');
    // An update that would still apply (the same value again) is caught by its nonce.
    const update = await dave.publish('update', app.profile);
    await ok(a, 'Publish', update);
    await refused(a, update, 'auth.replayed');
    await refused(b, update, 'auth.replayed');
  });
});
