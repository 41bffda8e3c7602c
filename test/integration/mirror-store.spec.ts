import { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { cosign, formatSignatureLine, parseNote } from '@cryptomesh/log';
import {
  LogStoreError,
  TypeOrmCosignatureStore,
  TypeOrmFindingStore,
  TypeOrmMirrorStore,
  TypeOrmRosterStore,
  TypeOrmWitnessOutbox,
  dataSourceOptions,
  runMigrations,
  type WitnessOutboxRecord,
} from '@cryptomesh/persistence';
import {
  PeerAudit,
  fixedClock,
  type CosignatureRecord,
  type MirrorPartRecord,
  type StoredFinding,
  type VerifiedPart,
} from '@cryptomesh/audit';
import { PeerLog } from '../../libs/audit/test/peer-log';
import { AccountNonces1763809320000 } from '../../libs/persistence/src/migrations/1763809320000-account-nonces';
import { AccountStateProfiles1763809700000 } from '../../libs/persistence/src/migrations/1763809700000-account-state-profiles';
import { witnessSigner, type FixturePart } from '../../libs/log/testdata/log-fixture';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { queryDatabase, snapshotDatabase } from '../support/db-snapshot';

// The mirror's adapters (TypeOrmMirrorStore, TypeOrmFindingStore, TypeOrmCosignatureStore,
// TypeOrmRosterStore) and TypeOrmWitnessOutbox against the real PostgreSQL (docs/design/
// federation.md "Storage"): a part is stored only right after the stored head, in one transaction
// with its extras; a refused write changes nothing at all.

const PEER = 'beta';
const TOPIC = 'intermesh.log.beta';
const NOW = 1_763_800_000_000 + 3_600_000;
const witness = witnessSigner('alpha.test/witness', nodeEd25519);

/** Parts of `log` as the auditor verified them, as the replication service turns them into records. */
async function verifiedRecords(log: PeerLog, parts: readonly FixturePart[]): Promise<MirrorPartRecord[]> {
  const audit = new PeerAudit(
    { id: PEER, origin: log.fixture.origin, verifierKey: log.verifierKey },
    undefined,
    {
      sealNote: () => Promise.resolve(undefined),
      accountState: () => Promise.resolve(undefined),
      accountEntries: () => Promise.resolve([]),
    },
    nodeEd25519,
    fixedClock(NOW),
  );
  const records: MirrorPartRecord[] = [];
  for (const p of parts) {
    const step = await audit.verify(p.entries, p.seal);
    if (step.kind !== 'part') throw new Error(`part ${p.value.part.index} does not verify`);
    audit.commit();
    const { seal } = step.part;
    records.push({
      peer: PEER,
      part: seal.part.index,
      first: seal.part.first,
      size: seal.size,
      partDigest: seal.part.digest,
      chain: seal.chain,
      root: seal.root,
      timeMs: seal.timeMs,
      note: step.part.note,
      source: 'topic',
      entries: step.part.entries,
      leafHashes: step.part.leafHashes,
      nodes: step.part.nodes,
      profiles: step.part.profiles,
      frontier: step.part.frontier,
      accountStates: step.part.accountStates,
    });
  }
  return records;
}

function cosignatureOf(record: MirrorPartRecord): CosignatureRecord {
  const timestamp = Math.floor(NOW / 1000);
  const line = formatSignatureLine(cosign(parseNote(record.note).text, witness, timestamp));
  return {
    subject: PEER,
    part: record.part,
    witness: 'alpha',
    seal: record.note,
    line,
    cosignedAt: timestamp,
  };
}

function outboxMessage(label: string): WitnessOutboxRecord {
  return { key: PEER, type: 'finding', value: new TextEncoder().encode(label) };
}

function finding(fingerprint: string, kind: StoredFinding['kind'], part: number | null): StoredFinding {
  return {
    fingerprint,
    subject: PEER,
    reporter: 'alpha',
    kind,
    part,
    code: kind === 'gap' ? 'assembler.gap' : 'verify.chain',
    detail: `${kind} at ${part}`,
    evidence: { expectedPart: part },
  };
}

describe('The mirror adapters and TypeOrmWitnessOutbox (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let store: TypeOrmMirrorStore;
  let findings: TypeOrmFindingStore;
  let cosignatures: TypeOrmCosignatureStore;
  let roster: TypeOrmRosterStore;
  let records: MirrorPartRecord[];

  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await queryDatabase<{ n: string }>(db.url, sql, params))[0]!.n);

  /** `attempt` rejects with `mirror.out-of-step` and leaves every table as it was. */
  async function refusedOutOfStep(attempt: () => Promise<void>): Promise<void> {
    const before = await snapshotDatabase(db.url);
    const failure = attempt();
    await expect(failure).rejects.toBeInstanceOf(LogStoreError);
    await expect(failure).rejects.toMatchObject({ code: 'mirror.out-of-step' });
    expect(await snapshotDatabase(db.url)).toEqual(before);
  }

  beforeAll(async () => {
    db = await createTestDatabase('mirrorstore');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(dataSource);
    store = new TypeOrmMirrorStore(dataSource);
    findings = new TypeOrmFindingStore(dataSource);
    cosignatures = new TypeOrmCosignatureStore(dataSource);
    roster = new TypeOrmRosterStore(dataSource);
    const log = new PeerLog(PEER, 'beta.test/log', nodeEd25519);
    const parts = [log.seal(await log.entries(3)), log.seal(await log.entries(2))];
    parts.push(log.seal([]), log.seal(await log.entries(1)));
    records = await verifiedRecords(log, parts);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('stores part 0, then part 1 with its cosignature and witness message, advancing head and progress', async () => {
    const [r0, r1] = records as [MirrorPartRecord, MirrorPartRecord];
    expect(await store.head(PEER)).toBeUndefined();
    await store.storePart(r0, { progress: { topic: TOPIC, nextOffset: 4n } });
    expect(await store.head(PEER)).toMatchObject({ part: 0, first: 0, size: 3, note: r0.note });
    expect(await store.progress(TOPIC)).toBe(4n);

    await store.storePart(r1, {
      progress: { topic: TOPIC, nextOffset: 7n },
      cosignature: cosignatureOf(r1),
      outbox: [outboxMessage('cosignature of part 1')],
    });
    expect(await store.head(PEER)).toEqual({
      part: 1,
      first: 3,
      size: 5,
      timeMs: r1.timeMs,
      note: r1.note,
      frontier: r1.frontier,
    });
    expect(await store.progress(TOPIC)).toBe(7n);
    expect(await store.sealNote(PEER, 0)).toBe(r0.note);
    expect(await cosignatures.cosignature(PEER, 1, 'alpha')).toEqual(cosignatureOf(r1));
    expect(await count(`SELECT count(*) AS n FROM mirror_entries WHERE peer = $1`, [PEER])).toBe(5);
    // Byte for byte what the records held (the bytes travel as packed binary parameters).
    expect(
      await queryDatabase(
        db.url,
        `SELECT idx, entry, leaf_hash, account FROM mirror_entries WHERE peer = $1 ORDER BY idx`,
        [PEER],
      ),
    ).toEqual(
      [r0, r1].flatMap((r) =>
        r.entries.map((entry, i) => ({
          idx: String(r.first + i),
          entry: Buffer.from(entry),
          leaf_hash: Buffer.from(r.leafHashes[i]!),
          account: r.profiles[i]?.account ?? null,
        })),
      ),
    );
    const nodes = [r0, r1].flatMap((r) => r.nodes);
    expect(nodes.length).toBeGreaterThan(0);
    expect(
      await queryDatabase(
        db.url,
        `SELECT level, idx, hash FROM mirror_tree_nodes WHERE peer = $1 ORDER BY level, idx`,
        [PEER],
      ),
    ).toEqual(
      nodes
        .map((n) => ({ level: n.level, idx: String(n.index), hash: Buffer.from(n.hash) }))
        .sort((a, b) => a.level - b.level || Number(a.idx) - Number(b.idx)),
    );
    expect(await count(`SELECT count(*) AS n FROM witness_outbox`)).toBe(1);
    expect(
      await queryDatabase(db.url, `SELECT part, source FROM mirror_seals WHERE peer = $1 ORDER BY part`, [
        PEER,
      ]),
    ).toEqual([
      { part: '0', source: 'topic' },
      { part: '1', source: 'topic' },
    ]);
  });

  it('refuses part 1 again, and part 3 after part 1, with mirror.out-of-step and changes nothing', async () => {
    const [, r1, , r3] = records;
    for (const record of [r1!, r3!]) {
      await refusedOutOfStep(() =>
        store.storePart(record, {
          progress: { topic: TOPIC, nextOffset: 100n },
          cosignature: cosignatureOf(record),
          outbox: [outboxMessage(`cosignature of part ${record.part}`)],
        }),
      );
    }
    // The same refusal with a source other than the topic (a catch-up that lost a race).
    await refusedOutOfStep(() => store.storePart({ ...r1!, source: 'catch-up' }));
    expect((await store.head(PEER))?.part).toBe(1);
  });

  it('refuses a part whose progress would move back, changes nothing, and takes it with a progress forward', async () => {
    const r2 = records[2]!;
    await refusedOutOfStep(() => store.storePart(r2, { progress: { topic: TOPIC, nextOffset: 6n } }));
    expect((await store.head(PEER))?.part).toBe(1);
    expect(await store.progress(TOPIC)).toBe(7n);

    await store.storePart(r2, { progress: { topic: TOPIC, nextOffset: 8n } });
    expect((await store.head(PEER))?.part).toBe(2);
    expect(await store.progress(TOPIC)).toBe(8n);
  });

  it('records a finding once by fingerprint, queueing its witness message once', async () => {
    const outboxBefore = await count(`SELECT count(*) AS n FROM witness_outbox`);
    const first = finding('f'.repeat(64), 'bad-part', 2);
    expect(await findings.recordFinding(first, outboxMessage('finding f'))).toBe(true);
    const before = await snapshotDatabase(db.url);
    // The same fingerprint again, even with another detail and another message: nothing changes.
    expect(await findings.recordFinding({ ...first, detail: 'seen again' }, outboxMessage('again'))).toBe(
      false,
    );
    expect(await snapshotDatabase(db.url)).toEqual(before);
    expect(
      await queryDatabase(
        db.url,
        `SELECT reporter, kind, part, detail, status FROM findings WHERE fingerprint = $1`,
        [first.fingerprint],
      ),
    ).toEqual([{ reporter: 'alpha', kind: 'bad-part', part: '2', detail: 'bad-part at 2', status: 'open' }]);
    expect(await count(`SELECT count(*) AS n FROM witness_outbox`)).toBe(outboxBefore + 1);
    expect(await findings.hasOpenFinding(PEER, 'bad-part')).toBe(true);
  });

  it('stores a finding known to be over as resolved', async () => {
    expect(await findings.recordFinding({ ...finding('e'.repeat(64), 'stale', 1), status: 'resolved' })).toBe(
      true,
    );
    const rows = await queryDatabase<{ status: string; resolved: boolean }>(
      db.url,
      `SELECT status, resolved_at IS NOT NULL AS resolved FROM findings WHERE fingerprint = $1`,
      ['e'.repeat(64)],
    );
    expect(rows).toEqual([{ status: 'resolved', resolved: true }]);
    expect(await findings.hasOpenFinding(PEER, 'stale')).toBe(false);
  });

  it('resolves open findings by kind, and up to a part', async () => {
    for (const part of [1, 2, 3])
      expect(await findings.recordFinding(finding(`${part}`.repeat(64), 'gap', part))).toBe(true);
    expect(await findings.recordFinding(finding('9'.repeat(64), 'gap', null))).toBe(true);
    const status = async () =>
      queryDatabase<{ part: string | null; kind: string; status: string; resolved: boolean }>(
        db.url,
        `SELECT part, kind, status, resolved_at IS NOT NULL AS resolved FROM findings
          WHERE subject = $1 AND kind IN ('gap', 'bad-part') ORDER BY kind, part NULLS LAST`,
        [PEER],
      );

    expect(await findings.resolveFindings(PEER, 'gap', 2)).toBe(2);
    expect(await findings.resolveFindings(PEER, 'gap', 2)).toBe(0);
    expect(await status()).toEqual([
      { part: '2', kind: 'bad-part', status: 'open', resolved: false },
      { part: '1', kind: 'gap', status: 'resolved', resolved: true },
      { part: '2', kind: 'gap', status: 'resolved', resolved: true },
      { part: '3', kind: 'gap', status: 'open', resolved: false },
      { part: null, kind: 'gap', status: 'open', resolved: false },
    ]);
    expect(await findings.resolveFindings('gamma', 'gap')).toBe(0);
    expect(await findings.resolveFindings(PEER, 'gap')).toBe(2);
    expect(await findings.hasOpenFinding(PEER, 'gap')).toBe(false);
    expect(await findings.hasOpenFinding(PEER, 'bad-part')).toBe(true);
  });

  it('writes the roster, keeping a peer no longer configured as configured = false', async () => {
    const peer = (id: string, port: number) => ({
      id,
      origin: `${id}.test/log`,
      verifierKey: `${id}.test/log+00000000+key`,
      witnessKey: `${id}.test/witness+00000000+key`,
      queryUrl: `http://127.0.0.1:${port}`,
    });
    await roster.writeRoster({ id: 'alpha', witnessKey: 'alpha-witness', quorum: 2 }, [
      peer('beta', 1001),
      peer('gamma', 1002),
    ]);
    await roster.writeRoster({ id: 'alpha', witnessKey: undefined, quorum: 1 }, [peer('beta', 2001)]);
    expect(
      await queryDatabase(db.url, `SELECT portal_id, witness_key, quorum FROM federation_portal`),
    ).toEqual([{ portal_id: 'alpha', witness_key: null, quorum: 1 }]);
    expect(
      await queryDatabase(db.url, `SELECT peer, query_url, configured FROM federation_peers ORDER BY peer`),
    ).toEqual([
      { peer: 'beta', query_url: 'http://127.0.0.1:2001', configured: true },
      { peer: 'gamma', query_url: 'http://127.0.0.1:1002', configured: false },
    ]);
  });

  describe('stored account states (mirror_account_states)', () => {
    /** A peer's auditor over the real store; counts its reads of stored states and of histories. */
    async function auditOver(peer: string, log: PeerLog, capacity?: number) {
      const reads = { states: 0, histories: 0 };
      const audit = new PeerAudit(
        { id: peer, origin: log.fixture.origin, verifierKey: log.verifierKey },
        await store.head(peer),
        {
          sealNote: (part) => store.sealNote(peer, part),
          accountState: (account) => {
            reads.states++;
            return store.accountState(peer, account);
          },
          accountEntries: (account) => {
            reads.histories++;
            return store.accountEntries(peer, account);
          },
        },
        nodeEd25519,
        fixedClock(NOW),
        capacity === undefined ? {} : { accountStateCapacity: capacity },
      );
      return { audit, reads };
    }

    const recordOf = (peer: string, part: VerifiedPart): MirrorPartRecord => {
      const { seal, ...rest } = part;
      return {
        ...rest,
        peer,
        source: 'topic',
        part: seal.part.index,
        first: seal.part.first,
        partDigest: seal.part.digest,
        size: seal.size,
        chain: seal.chain,
        root: seal.root,
        timeMs: seal.timeMs,
      };
    };

    async function verified(audit: PeerAudit, part: FixturePart): Promise<VerifiedPart> {
      const step = await audit.verify(part.entries, part.seal);
      if (step.kind !== 'part')
        throw new Error(`part ${part.value.part.index} does not verify: ${JSON.stringify(step)}`);
      return step.part;
    }

    const stateRows = (peer: string) =>
      queryDatabase<{ through: string; status: string; nonces: number }>(
        db.url,
        `SELECT s.through, s.state->>'status' AS status,
                (SELECT count(*)::int FROM mirror_nonces n WHERE n.peer = s.peer AND n.account = s.account) AS nonces
           FROM mirror_account_states s WHERE s.peer = $1 ORDER BY s.through`,
        [peer],
      );

    /**
     * Accounts 1, 2, 3 created (part 0); 1 updated with nonce 1, 2 deleted (part 1); then, by a fresh
     * auditor that keeps ONE account state, 3 updated with nonce 1 and 1 with nonce 2 (part 2, which
     * evicts account 3). Resolves to that auditor, poised to verify part 3.
     */
    async function history(peer: string) {
      const log = new PeerLog(peer, `${peer}.test/log`, nodeEd25519);
      const first = await auditOver(peer, log);
      for (const part of [
        log.seal(await log.entries(3)),
        log.seal([
          await log.accountRequest(1, { kind: 'update-device', description: 'v1' }, 1),
          await log.accountRequest(2, { kind: 'delete' }, 1),
        ]),
      ]) {
        await store.storePart(recordOf(peer, await verified(first.audit, part)));
        first.audit.commit();
      }
      const fresh = await auditOver(peer, log, 1);
      const part2 = log.seal([
        await log.accountRequest(3, { kind: 'update-device', description: 'v1' }, 1),
        await log.accountRequest(1, { kind: 'update-device', description: 'v2' }, 2),
      ]);
      await store.storePart(recordOf(peer, await verified(fresh.audit, part2)));
      fresh.audit.commit();
      return { log, ...fresh };
    }

    it("writes each changed account's state in the transaction of its part, and none when the part is refused", async () => {
      const peer = 'delta';
      const log = new PeerLog(peer, `${peer}.test/log`, nodeEd25519);
      const { audit } = await auditOver(peer, log);
      const part0 = recordOf(peer, await verified(audit, log.seal(await log.entries(3))));
      await store.storePart(part0, { progress: { topic: 'intermesh.log.delta', nextOffset: 10n } });
      audit.commit();
      expect(await stateRows(peer)).toEqual([
        { through: '0', status: 'active', nonces: 1 },
        { through: '1', status: 'active', nonces: 1 },
        { through: '2', status: 'active', nonces: 1 },
      ]);

      const part1 = recordOf(
        peer,
        await verified(
          audit,
          log.seal([
            await log.accountRequest(1, { kind: 'update-device', description: 'v1' }, 1),
            await log.accountRequest(2, { kind: 'delete' }, 1),
          ]),
        ),
      );
      expect(part1.accountStates.map((a) => a.through)).toEqual([3, 4]);
      // A store that fails (here: its progress would move back) leaves no account state either.
      await refusedOutOfStep(() =>
        store.storePart(part1, { progress: { topic: 'intermesh.log.delta', nextOffset: 9n } }),
      );
      expect(await stateRows(peer)).toHaveLength(3);
      await store.storePart(part1, { progress: { topic: 'intermesh.log.delta', nextOffset: 20n } });
      audit.commit();
      expect(await stateRows(peer)).toEqual([
        { through: '2', status: 'active', nonces: 1 },
        { through: '3', status: 'active', nonces: 2 },
        { through: '4', status: 'deleted', nonces: 2 },
      ]);
      // The database refuses a state that covers an entry not mirrored.
      await expect(
        dataSource.query(
          `INSERT INTO mirror_account_states (peer, account, state, through) VALUES ($1, 'x', '{}', 99)`,
          [peer],
        ),
      ).rejects.toThrow(/foreign key/);
    });

    it('writes a nonce once, not with every part: the state row carries none (issue #17)', async () => {
      const peer = 'theta';
      const log = new PeerLog(peer, `${peer}.test/log`, nodeEd25519);
      const { audit } = await auditOver(peer, log);
      await store.storePart(recordOf(peer, await verified(audit, log.seal(await log.entries(1)))));
      audit.commit();
      for (let nonce = 1; nonce <= 5; nonce++) {
        const part = log.seal([
          await log.accountRequest(1, { kind: 'update-device', description: `v${nonce}` }, nonce),
        ]);
        const record = recordOf(peer, await verified(audit, part));
        expect(record.accountStates.map((a) => a.nonces.length)).toEqual([1]);
        await store.storePart(record);
        audit.commit();
      }
      expect(await stateRows(peer)).toEqual([{ through: '5', status: 'active', nonces: 6 }]);
      const [row] = await queryDatabase<{ keys: string[] }>(
        db.url,
        `SELECT array(SELECT jsonb_object_keys(state) ORDER BY 1) AS keys FROM mirror_account_states WHERE peer = $1`,
        [peer],
      );
      expect(row!.keys).not.toContain('nonces');
    });

    it('the migration moves the nonces of version-1 states into their rows and back (AccountNonces up and down)', async () => {
      const peer = 'iota';
      const log = new PeerLog(peer, `${peer}.test/log`, nodeEd25519);
      const { audit } = await auditOver(peer, log);
      await store.storePart(recordOf(peer, await verified(audit, log.seal(await log.entries(2)))));
      audit.commit();
      const [{ account }] = (await queryDatabase<{ account: string }>(
        db.url,
        `SELECT account FROM mirror_account_states WHERE peer = $1 ORDER BY through LIMIT 1`,
        [peer],
      )) as [{ account: string }];
      const before = await store.accountState(peer, account);
      expect(before?.nonces).toHaveLength(1);
      const runner = dataSource.createQueryRunner();
      try {
        const migration = new AccountNonces1763809320000();
        await migration.down(runner);
        const [v1] = await queryDatabase<{ v: number; nonces: number }>(
          db.url,
          `SELECT (state->>'v')::int AS v, jsonb_array_length(state->'nonces') AS nonces
             FROM mirror_account_states WHERE peer = $1 ORDER BY through LIMIT 1`,
          [peer],
        );
        expect(v1).toEqual({ v: 1, nonces: 1 });
        await migration.up(runner);
      } finally {
        await runner.release();
      }
      expect(await stateRows(peer)).toEqual([
        { through: '0', status: 'active', nonces: 1 },
        { through: '1', status: 'active', nonces: 1 },
      ]);
      expect(await store.accountState(peer, account)).toEqual(before);
    });

    it('stores each signed profile once and the state rows by reference; an inline row reads as it is; down puts them inline (issue #17)', async () => {
      const peer = 'kappa';
      const log = new PeerLog(peer, `${peer}.test/log`, nodeEd25519);
      const { audit } = await auditOver(peer, log);
      await store.storePart(recordOf(peer, await verified(audit, log.seal(await log.entries(2)))));
      audit.commit();
      for (let nonce = 1; nonce <= 3; nonce++) {
        const part = log.seal([
          await log.accountRequest(1, { kind: 'update-device', description: `v${nonce}` }, nonce),
        ]);
        await store.storePart(recordOf(peer, await verified(audit, part)));
        audit.commit();
      }
      const rows = await queryDatabase<{ account: string; master: string | null; personal: string | null }>(
        db.url,
        `SELECT account, state -> 'master' ->> 'sha256' AS master, state -> 'personal' ->> 'sha256' AS personal
           FROM mirror_account_states WHERE peer = $1 ORDER BY through`,
        [peer],
      );
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.master).toMatch(/^[0-9a-f]{64}$/);
        expect(row.personal).toMatch(/^[0-9a-f]{64}$/);
      }
      // Four parts rewrote account 1's state; its master profile is one row, whose digest is its text's.
      const stored = await queryDatabase<{ n: number; ok: boolean }>(
        db.url,
        `SELECT count(*)::int AS n, bool_and(sha256(convert_to(jws, 'UTF8')) = digest) AS ok
           FROM mirror_account_profiles WHERE digest = ANY($1::bytea[])`,
        [rows.map((r) => Buffer.from(r.master!, 'hex'))],
      );
      expect(stored).toEqual([{ n: 2, ok: true }]);
      const before = await Promise.all(rows.map((r) => store.accountState(peer, r.account)));
      expect(
        before.every((b) => b !== undefined && typeof (b.state as { master: unknown }).master === 'object'),
      ).toBe(true);
      expect(JSON.stringify(before)).not.toContain('sha256');

      const runner = dataSource.createQueryRunner();
      try {
        const migration = new AccountStateProfiles1763809700000();
        await migration.down(runner);
        // Down: every state holds its profiles inline again, and reads the same without the tables.
        const inline = await queryDatabase<{ refs: number }>(
          db.url,
          `SELECT count(*)::int AS refs FROM mirror_account_states WHERE state::text LIKE '%"sha256"%'`,
        );
        expect(inline).toEqual([{ refs: 0 }]);
        await migration.up(runner);
      } finally {
        await runner.release();
      }
      // Up again: the inline rows (as written before the migration) read as they are ...
      expect(await Promise.all(rows.map((r) => store.accountState(peer, r.account)))).toEqual(before);
      // ... and the next part that changes an account stores it by reference again.
      const part = log.seal([await log.accountRequest(1, { kind: 'update-device', description: 'v4' }, 4)]);
      await store.storePart(recordOf(peer, await verified(audit, part)));
      audit.commit();
      const refs = await queryDatabase<{ refs: number }>(
        db.url,
        `SELECT count(*)::int AS refs FROM mirror_account_states WHERE peer = $1 AND state -> 'master' ? 'sha256'`,
        [peer],
      );
      expect(refs).toEqual([{ refs: 1 }]);
    });

    it('an auditor that keeps one account state still finds a replayed (account, nonce) from the stored state, reading no history', async () => {
      const { log, audit, reads } = await history('epsilon');
      const replay = log.seal([
        await log.accountRequest(3, { kind: 'update-device', description: 'v1 again' }, 1),
      ]);
      const step = await audit.verify(replay.entries, replay.seal);
      expect(step).toMatchObject({
        kind: 'finding',
        finding: { kind: 'rule', code: 'request.replayed', part: 3 },
      });
      expect(reads.histories).toBe(0);
      expect(reads.states).toBeGreaterThan(0);
    });

    it('an auditor that keeps one account state still finds a resurrected account from the stored state, reading no history', async () => {
      const { log, audit, reads } = await history('zeta');
      const resurrect = log.seal([await log.accountRequest(2, { kind: 'create' }, 7)]);
      const step = await audit.verify(resurrect.entries, resurrect.seal);
      expect(step).toMatchObject({
        kind: 'finding',
        finding: { kind: 'rule', code: 'account.deleted', part: 3 },
      });
      expect(reads.histories).toBe(0);
    });

    it('replays an account that has no stored state (a mirror older than the table) once, then stores its state', async () => {
      const peer = 'eta';
      const log = new PeerLog(peer, `${peer}.test/log`, nodeEd25519);
      const { audit } = await auditOver(peer, log);
      await store.storePart(recordOf(peer, await verified(audit, log.seal(await log.entries(2)))));
      audit.commit();
      // As after the migration on an existing mirror: entries, but no state rows.
      await dataSource.query(`DELETE FROM mirror_account_states WHERE peer = $1`, [peer]);
      const fresh = await auditOver(peer, log, 1);
      const part1 = log.seal([await log.accountRequest(1, { kind: 'update-device', description: 'v1' }, 1)]);
      await store.storePart(recordOf(peer, await verified(fresh.audit, part1)));
      fresh.audit.commit();
      expect(fresh.reads.histories).toBe(1);
      expect(await stateRows(peer)).toEqual([{ through: '2', status: 'active', nonces: 2 }]);
      // Evicted and read again: from the row now.
      const again = await auditOver(peer, log, 1);
      const replay = log.seal([
        await log.accountRequest(1, { kind: 'update-device', description: 'v1 again' }, 1),
      ]);
      expect(await again.audit.verify(replay.entries, replay.seal)).toMatchObject({
        kind: 'finding',
        finding: { code: 'request.replayed' },
      });
      expect(again.reads.histories).toBe(0);
    });
  });

  describe('TypeOrmWitnessOutbox.publishBatch', () => {
    let outbox: TypeOrmWitnessOutbox;
    const labels = (messages: readonly WitnessOutboxRecord[]) =>
      messages.map((m) => new TextDecoder().decode(m.value));

    beforeAll(async () => {
      outbox = new TypeOrmWitnessOutbox(dataSource);
      await dataSource.query(`DELETE FROM witness_outbox`);
      for (const label of ['m1', 'm2', 'm3'])
        await findings.recordFinding(finding(`outbox-${label}`, 'rule', 0), outboxMessage(label));
    });

    it.each([
      ['rejects', () => Promise.reject(new Error('the broker is down'))],
      [
        'throws',
        () => {
          throw new Error('the broker is down');
        },
      ],
    ])('leaves every row queued when the publish callback %s', async (_, fail: () => Promise<void>) => {
      const before = await snapshotDatabase(db.url);
      const seen: string[][] = [];
      await expect(
        outbox.publishBatch(10, (messages) => {
          seen.push(labels(messages));
          return fail();
        }),
      ).rejects.toThrow('the broker is down');
      expect(seen).toEqual([['m1', 'm2', 'm3']]);
      expect(await snapshotDatabase(db.url)).toEqual(before);
      expect(await outbox.pending()).toBe(3);
    });

    it('deletes the oldest rows only once the callback resolved; a concurrent batch takes the others', async () => {
      const published: string[][] = [];
      const first = outbox.publishBatch(2, async (messages) => {
        // Still queued while the producer has not acknowledged them.
        expect(await outbox.pending()).toBe(3);
        // Locked rows are skipped by a second instance: it takes the third message only.
        const other = await outbox.publishBatch(10, (rest) => {
          published.push(labels(rest));
          return Promise.resolve();
        });
        expect(other).toBe(1);
        published.push(labels(messages));
      });
      expect(await first).toBe(2);
      expect(published).toEqual([['m3'], ['m1', 'm2']]);
      expect(await outbox.pending()).toBe(0);
      expect(await outbox.publishBatch(10, () => Promise.reject(new Error('never called')))).toBe(0);
    });
  });
});
