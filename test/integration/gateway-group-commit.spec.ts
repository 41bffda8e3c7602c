import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { decodeEntry, encodeEntry } from '@cryptomesh/log';
import { readRequest } from '@cryptomesh/mesh';
import {
  commitCatalogChanges,
  dataSourceOptions,
  isNonceConflict,
  peekCatalogAccounts,
  readCatalogAccount,
  readCatalogObjects,
  type CatalogChange,
} from '@cryptomesh/persistence';
import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { post, TestAccount, type Fields } from '../support/mesh-client';
import { scrape } from '../support/prometheus-text';
import { startGateway } from '../support/test-gateway';
import {
  catalogGroupWriter,
  writeGroup,
  type GroupOutcome,
  type RewriteReason,
} from '../../apps/gateway/src/catalog/group-commit';

/**
 * Issue #17, group commit: the fast-path changes validated while a statement is in flight are
 * written together by one statement that is its own transaction, each with its own outcome. Real
 * PostgreSQL: many Publishes over many accounts all commit, in each account's order; a change whose
 * account moved meanwhile (stale) is validated again and written by a later group without touching the
 * others, is judged again on the state it lost to, and takes the general path only after losing three
 * such races in a row; a change whose
 * nonce was recorded meanwhile is refused auth.replayed and the rest of its group commits.
 */
