import { DataSource } from 'typeorm';
import { encodeEntry } from '@cryptomesh/log';
import {
  authoriseRecord,
  decodeAuditedAccount,
  decodeRecord,
  encodeRecord,
  recheckLog,
  REQUEST_TYPE,
  type RecordContent,
} from '@cryptomesh/mesh';
import { signPayload } from '../../libs/mesh/src/profile-envelope';
import {
  PostgresLogSignerStore,
  dataSourceOptions,
  enqueueEntry,
  runMigrations,
} from '@cryptomesh/persistence';
import { createService, type RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { checkpoint, fetchAndVerifyLog, testLogKey } from '../../apps/log-signer/test/log-fixture';
import { queryApp } from '../../apps/query/src/query.app';
import {
  createServiceUsers,
  createTestDatabase,
  type ServiceUsers,
  type TestDatabase,
} from '../env/test-database';
import { waitFor } from '../support/federation-oracle';
import { newDevice, post, TestAccount, type Fields, type TestDevice } from '../support/mesh-client';
import { scrape } from '../support/prometheus-text';
import { startGateway } from '../support/test-gateway';

/**
 * Issue #15, least privilege: "the log-signer decodes and validates each queued record before sealing
 * it". The gateway's database role may queue any bytes, so a compromised gateway could queue a
 * well-formed record that breaks the Mesh rules — a replay, a request signed by a key the account
 * never listed — and have the log key seal it, for every peer to report. The log-signer re-checks
 * every queued record with the auditors' rules against the stored state of its account and refuses
 * such a row: kept in log_queue_refused with its reason, counted, logged, never sealed; the honest
 * records around it are sealed, and the whole log re-checks as a peer's auditor reads it.
 * Real PostgreSQL; the gateway, log-signer and query in-process, each with its own database role.
 */
describe('log-signer: re-checks every queued record before sealing it (#15)', () => {
  const key = testLogKey('alpha.example/log');
  let db: TestDatabase;
  let users: ServiceUsers;
  let gateway: RunningService;
  let signer: RunningService | undefined;
  let query: RunningService;
  /** Connected as the gateway's role: what a compromised gateway pod can do. */
  let asGateway: DataSource;
  let owner: DataSource;

  const startSigner = () =>
    createService(logSignerApp, {
      PORT: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: users.urls['log-signer'],
      DB_MIGRATIONS: 'check',
      LOG_KEY: key.signerKey,
      SEAL_INTERVAL_MS: '50',
      QUEUE_POLL_MS: '10',
    });

  beforeAll(async () => {
    db = await createTestDatabase('signer-rules');
    owner = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    await runMigrations(owner);
    users = await createServiceUsers(db);
    const common = { DB_MIGRATIONS: 'check', LOG_ORIGIN: key.origin, LOG_VERIFIER_KEY: key.verifierKey };
    gateway = await startGateway(users.urls.gateway, common);
    signer = await startSigner();
    query = await createService(queryApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: users.urls.query,
      ...common,
    });
    asGateway = await new DataSource(
      dataSourceOptions({ url: users.urls.gateway, poolSize: 1 }),
    ).initialize();
  }, 60_000);

  afterAll(async () => {
    await signer?.app.close();
    await query?.app.close();
    await gateway?.app.close();
    await asGateway?.destroy();
    await owner?.destroy();
    await users?.drop();
  });

  async function accepted(name: string, body: Fields): Promise<void> {
    const answer = await post(gateway.url, name, body);
    expect([answer.status, answer.fields.Error]).toEqual([200, undefined]);
  }

  const sealedSize = (size: number) =>
    waitFor(`a checkpoint of ${size} entries`, async () => {
      const seal = await checkpoint(query.url, key);
      return seal !== undefined && seal.size >= size ? seal.size : undefined;
    });

  const refusedRows = () =>
    owner.query<Array<{ request_id: string; reason: string }>>(
      'SELECT request_id, reason FROM log_queue_refused ORDER BY seq',
    );

  it('refuses a replay, a forged signer, a record of another portal and text it cannot store (a NUL); seals the honest ones', async () => {
    const alice = await TestAccount.create('alice@example.com', undefined, key.origin);
    const bob = await TestAccount.create('bob@example.com', undefined, key.origin);
    await accepted('CreateAccount', await alice.createAccount());
    await accepted('CreateAccount', await bob.createAccount());
    expect(await sealedSize(2)).toBe(2);
    const log = await fetchAndVerifyLog(query.url, key);

    // What a compromised gateway queues, bypassing its own checks (its role may INSERT the queue):
    const mallory = await newDevice('mallory');
    const signed = (content: RecordContent, by: TestDevice, portal = key.origin) =>
      authoriseRecord(content, by.signature, { portal, time: Date.now() }).then(encodeRecord);
    const renonced = async (content: RecordContent, by: TestDevice, nonce: string) => {
      const record = await authoriseRecord(content, by.signature, { portal: key.origin, time: Date.now() });
      const claims = JSON.parse(Buffer.from(record.authorisation.payload, 'base64url').toString()) as object;
      const authorisation = await signPayload({ ...claims, Nonce: nonce }, REQUEST_TYPE, by.signature);
      return encodeRecord({ ...record, authorisation });
    };
    const evil: Array<[string, Uint8Array]> = [
      ['replay', log.entries[0]!], // alice's CreateAccount again, byte for byte
      // alice's deletion, signed by a device alice never listed
      ['forged', await signed({ operation: 'DeleteAccount', account: alice.udf }, mallory)],
      // bob's own deletion, but signed for another portal's log
      [
        'elsewhere',
        await signed({ operation: 'DeleteAccount', account: bob.udf }, bob.admin, 'beta.example/log'),
      ],
      // bob's own deletion, signed by bob's device, with a NUL in its Nonce (PostgreSQL refuses it in
      // text: stored as the account's nonce, it would stop the log)
      [
        'nonce',
        await renonced(
          { operation: 'DeleteAccount', account: bob.udf },
          bob.admin,
          'AAAAAAAAAAAAAAAAAAAAA\u0000',
        ),
      ],
      // Text PostgreSQL cannot store, where the log-signer keys its states or writes its refusal:
      // a NUL in the Account (unsigned), a NUL quoted in the refusal's reason, a MoveAccount's To.
      [
        'account',
        encodeEntry({ Account: `${bob.udf}\u0000`, Authorisation: {}, Operation: 'DeleteAccount' }),
      ],
      [
        'reason',
        encodeEntry({
          Account: bob.udf,
          Action: '\u0000',
          Authorisation: {},
          Id: bob.udf,
          Operation: 'Publish',
        }),
      ],
      [
        'moved',
        await signed({ operation: 'MoveAccount', account: bob.udf, to: 'beta.example/log\u0000' }, bob.admin),
      ],
    ];
    for (const [requestId, entry] of evil)
      await asGateway.transaction((tx) => enqueueEntry(tx, entry, { requestId }));
    // An honest request after them is sealed as usual.
    await accepted('DeleteAccount', await bob.deleteAccount());

    expect(await sealedSize(3)).toBe(3);
    await waitFor('the queue drained', async () => {
      const rows = await owner.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM log_queue');
      return rows[0]!.n === 0 ? true : undefined;
    });
    expect((await refusedRows()).map((r) => [r.request_id, r.reason.split(':')[0]])).toEqual([
      ['replay', 'account.exists'],
      ['forged', expect.stringMatching(/^request\./)],
      ['elsewhere', 'request.wrong-portal'],
      ['nonce', 'request.malformed'],
      ['account', 'record.malformed'],
      ['reason', 'record.malformed'],
      ['moved', 'record.malformed'],
    ]);
    // Stored as written, the refused text escaped.
    expect((await refusedRows()).find((r) => r.request_id === 'reason')?.reason).toContain('\\u0000');
    const after = await fetchAndVerifyLog(query.url, key);
    expect(after.entries).toHaveLength(3);
    expect(decodeRecord(after.entries[2]!)).toMatchObject({ operation: 'DeleteAccount', account: bob.udf });
    // The log is exactly what every peer's auditor accepts.
    expect(await recheckLog(after.entries, { origin: key.origin })).toMatchObject({ ok: true });
    expect((await scrape(signer!.url)).sum('log_entries_refused_total')).toBe(7);
    expect((await fetch(`${signer!.url}/health/ready`)).status).toBe(200); // still signing
  });

  it('rebuilds the account states of a log sealed before them, and still refuses a replay', async () => {
    await signer!.app.close();
    signer = undefined;
    // A database whose log predates the states (or whose states were lost): the next leader
    // re-checks the sealed entries before it sequences anything.
    await owner.query('DELETE FROM log_account_states');
    await owner.query('UPDATE log_account_states_state SET checked_size = 0');
    const log = await fetchAndVerifyLog(query.url, key);
    await asGateway.transaction((tx) =>
      enqueueEntry(tx, log.entries[1]!, { requestId: 'replay-after-restart' }),
    );
    signer = await startSigner();
    await waitFor('the replay refused', async () => {
      const rows = await refusedRows();
      return rows.length === 8 ? rows : undefined;
    });
    expect((await refusedRows())[7]).toMatchObject({
      request_id: 'replay-after-restart',
      // bob's CreateAccount again: the rebuilt state knows that bob was deleted since.
      reason: expect.stringMatching(/^account\.deleted/) as string,
    });
    const state = await owner.query<Array<{ checked_size: string }>>(
      'SELECT checked_size FROM log_account_states_state',
    );
    expect(state).toEqual([{ checked_size: '3' }]);
    expect(await owner.query('SELECT count(*)::int AS n FROM log_account_states')).toEqual([{ n: 2 }]);
    // Each state row refers to its profiles, stored once each (issue #17).
    const refs = await owner.query<Array<{ master: string | null; profiles: number }>>(
      `SELECT s.state -> 'master' ->> 'sha256' AS master,
              (SELECT count(*)::int FROM log_account_profiles) AS profiles
         FROM log_account_states s`,
    );
    expect(refs.every((r) => /^[0-9a-f]{64}$/.test(r.master ?? ''))).toBe(true);
    expect(refs[0]!.profiles).toBeGreaterThanOrEqual(4); // two accounts' master and personal
    // Read back by the next leader as the re-check reads them: whole, profiles in place.
    await signer.app.close();
    signer = undefined;
    const session = await new PostgresLogSignerStore({ url: db.url }).tryLead();
    expect(session).toBeDefined();
    try {
      const accounts = await owner.query<Array<{ account: string }>>(
        'SELECT account FROM log_account_states',
      );
      for (const { account } of accounts) {
        const stored = await session!.accountState(account);
        expect(JSON.stringify(stored?.state)).not.toContain('sha256');
        const decoded = decodeAuditedAccount(stored!.state, stored!.nonces);
        expect(decoded.state.account).toBe(account);
        expect(decoded.state.master.jws.signature).toMatch(/^[A-Za-z0-9_-]+$/);
      }
    } finally {
      await session?.close();
    }
  });
});
