import { DataSource, type EntityManager } from 'typeorm';
import type { AccountStateRecord } from '@cryptomesh/audit';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { writeAccountNonces, type NonceScope } from '../../libs/persistence/src/stores/account-nonces-sql';
import { createTestDatabase, type TestDatabase } from '../env/test-database';

const ACCOUNTS = 64;
const PER_ACCOUNT = 300;
/** Every stored nonce's time is FIRST_TIME + its number, 0 … PER_ACCOUNT − 1. */
const FIRST_TIME = 1_000_000;

/**
 * Issue #17: what an auditor's window forgets is deleted at the cost of what it forgets. The
 * log-signer (log_nonces) and the mirror (mirror_nonces, per peer) store each batch's states with
 * `writeAccountNonces`; the tables hold every account's window, so a statement that scans them costs
 * the rate times the window on every batch. Real PostgreSQL, tables large enough for the planner to
 * prefer a scan, the scans counted in the statement's own transaction.
 */
describe('writeAccountNonces (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const account = (i: number) => `MA${String(i).padStart(4, '0')}`;

  beforeAll(async () => {
    db = await createTestDatabase('nonces');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    await runMigrations(dataSource);
    const fill = (columns: string, select: string) =>
      dataSource.query(
        `INSERT INTO ${columns}
         SELECT ${select} 'MA' || lpad(a::text, 4, '0'), 'n' || a || '-' || k, ${FIRST_TIME} + k
           FROM generate_series(0, ${ACCOUNTS - 1}) a, generate_series(0, ${PER_ACCOUNT - 1}) k`,
      );
    await fill('log_nonces (account, nonce, time)', '');
    for (const peer of ['alpha', 'beta'])
      await fill('mirror_nonces (peer, account, nonce, time)', `'${peer}',`);
    await dataSource.query('ANALYZE log_nonces');
    await dataSource.query('ANALYZE mirror_nonces');
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  /** Every account's state, the even ones forgetting their `forget` oldest nonces, the odd ones none. */
  function states(forget: number): AccountStateRecord[] {
    return Array.from({ length: ACCOUNTS }, (_, i) => ({
      account: account(i),
      state: {},
      through: 0,
      nonces: [],
      forgetBefore: FIRST_TIME + (i % 2 === 0 ? forget : 0),
    }));
  }

  /**
   * The table's rows read by the current backend: by scans, through indexes (the counts a backend
   * has not yet reported include its earlier transactions': `forgetting` takes a difference).
   */
  async function reads(manager: EntityManager, table: string) {
    const [row] = await manager.query<Array<{ scanned: string; fetched: string }>>(
      `SELECT seq_tup_read::text AS scanned, idx_tup_fetch::text AS fetched
         FROM pg_stat_xact_user_tables WHERE relname = $1`,
      [table],
    );
    return { scanned: Number(row!.scanned), fetched: Number(row!.fetched) };
  }

  async function forgetting(scope: NonceScope, forget: number) {
    return dataSource.transaction(async (manager) => {
      const before = await reads(manager, scope.table);
      await writeAccountNonces((sql, params) => manager.query(sql, params), scope, states(forget));
      const after = await reads(manager, scope.table);
      return { scanned: after.scanned - before.scanned, fetched: after.fetched - before.fetched };
    });
  }

  const count = async (sql: string): Promise<number> =>
    Number((await dataSource.query<Array<{ n: string }>>(`SELECT (${sql}) AS n`))[0]!.n);

  it('deletes a window’s forgotten nonces through the index, reading no other row (log_nonces)', async () => {
    expect(await forgetting({ table: 'log_nonces' }, 0)).toEqual({ scanned: 0, fetched: 0 });
    const read = await forgetting({ table: 'log_nonces' }, 5);
    expect(read.scanned).toBe(0);
    expect(read.fetched).toBe((ACCOUNTS / 2) * 5);
    expect(await count('SELECT count(*) FROM log_nonces')).toBe(ACCOUNTS * PER_ACCOUNT - (ACCOUNTS / 2) * 5);
    // Exactly the forgotten ones: the even accounts' five oldest.
    expect(
      await count(
        `SELECT count(*) FROM log_nonces
          WHERE time < ${FIRST_TIME + 5} AND right(account, 1)::int % 2 = 0`,
      ),
    ).toBe(0);
    expect(await count(`SELECT count(*) FROM log_nonces WHERE time < ${FIRST_TIME + 5}`)).toBe(
      (ACCOUNTS / 2) * 5,
    );
  });

  it('deletes only the given peer’s forgotten nonces, reading no other row (mirror_nonces)', async () => {
    const read = await forgetting({ table: 'mirror_nonces', peer: 'alpha' }, 7);
    expect(read).toEqual({ scanned: 0, fetched: (ACCOUNTS / 2) * 7 });
    const left = (peer: string) => count(`SELECT count(*) FROM mirror_nonces WHERE peer = '${peer}'`);
    expect(await left('alpha')).toBe(ACCOUNTS * PER_ACCOUNT - (ACCOUNTS / 2) * 7);
    expect(await left('beta')).toBe(ACCOUNTS * PER_ACCOUNT);
  });
});