describe('gateway: group commit', () => {
  let db: TestDatabase;
  let gateway: RunningService;
  let sql: Client;
  let dataSource: DataSource;
  const unlimited = { RATE_LIMIT_ADDRESS_PER_MINUTE: '0', RATE_LIMIT_ACCOUNT_PER_MINUTE: '0' };

  beforeAll(async () => {
    db = await createTestDatabase('gwgroup');
    // A window, so that the requests sent together are in one group whatever their arrival spread.
    gateway = await startGateway(db.url, { ...unlimited, GROUP_COMMIT_WINDOW_MS: '50' });
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await sql?.end();
    await gateway?.app.close();
    await db?.drop();
  });

  async function ok(body: Fields, name = 'Publish'): Promise<void> {
    const answer = await post(gateway.url, name, body);
    expect([answer.status, answer.fields.Error]).toEqual([200, undefined]);
  }

  /** An account with one Application Profile `mail/home`, ready for updates of it. */
  async function account(address: string) {
    const owner = await TestAccount.create(address);
    await ok(await owner.createAccount(), 'CreateAccount');
    const app = await owner.application('mail', 'home', { Address: 'imap.example.net' });
    const personal = await owner.nextPersonal({ applications: [app.entry] });
    await ok(await owner.publish('update', personal));
    owner.adopt(personal, owner.devices, [app.entry]);
    await ok(await owner.publish('create', app.profile));
    return owner;
  }

  /** The body of an update of `owner`'s application with `n` in it. */
  async function update(owner: TestAccount, n: number): Promise<Fields> {
    const app = await owner.application('mail', 'home', { Address: `imap${n}.example.net` });
    return owner.publish('update', app.profile);
  }

  /** The queued records of `udf`, in queue order, and its version. */
  async function state(udf: string) {
    const entries = await dataSource.query<Array<{ entry: Buffer }>>(
      'SELECT entry FROM log_queue ORDER BY seq',
    );
    const queued = entries
      .map((r) => decodeEntry(new Uint8Array(r.entry)) as Record<string, unknown>)
      .filter((r) => r['Account'] === udf);
    const rows = await dataSource.query<Array<{ version: string }>>(
      'SELECT version FROM accounts WHERE account_udf = $1',
      [udf],
    );
    return { queued, version: Number(rows[0]!.version) };
  }

  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    return (await scrape(gateway.url)).sum(name, labels);
  }

  /** Resolves once a statement of the test database waits for a row lock. */
  async function aStatementWaitsForALock(): Promise<void> {
    for (;;) {
      const waiting = await sql.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (waiting.rowCount! > 0) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  it('commits many Publishes over many accounts, grouped, each account in its order', async () => {
    const owners = await Promise.all(Array.from({ length: 24 }, (_, i) => account(`group${i}@example.com`)));
    const before = await Promise.all(owners.map((o) => state(o.udf)));
    const flushesBefore = await metric('gateway_group_size_count', { kind: 'commit' });
    const okBefore = await metric('gateway_group_flushes_total', { kind: 'commit', result: 'ok' });
    const bodies = await Promise.all(owners.flatMap((o) => [0, 1, 2].map((n) => update(o, n))));
    const answers = await Promise.all(bodies.map((body) => post(gateway.url, 'Publish', body)));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));

    // grouped: fewer statements than changes
    const flushes = (await metric('gateway_group_size_count', { kind: 'commit' })) - flushesBefore;
    expect(flushes).toBeLessThan(bodies.length);
    expect(await metric('gateway_group_flushes_total', { kind: 'commit', result: 'ok' })).toBe(
      okBefore + flushes,
    );
    expect(await metric('gateway_group_size_sum', { kind: 'commit' })).toBeGreaterThanOrEqual(bodies.length);
    for (const [i, owner] of owners.entries()) {
      const after = await state(owner.udf);
      expect(after.version).toBe(before[i]!.version + 3);
      const published = after.queued.slice(before[i]!.queued.length);
      expect(published).toHaveLength(3);
      expect(new Set(published.map((r) => JSON.stringify(r))).size).toBe(3);
    }
  });

  it('a stale change in a group is validated again on the state it lost to and written by a later group', async () => {
    const owners = await Promise.all(Array.from({ length: 6 }, (_, i) => account(`stale${i}@example.com`)));
    const [moved, ...others] = owners;
    const before = await Promise.all(owners.map((o) => state(o.udf)));
    const retried = await metric('gateway_commits_total', { path: 'retried' });
    const again = await metric('gateway_commits_total', { path: 'fast_retry' });
    const bodies = await Promise.all(owners.map((o) => update(o, 7)));
    // Another process changes `moved` while the group is written: its revision moves, nothing else.
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('UPDATE accounts SET revision = gen_random_uuid() WHERE account_udf = $1', [
        moved!.udf,
      ]);
      const answers = Promise.all(bodies.map((body) => post(gateway.url, 'Publish', body)));
      await aStatementWaitsForALock();
      await other.query('COMMIT');
      expect((await answers).map((a) => a.status)).toEqual(bodies.map(() => 200));
    } finally {
      await other.end();
    }
    // No transaction of its own: the fast path again, on the rows its second peek carried.
    expect(await metric('gateway_commits_total', { path: 'fast_retry' })).toBe(again + 1);
    expect(await metric('gateway_commits_total', { path: 'retried' })).toBe(retried);
    for (const [i, owner] of owners.entries()) {
      const after = await state(owner.udf);
      expect(after.version).toBe(before[i]!.version + 1);
      expect(after.queued).toHaveLength(before[i]!.queued.length + 1);
    }
    expect(others).toHaveLength(5);
  });

  it('a change that lost a race is judged again on the state it lost to: refused, nothing written', async () => {
    const owner = await account('judged@example.com');
    const appId = (await owner.application('mail', 'home', {})).profile.profile.id;
    const before = await state(owner.udf);
    const body = await update(owner, 13);
    // Another process deletes the Application Profile the change updates, while the change is
    // written on the state that still had it.
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('UPDATE accounts SET revision = gen_random_uuid() WHERE account_udf = $1', [
        owner.udf,
      ]);
      await other.query(
        `UPDATE catalog_objects SET state = 'deleted', value = NULL WHERE account_udf = $1 AND object_id = $2`,
        [owner.udf, appId],
      );
      const answer = post(gateway.url, 'Publish', body);
      await aStatementWaitsForALock();
      await other.query('COMMIT');
      const settled = await answer;
      expect([settled.status, settled.fields.Error]).toEqual([409, 'persistence.conflict']);
    } finally {
      await other.end();
    }
    const after = await state(owner.udf);
    expect(after.version).toBe(before.version);
    expect(after.queued).toHaveLength(before.queued.length);
  });

  it('a change that loses every fast attempt takes the general path once, and its state is kept', async () => {
    const owner = await account('loser@example.com');
    const before = await state(owner.udf);
    const retried = await metric('gateway_commits_total', { path: 'retried' });
    const again = await metric('gateway_commits_total', { path: 'fast_retry' });
    // Other processes win the account's next three writes: a trigger skips them (the conditional
    // write then finds nothing to update, as after a concurrent change), and lets the fourth through.
    await sql.query('CREATE TABLE lost_races (account_udf text PRIMARY KEY, remaining int NOT NULL)');
    await sql.query('INSERT INTO lost_races VALUES ($1, 3)', [owner.udf]);
    await sql.query(`CREATE FUNCTION lose_race() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE lost_races SET remaining = remaining - 1 WHERE account_udf = OLD.account_udf AND remaining > 0;
        IF FOUND THEN RETURN NULL; END IF;
        RETURN NEW;
      END $$`);
    await sql.query(
      'CREATE TRIGGER lose_race BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION lose_race()',
    );
    try {
      await ok(await update(owner, 11));
      expect(await sql.query('SELECT remaining FROM lost_races')).toMatchObject({ rows: [{ remaining: 0 }] });
    } finally {
      await sql.query('DROP TRIGGER lose_race ON accounts');
      await sql.query('DROP FUNCTION lose_race()');
      await sql.query('DROP TABLE lost_races');
    }
    expect(await metric('gateway_commits_total', { path: 'retried' })).toBe(retried + 1);
    expect(await metric('gateway_commits_total', { path: 'fast_retry' })).toBe(again);
    const after = await state(owner.udf);
    expect(after.version).toBe(before.version + 1);
    expect(after.queued).toHaveLength(before.queued.length + 1);
    // The general path kept the state it committed: the account's next change is a hit.
    const hits = await metric('gateway_account_states_total', { result: 'hit' });
    await ok(await update(owner, 12));
    expect(await metric('gateway_account_states_total', { result: 'hit' })).toBe(hits + 1);
  });

  it('a replay inside a group is refused auth.replayed and writes nothing; the rest of the group commits', async () => {
    const owners = await Promise.all(Array.from({ length: 6 }, (_, i) => account(`replay${i}@example.com`)));
    const [replayed] = owners;
    const before = await Promise.all(owners.map((o) => state(o.udf)));
    const bodies = await Promise.all(owners.map((o) => update(o, 9)));
    const claims = readRequest(bodies[0]!['Authorisation']);
    // Another transaction records the first request's nonce (without moving the account) while the
    // group waits for that account's row: the group's statement fails on the nonce and runs again.
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM accounts WHERE account_udf = $1 FOR UPDATE', [replayed!.udf]);
      await other.query(
        `INSERT INTO request_nonces (account_udf, nonce, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
        [replayed!.udf, claims.nonce],
      );
      const answers = Promise.all(bodies.map((body) => post(gateway.url, 'Publish', body)));
      await aStatementWaitsForALock();
      await other.query('COMMIT');
      const settled = await answers;
      expect([settled[0]!.status, settled[0]!.fields.Error]).toEqual([409, 'auth.replayed']);
      expect(settled.slice(1).map((a) => a.status)).toEqual(bodies.slice(1).map(() => 200));
    } finally {
      await other.end();
    }
    for (const [i, owner] of owners.entries()) {
      const after = await state(owner.udf);
      const written = i === 0 ? 0 : 1;
      expect(after.version).toBe(before[i]!.version + written);
      expect(after.queued).toHaveLength(before[i]!.queued.length + written);
    }
  });

  it('commitCatalogChanges: one outcome per change, entries queued in the group’s order, all or nothing', async () => {
    const owners = await Promise.all(Array.from({ length: 5 }, (_, i) => account(`store${i}@example.com`)));
    const rows = await dataSource.query<
      Array<{ account_udf: string; status: string; master: unknown; personal: unknown; revision: string }>
    >(`SELECT account_udf, status, master, personal, revision FROM accounts WHERE account_udf = ANY($1)`, [
      owners.map((o) => o.udf),
    ]);
    const byUdf = new Map(rows.map((r) => [r.account_udf, r]));
    const change = (udf: string, n: number, revision?: string): CatalogChange => {
      const row = byUdf.get(udf)!;
      return {
        account: {
          accountUdf: udf,
          status: row.status as 'active',
          master: row.master,
          personal: row.personal,
        },
        expectedRevision: revision ?? row.revision,
        objects: [],
        entry: encodeEntry({ op: 'test', group: 'store', n }),
        nonce: `store-${n}`,
        nonceExpiresAtMs: Date.now() + 60_000,
      };
    };
    // reversed order of accounts, one stale (a revision it never had)
    const changes = owners
      .map((o, n) => change(o.udf, n, n === 2 ? '00000000-0000-4000-8000-000000000000' : undefined))
      .reverse();
    const outcomes = await commitCatalogChanges(dataSource.manager, changes);
    expect(outcomes.map((o) => o.outcome)).toEqual([
      'committed',
      'committed',
      'stale',
      'committed',
      'committed',
    ]);
    const queued = (
      await sql.query<{ entry: Buffer }>(`SELECT entry FROM log_queue ORDER BY seq DESC LIMIT 4`)
    ).rows.map((r) => (decodeEntry(new Uint8Array(r.entry)) as { n: number }).n);
    expect(queued.reverse()).toEqual([4, 3, 1, 0]);
    const peeks = await peekCatalogAccounts(
      dataSource.manager,
      changes.map((c) => ({ accountUdf: c.account.accountUdf, nonce: c.nonce })),
    );
    expect(peeks.map((p) => p.replayed)).toEqual([true, true, false, true, true]);
    changes.forEach((c, i) => {
      const outcome = outcomes[i]!;
      expect(peeks[i]!.revision).toBe(
        outcome.outcome === 'committed' ? outcome.revision : byUdf.get(c.account.accountUdf)!.revision,
      );
    });

    // a recorded nonce in a group: the statement fails, nothing of the group is written
    const count = async () =>
      Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM log_queue')).rows[0]!.n);
    const queuedBefore = await count();
    const again = [
      change(owners[2]!.udf, 10),
      { ...change(owners[0]!.udf, 0), expectedRevision: peeks[4]!.revision! },
    ];
    const failure = await commitCatalogChanges(dataSource.manager, again).catch((e: unknown) => e);
    expect(isNonceConflict(failure)).toBe(true);
    expect(await count()).toBe(queuedBefore);
    const [stillThere] = await peekCatalogAccounts(dataSource.manager, [
      { accountUdf: owners[2]!.udf, nonce: 'store-10' },
    ]);
    expect(stillThere).toEqual({ revision: byUdf.get(owners[2]!.udf)!.revision, replayed: false });
  });

  it('commitCatalogChanges keeps the profiles a change leaves out and writes the ones it gives', async () => {
    const [kept, given] = await Promise.all(['omit@example.com', 'give@example.com'].map((a) => account(a)));
    const read = async (udf: string) =>
      (
        await dataSource.query<
          Array<{ master: unknown; personal: unknown; revision: string; version: string }>
        >(`SELECT master, personal, revision, version::text FROM accounts WHERE account_udf = $1`, [udf])
      )[0]!;
    const [keptBefore, givenBefore] = [await read(kept!.udf), await read(given!.udf)];
    const change = (
      udf: string,
      revision: string,
      n: number,
      profiles: Partial<CatalogChange['account']>,
    ) => ({
      account: { accountUdf: udf, status: 'active' as const, ...profiles },
      expectedRevision: revision,
      objects: [],
      entry: encodeEntry({ op: 'test', group: 'profiles', n }),
      nonce: `profiles-${n}`,
      nonceExpiresAtMs: Date.now() + 60_000,
    });
    const outcomes = await commitCatalogChanges(dataSource.manager, [
      change(kept!.udf, keptBefore.revision, 0, {}),
      // `given` takes the other account's Personal Profile: any value given is written as given.
      change(given!.udf, givenBefore.revision, 1, { personal: keptBefore.personal }),
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['committed', 'committed']);
    const [keptAfter, givenAfter] = [await read(kept!.udf), await read(given!.udf)];
    expect(keptAfter).toMatchObject({ master: keptBefore.master, personal: keptBefore.personal });
    expect(Number(keptAfter.version)).toBe(Number(keptBefore.version) + 1);
    expect(givenAfter).toMatchObject({ master: givenBefore.master, personal: keptBefore.personal });
    expect(givenAfter.personal).not.toEqual(givenBefore.personal);
  });

  it('a Personal Profile updated on the fast path is written to the account row', async () => {
    const owner = await TestAccount.create('fastpersonal@example.com');
    await ok(await owner.createAccount(), 'CreateAccount');
    const personal = await owner.nextPersonal({});
    const fastBefore = await metric('gateway_commits_total', { path: 'fast' });
    await ok(await owner.publish('update', personal));
    expect(await metric('gateway_commits_total', { path: 'fast' })).toBe(fastBefore + 1);
    const row = (await readCatalogAccount(dataSource.manager, owner.udf))!;
    expect(row.personal).toEqual({
      protected: personal.jws.protected,
      payload: personal.jws.payload,
      signature: personal.jws.signature,
    });
  });

  it('a group that PostgreSQL aborts in a deadlock wrote nothing and is written again, counted as one', async () => {
    const owner = await account('deadlock@example.com');
    const [row] = await dataSource.query<
      Array<{ status: string; master: unknown; personal: unknown; revision: string }>
    >(`SELECT status, master, personal, revision FROM accounts WHERE account_udf = $1`, [owner.udf]);
    const change: CatalogChange = {
      account: {
        accountUdf: owner.udf,
        status: row!.status as 'active',
        master: row!.master,
        personal: row!.personal,
      },
      expectedRevision: row!.revision,
      objects: [],
      entry: encodeEntry({ op: 'test', group: 'deadlock' }),
      nonce: 'deadlock-nonce',
      nonceExpiresAtMs: Date.now() + 60_000,
    };
    const before = await state(owner.udf);
    const reasons: RewriteReason[] = [];
    const catalog = catalogGroupWriter(dataSource, (reason) => reasons.push(reason));
    // The group is written again only once the other transaction holds the row: else the new
    // statement could lock it first (the aborted one's lock is gone) and meet the other again.
    let otherHasRow = () => {};
    const held = new Promise<void>((resolve) => (otherHasRow = resolve));
    let writes = 0;
    const writer: typeof catalog = {
      ...catalog,
      write: async (changes) => {
        if (writes++ > 0) await held;
        return catalog.write(changes);
      },
    };
    // Another transaction inserts the change's nonce and holds it: the group's statement locks the
    // account's row, then waits for that transaction at the nonce. The transaction then asks for
    // the row: each waits for the other. The backend whose deadlock_timeout ends first finds the
    // cycle and aborts itself; the other transaction's is ten times the group's, so that is the
    // group's even when the two waits begin a few milliseconds apart on a loaded host.
    const other = new Client({ connectionString: db.url });
    await other.connect();
    let outcomes: GroupOutcome[];
    try {
      await other.query("SET deadlock_timeout = '10s'");
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO request_nonces (account_udf, nonce, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
        [owner.udf, change.nonce],
      );
      const written = writeGroup([change], writer);
      await aStatementWaitsForALock();
      // Answered once PostgreSQL aborted the group (whose retry then waits for this transaction).
      await other.query('SELECT 1 FROM accounts WHERE account_udf = $1 FOR UPDATE', [owner.udf]);
      otherHasRow();
      await other.query('ROLLBACK');
      outcomes = await written;
    } finally {
      await other.end();
    }
    // Written again (after the transaction let go of row and nonce): committed, once.
    expect(outcomes.map((o) => o.outcome)).toEqual(['committed']);
    expect(reasons).toEqual(['deadlock']);
    const after = await state(owner.udf);
    expect(after.version).toBe(before.version + 1);
    const queued = (await dataSource.query<Array<{ entry: Buffer }>>('SELECT entry FROM log_queue'))
      .map((r) => decodeEntry(new Uint8Array(r.entry)) as { group?: unknown })
      .filter((e) => e.group === 'deadlock');
    expect(queued).toHaveLength(1);
  });

  it('peekCatalogAccounts with rows: the row and objects of an account not at the kept revision, in the same statement', async () => {
    const owner = await account('peek@example.com');
    const unknown = (await TestAccount.create('nobody@example.com')).udf;
    const row = (await readCatalogAccount(dataSource.manager, owner.udf))!;
    const objects = await readCatalogObjects(dataSource.manager, owner.udf);
    expect(objects.length).toBeGreaterThan(0);
    const [atKept, stale, notKept, plain, absent] = await peekCatalogAccounts(
      dataSource.manager,
      [
        { accountUdf: owner.udf, nonce: 'n1', kept: row.revision },
        { accountUdf: owner.udf, nonce: 'n1', kept: '00000000-0000-4000-8000-000000000000' },
        { accountUdf: owner.udf, nonce: 'n1' },
        { accountUdf: owner.udf, nonce: 'n1', kept: row.revision },
        { accountUdf: unknown, nonce: 'n1' },
      ],
      { rows: true },
    );
    expect(atKept).toEqual({ revision: row.revision, replayed: false });
    expect(stale).toEqual({ revision: row.revision, replayed: false, account: row, objects });
    expect(notKept).toEqual(stale);
    expect(plain).toEqual(atKept);
    expect(absent).toEqual({ revision: undefined, replayed: false });
    // An account heavier than `maxRowBytes` (its objects as stored) is left for the caller to read.
    const weight = await dataSource.query<Array<{ n: string }>>(
      'SELECT sum(pg_column_size(value))::text AS n FROM catalog_objects WHERE account_udf = $1',
      [owner.udf],
    );
    const heavy = Number(weight[0]!.n);
    const [over, at] = await Promise.all(
      [heavy - 1, heavy].map(
        async (maxRowBytes) =>
          (
            await peekCatalogAccounts(dataSource.manager, [{ accountUdf: owner.udf, nonce: 'n1' }], {
              rows: true,
              maxRowBytes,
            })
          )[0],
      ),
    );
    expect(over).toEqual(atKept);
    expect(at).toEqual(stale);
    // Without `rows`, never the rows.
    const [bare] = await peekCatalogAccounts(dataSource.manager, [{ accountUdf: owner.udf, nonce: 'n1' }]);
    expect(Object.keys(bare!).sort()).toEqual(['replayed', 'revision']);
  });

  it('peekCatalogAccounts with rows reads no objects of an account at its kept revision', async () => {
    const owners = await Promise.all(['kept1', 'kept2', 'kept3'].map((n) => account(`${n}@example.com`)));
    const revisions = await Promise.all(
      owners.map(async (o) => (await readCatalogAccount(dataSource.manager, o.udf))!.revision),
    );
    /**
     * The scans of catalog_objects a peek makes, counted by its backend (the counts a backend has
     * not yet reported include its earlier transactions': the difference is the peek's).
     */
    async function objectScans(pairs: Parameters<typeof peekCatalogAccounts>[1]): Promise<number> {
      return dataSource.transaction(async (manager) => {
        const scans = async () =>
          Number(
            (
              await manager.query<Array<{ n: string }>>(
                `SELECT (coalesce(sum(seq_scan), 0) + coalesce(sum(idx_scan), 0))::text AS n
                   FROM pg_stat_xact_user_tables WHERE relname = 'catalog_objects'`,
              )
            )[0]!.n,
          );
        const before = await scans();
        await peekCatalogAccounts(manager, pairs, { rows: true });
        return (await scans()) - before;
      });
    }
    const kept = owners.map((o, i) => ({ accountUdf: o.udf, nonce: 'n1', kept: revisions[i] }));
    expect(await objectScans(kept)).toBe(0);
    // The control: an account not at its kept revision has its objects read (weighed, then carried).
    expect(await objectScans([...kept, { accountUdf: owners[0]!.udf, nonce: 'n1' }])).toBeGreaterThan(0);
  });
});
