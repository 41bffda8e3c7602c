import { DataSource } from 'typeorm';
import { accountUdf, nodeEd25519 } from '@cryptomesh/crypto';
import { entryLeafHash, fromBase64, openSeal, parseVerifierKey, verifyInclusion } from '@cryptomesh/log';
import { decodeRecord, type SignedProfile, type TransactionRecord } from '@cryptomesh/mesh';
import { dataSourceOptions } from '@cryptomesh/persistence';
import { createService, type RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { queryApp } from '../../apps/query/src/query.app';
import {
  checkpoint,
  enqueueAll,
  eventually,
  fetchAndVerifyLog,
  testEntry,
  testLogKey,
} from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { post, TestAccount } from '../support/mesh-client';
import { runScriptedSession } from '../support/scripted-session';
import type { ProfileAnswer } from '../support/mirror-client';
import { startGateway } from '../support/test-gateway';

/** Every signed profile a record carries, found the way any client would: by reading the record. */
function profilesIn(record: TransactionRecord): SignedProfile[] {
  switch (record.operation) {
    case 'CreateAccount':
      return [record.master, record.personal, ...record.devices];
    case 'Publish':
      return record.value === undefined ? [] : [record.value];
    case 'ConnectComplete':
      return [record.personal, record.device];
    case 'DeleteAccount':
    case 'MoveAccount':
      return [];
  }
}

/**
 * `GET /profiles/{udf}` (issue #5): gateway, log-signer and query in-process on one PostgreSQL
 * database, the scripted client session, then every profile of the session looked up and checked as
 * a client would — the checkpoint's signature with the verifier key, the inclusion proof of the entry
 * against it, and the profile found in the decoded entry.
 */
describe('query: GET /profiles/{udf}', () => {
  const key = testLogKey('profiles.example/log');
  const address = 'erin@example.org';
  const common = () => ({ PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url });
  let db: TestDatabase;
  let dataSource: DataSource;
  let gateway: RunningService;
  let signer: RunningService | undefined;
  let query: RunningService;
  let records: TransactionRecord[];
  /** Entry index of each record (entries that are not records are interleaved). */
  let indices: number[];

  const startSigner = async (): Promise<RunningService> =>
    (signer = await createService(logSignerApp, {
      ...common(),
      LOG_KEY: key.signerKey,
      // Arbitrary JSON entries, not Mesh records: only the log is under test here.
      LOG_SIGNER_RULES: 'none',
      SEAL_INTERVAL_MS: '100',
    }));

  beforeAll(async () => {
    db = await createTestDatabase('profiles');
    gateway = await startGateway(db.url, { LOG_ORIGIN: key.origin, LOG_VERIFIER_KEY: key.verifierKey });
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    await startSigner();
    query = await createService(queryApp, common());

    // An entry that is no record, first: the signer must sequence it and index nothing for it.
    await enqueueAll(dataSource, [testEntry('not-a-record', 0)]);
    const expected = await runScriptedSession(gateway.url, address);
    await eventually(
      'a checkpoint covering the session',
      async () => {
        const seal = await checkpoint(query.url, key);
        return seal && seal.size >= expected.length + 1 ? seal : undefined;
      },
      20_000,
    );
    const log = await fetchAndVerifyLog(query.url, key);
    records = [];
    indices = [];
    log.entries.forEach((entry, i) => {
      try {
        records.push(decodeRecord(entry));
        indices.push(i);
      } catch {
        // the test entry
      }
    });
    expect(records.map((r) => r.operation)).toEqual(expected);
    expect(log.entries.length).toBe(expected.length + 1);
  }, 60_000);

  afterAll(async () => {
    await query?.app.close();
    await signer?.app.close();
    await gateway?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  async function restartQuery(): Promise<void> {
    await query.app.close();
    query = await createService(queryApp, common());
  }

  async function get(name: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${query.url}/profiles/${name}`);
    return { status: res.status, body: await res.json() };
  }

  /** The client's check of an answer; resolves to the signed profile found in the proven entry. */
  function verifyAnswer(answer: ProfileAnswer, id: string): SignedProfile {
    const { seal } = openSeal(answer.checkpoint, parseVerifierKey(key.verifierKey), nodeEd25519, key.origin);
    expect(answer.proof).toMatchObject({ index: answer.index, size: seal.size });
    const entry = fromBase64(answer.entry);
    verifyInclusion(
      answer.index,
      seal.size,
      entryLeafHash(entry),
      answer.proof.path.map((p) => fromBase64(p)),
      seal.root,
    );
    const found = profilesIn(decodeRecord(entry)).find((p) => p.profile.id === id);
    expect(found).toBeDefined();
    expect(answer.profile).toEqual(found!.jws);
    expect(answer.id).toBe(id);
    return found!;
  }

  async function lookUp(name: string, id: string): Promise<ProfileAnswer> {
    const res = await get(name);
    expect(res.status).toBe(200);
    verifyAnswer(res.body as ProfileAnswer, id);
    return res.body as ProfileAnswer;
  }

  const create = () => records[0] as Extract<TransactionRecord, { operation: 'CreateAccount' }>;
  const connect = () => records[3] as Extract<TransactionRecord, { operation: 'ConnectComplete' }>;
  const application = () => records[2] as Extract<TransactionRecord, { operation: 'Publish' }>;

  it('serves the Master, the admin device and the connected device from the entries that set them', async () => {
    const master = await lookUp(create().master.profile.id, create().master.profile.id);
    expect(master.index).toBe(indices[0]);
    expect(master.account).toBe(accountUdf(address));
    const laptop = create().devices[0]!.profile.id;
    expect((await lookUp(laptop, laptop)).index).toBe(indices[0]);
    const phone = connect().device.profile.id;
    expect((await lookUp(phone, phone)).index).toBe(indices[3]);
  });

  it('serves the LATEST Personal Profile: the one ConnectComplete set, not CreateAccount’s or the update’s', async () => {
    const id = create().personal.profile.id;
    const answer = await lookUp(id, id);
    expect(answer.index).toBe(indices[3]);
    const served = verifyAnswer(answer, id);
    expect(served.profile).toMatchObject({ kind: 'personal', sequence: connect().personal.profile.sequence });
    expect(served.profile).toMatchObject({ sequence: 2 });
  });

  it('answers 404 profile.not-found, saying "deleted" and by which entry, for the deleted application', async () => {
    const id = application().id;
    expect(application().action).toBe('create');
    const res = await get(id);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'profile.not-found' } });
    const message = (res.body as { error: { message: string } }).error.message;
    expect(message).toContain('deleted');
    expect(message).toContain(`entry ${indices[4]}`);
  });

  it('answers 404 profile.not-found for a UDF no entry sets', async () => {
    const res = await get(accountUdf('nobody@example.org'));
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'profile.not-found' } } });
  });

  it('accepts mmm: URIs (encoded or not, with or without the account) and any case or dashes', async () => {
    const id = create().master.profile.id;
    const loose = id.replace(/-/g, '').toLowerCase();
    await lookUp(encodeURIComponent(`mmm:${id}`), id);
    await lookUp(`mmm:${id}`, id);
    await lookUp(encodeURIComponent(`MMM:${loose}:${address}`), id);
    await lookUp(`mmm:${id}:${address}`, id);
    await lookUp(loose, id);
    await lookUp(id.slice(0, 24), id); // a shorter UDF by the prefix rule (20 characters, 100 bits)
    // Another account has no such profile.
    expect(await get(encodeURIComponent(`mmm:${id}:someone@example.org`))).toMatchObject({
      status: 404,
      body: { error: { code: 'profile.not-found' } },
    });
  });

  it.each([
    ['garbage', 'not-a-udf'],
    ['a UDF of the wrong kind (nonce)', 'NAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA'],
    ['a UDF too short', 'MBLJ-5I4B'],
    ['an mmm: URI with a bad account', encodeURIComponent('mmm:MBLJ-5I4B-OELU-RACJ-GRVW-H2RT-LGFO:alice')],
    ['an mmm: URI with no fingerprint', 'mmm:'],
  ])('answers 400 profile.bad-id for %s', async (_what, name) => {
    expect(await get(name)).toMatchObject({ status: 400, body: { error: { code: 'profile.bad-id' } } });
  });

  /** Set by the DeleteAccount test: the ended account's Master Profile and the DeleteAccount entry. */
  let deletedAccount: { master: string; index: number };
  /** The sealed size once the DeleteAccount is sealed. */
  let sealedSize: number;

  it('answers "deleted" for every profile of an account that DeleteAccount ended', async () => {
    const grace = await TestAccount.create('grace@example.org', undefined, key.origin);
    for (const [name, body] of [
      ['CreateAccount', await grace.createAccount()],
      ['DeleteAccount', await grace.deleteAccount()],
    ] as const) {
      const answer = await post(gateway.url, name, body);
      expect({ status: answer.status, member: answer.member }).toEqual({
        status: 200,
        member: `${name}Response`,
      });
    }
    const size = records.length + 3;
    await eventually(
      'the DeleteAccount sealed',
      async () => ((await checkpoint(query.url, key))?.size ?? 0) >= size || undefined,
      20_000,
    );
    sealedSize = size;
    deletedAccount = { master: grace.master.profile.id, index: size - 1 };
    for (const id of [grace.master.profile.id, grace.personal.profile.id, grace.admin.profile.profile.id]) {
      const res = await get(id);
      expect(res).toMatchObject({ status: 404, body: { error: { code: 'profile.not-found' } } });
      expect((res.body as { error: { message: string } }).error.message).toContain(
        `deleted by entry ${size - 1}`,
      );
    }
    // The first account is untouched.
    const id = create().master.profile.id;
    await lookUp(id, id);
  });

  it('rebuilds an emptied index when the log-signer starts (backfill), and serves the same answers', async () => {
    const personal = create().personal.profile.id;
    const before = await lookUp(personal, personal);
    await signer!.app.close();
    signer = undefined;
    await dataSource.query('DELETE FROM log_profile_index');
    await dataSource.query('UPDATE log_profile_index_state SET indexed_size = 0');
    // A query process keeps the answers it computed while the log heads do not move (no seal here:
    // the signer is stopped), derived from sealed data: a new one sees the emptied index.
    await restartQuery();
    expect(await get(personal)).toMatchObject({ status: 404 });

    await startSigner(); // backfills while taking the leadership, before it listens
    await restartQuery(); // nothing of the emptied index's answers kept: every answer below is read
    const state = await dataSource.query<Array<{ n: string }>>(
      'SELECT indexed_size AS n FROM log_profile_index_state',
    );
    expect(Number(state[0]?.n)).toBe(sealedSize);
    const after = await lookUp(personal, personal);
    expect({ ...after, checkpoint: '', proof: {} }).toEqual({ ...before, checkpoint: '', proof: {} });
    const deleted = await get(application().id);
    expect((deleted.body as { error: { message: string } }).error.message).toContain(`entry ${indices[4]}`);
    const ended = await get(deletedAccount.master);
    expect((ended.body as { error: { message: string } }).error.message).toContain(
      `deleted by entry ${deletedAccount.index}`,
    );

    // And it goes on indexing as it sequences: a new account's Master Profile is found.
    const more = await runScriptedSession(gateway.url, 'frank@example.org');
    expect(more[0]).toBe('CreateAccount');
    const total = sealedSize + more.length;
    await eventually(
      'the second session sealed',
      async () => ((await checkpoint(query.url, key))?.size ?? 0) >= total || undefined,
      20_000,
    );
    const log = await fetchAndVerifyLog(query.url, key);
    const second = decodeRecord(log.entries[sealedSize]!) as Extract<
      TransactionRecord,
      { operation: 'CreateAccount' }
    >;
    const masterId = second.master.profile.id;
    expect((await lookUp(masterId, masterId)).index).toBe(sealedSize);
  }, 60_000);
});
