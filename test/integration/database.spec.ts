import { DataSource, type EntityManager } from 'typeorm';
import {
  ConsumerProgressEntity,
  PersistenceError,
  TypeOrmConsumerProgressStore,
  dataSourceOptions,
  readLogBacklog,
  runMigrations,
  schemaIsCurrent,
} from '@cryptomesh/persistence';
import { createTestDatabase, TestDatabase } from '../env/test-database';

describe('PostgreSQL through TypeORM (real server)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('persistence');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('applies the migrations once, even when two services migrate at the same moment', async () => {
    expect(await schemaIsCurrent(dataSource)).toBe(false);
    const other = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    try {
      const [mine, theirs] = await Promise.all([runMigrations(dataSource), runMigrations(other)]);
      expect([...mine, ...theirs].map((m) => m.name)).toEqual([
        'ConsumerProgress1763776800000',
        'Log1763780400000',
        'Catalog1763784000000',
        'ProfileIndex1763787600000',
        'Publication1763791200000',
        'Federation1763794800000',
        'QueueRequestId1763798400000',
        'StatusHistory1763802000000',
        'ConnectNonce1763805600000',
        'AccountMoved1763805700000',
        'FindingVerified1763805800000',
        'EscrowQuota1763806500000',
        'MirrorAccountStates1763807000000',
        'ConnectSource1763807500000',
        'ServiceRoles1763808000000',
        'QueueRefused1763808100000',
        'LogAccountStates1763808200000',
        'Tiles1763809200000',
        'OutsideWitnesses1763809210000',
        'AccountRevision1763809300000',
        'AccountNonces1763809320000',
        'EscrowMirror1763809350000',
        'LogKeyTransitions1763809400000',
        'CatalogsInbound1763809500000',
        'QueueSerialScan1763809600000',
        'AccountStateProfiles1763809700000',
      ]);
    } finally {
      await other.destroy();
    }
    expect(await schemaIsCurrent(dataSource)).toBe(true);
    expect(await runMigrations(dataSource)).toEqual([]);
    const tables = await dataSource.query<Array<{ table_name: string }>>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      'accounts',
      'catalog_objects',
      'connect_requests',
      'consumer_progress',
      'cosignatures',
      'escrow_blobs',
      'escrow_outbox',
      'federation_peers',
      'federation_portal',
      'findings',
      'inbound_outbox',
      'inbound_spool',
      'log_account_profiles',
      'log_account_states',
      'log_account_states_state',
      'log_entries',
      'log_nonces',
      'log_profile_index',
      'log_profile_index_state',
      'log_publication',
      'log_queue',
      'log_queue_refused',
      'log_seals',
      'log_tiles',
      'log_tree_nodes',
      'mirror_account_profiles',
      'mirror_account_states',
      'mirror_entries',
      'mirror_escrow_blobs',
      'mirror_heads',
      'mirror_nonces',
      'mirror_profile_index',
      'mirror_seals',
      'mirror_tiles',
      'mirror_tree_nodes',
      'outside_witnesses',
      'request_nonces',
      'schema_migrations',
      'user_catalog_objects',
      'witness_checkpoints',
      'witness_outbox',
    ]);
  });

  it('keeps a moved account only with the origin it moved to (migration AccountMoved)', async () => {
    const insert = (udf: string, status: string, movedTo: string | null) =>
      dataSource.query(
        `INSERT INTO accounts (account_udf, address, status, moved_to, master, personal)
         VALUES ($1, $1 || '@example.com', $2, $3, '{}', '{}')`,
        [udf, status, movedTo],
      );
    await insert('moved', 'moved', 'beta.example/log');
    await expect(insert('moved-nowhere', 'moved', null)).rejects.toThrow(/accounts_moved_to_check/);
    await expect(insert('active-elsewhere', 'active', 'beta.example/log')).rejects.toThrow(
      /accounts_moved_to_check/,
    );
    await expect(insert('gone', 'vanished', null)).rejects.toThrow(/accounts_status_check/);
    await dataSource.query(`DELETE FROM accounts WHERE account_udf = 'moved'`);
  });

  it("plans the gateway's count of a large log queue in one backend (migration QueueSerialScan)", async () => {
    // The statement readLogBacklog sends, captured as it sends it.
    let sql = '';
    await readLogBacklog({
      query: (text: string) => {
        sql = text;
        return Promise.resolve([{ depth: '0', oldest_ms: null }]);
      },
    } as unknown as EntityManager);
    expect(sql).toMatch(/FROM log_queue/);
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // Rows enough for the planner to scan the table in parallel without the setting (the control
      // below shows it), with PostgreSQL's default planner costs whatever the server's own. Rolled
      // back, but for what ANALYZE and the sequence keep: this database is this file's alone.
      await runner.query(
        `SET LOCAL max_parallel_workers_per_gather = 2; SET LOCAL parallel_setup_cost = 1000;
         SET LOCAL parallel_tuple_cost = 0.1; SET LOCAL min_parallel_table_scan_size = '8MB'`,
      );
      await runner.query(
        `INSERT INTO log_queue (entry, request_id) SELECT '\\x00'::bytea, 'r' FROM generate_series(1, 600000)`,
      );
      await runner.query('ANALYZE log_queue');
      const plan = async () =>
        ((await runner.query(`EXPLAIN ${sql}`)) as Array<{ 'QUERY PLAN': string }>)
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      expect(await plan()).not.toMatch(/Gather|Parallel/);
      // The control: without the table's setting this server plans it with parallel workers.
      await runner.query('ALTER TABLE log_queue RESET (parallel_workers)');
      expect(await plan()).toMatch(/Parallel Seq Scan on log_queue/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }, 60_000);

  it('round-trips a row through an entity repository', async () => {
    const repo = dataSource.getRepository(ConsumerProgressEntity);
    await repo.save(
      repo.create({ consumer: 'roundtrip', topic: 'intermesh.log.alpha', partition: 0, nextOffset: '42' }),
    );
    const row = await repo.findOneByOrFail({
      consumer: 'roundtrip',
      topic: 'intermesh.log.alpha',
      partition: 0,
    });
    expect(row.nextOffset).toBe('42');
    expect(row.updatedAt).toBeInstanceOf(Date);
  });

  describe('consumer progress store', () => {
    const store = () => new TypeOrmConsumerProgressStore(dataSource);

    it('records progress only when the surrounding transaction commits', async () => {
      await dataSource.transaction((tx) => store().advance(tx, 'c1', 'intermesh.witness', 2, 10n));
      expect(await store().read('c1', 'intermesh.witness', 2)).toBe(10n);

      await expect(
        dataSource.transaction(async (tx) => {
          await store().advance(tx, 'c1', 'intermesh.witness', 2, 11n);
          throw new Error('the data write failed');
        }),
      ).rejects.toThrow('the data write failed');
      expect(await store().read('c1', 'intermesh.witness', 2)).toBe(10n);
      expect(await store().read('c1', 'intermesh.witness', 3)).toBeUndefined();
    });

    it('refuses to move backwards and changes nothing', async () => {
      await dataSource.transaction((tx) => store().advance(tx, 'c2', 't', 0, 100n));
      const attempt = dataSource.transaction((tx) => store().advance(tx, 'c2', 't', 0, 99n));
      await expect(attempt).rejects.toBeInstanceOf(PersistenceError);
      await expect(attempt).rejects.toMatchObject({ code: 'progress.backwards' });
      expect(await store().read('c2', 't', 0)).toBe(100n);
      // Re-recording the same position (a replay) is allowed and harmless.
      await dataSource.transaction((tx) => store().advance(tx, 'c2', 't', 0, 100n));
      expect(await store().read('c2', 't', 0)).toBe(100n);
    });

    it('keeps offsets beyond 2^53 exactly', async () => {
      const big = 2n ** 62n + 7n;
      await dataSource.transaction((tx) => store().advance(tx, 'c3', 't', 0, big));
      expect(await store().read('c3', 't', 0)).toBe(big);
    });
  });
});
