import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Hash, NodeId } from '@cryptomesh/log';
import {
  OWN_LOG_TABLES,
  SEAL_COLUMNS,
  readLevelNodes,
  readNodesAndEntry,
  readStoredNodes,
  sealFromRow,
  whereInLog,
  type LogSealRecord,
  type LogSealRow,
  type LogTables,
  type SqlQuery,
} from './log-sql';
import { readLatestProfileRows, type ProfileIndexRow } from './profile-index-sql';
import { readHashTile } from './tile-sql';

/** The `SqlQuery` of a TypeORM data source: each statement on a pooled connection, autocommit. */
export function dataSourceQuery(dataSource: DataSource): SqlQuery {
  return <R>(sql: string, params?: unknown[]) => dataSource.query<R[]>(sql, params);
}

/** Distinct statement texts prepared, at most (the stores' texts are a few dozen constants). */
const MAX_PREPARED_STATEMENTS = 128;

/** node-postgres' Pool, as TypeORM's postgres driver keeps it (`driver.master`). */
interface NamedQueryPool {
  query<R>(config: { name: string; text: string; values?: unknown[] }): Promise<{ rows: R[] }>;
}

/**
 * As `dataSourceQuery`, but each statement text is a named prepared statement of node-postgres
 * (its name a digest of the text), so PostgreSQL parses and plans it once per pooled connection,
 * not at every execution: half the round trip of a proof's read (docs/design/query.md "Log
 * heads"). Autocommit, one pooled connection per statement, the same rows; errors are pg's
 * `DatabaseError`, not TypeORM's wrapper. MUST NOT be used where connections share one session
 * (the embedded PGlite socket, a transaction-mode pooler): a name prepared by one would collide on
 * another. Without a node-postgres pool it is `dataSourceQuery`.
 */
export function preparedDataSourceQuery(dataSource: DataSource): SqlQuery {
  let query = preparedQueries.get(dataSource);
  if (query === undefined) {
    query = prepareEach(dataSource);
    preparedQueries.set(dataSource, query);
  }
  return query;
}

/** One per data source, so that every reader shares its names. */
const preparedQueries = new WeakMap<DataSource, SqlQuery>();

function prepareEach(dataSource: DataSource): SqlQuery {
  const plain = dataSourceQuery(dataSource);
  const names = new Map<string, string>();
  return async <R>(sql: string, params?: unknown[]): Promise<R[]> => {
    const pool = (dataSource.driver as unknown as { master?: NamedQueryPool }).master;
    let name = names.get(sql);
    if (name === undefined) {
      if (pool === undefined || names.size >= MAX_PREPARED_STATEMENTS) return plain<R>(sql, params);
      name = `cm_${createHash('sha256').update(sql).digest('hex').slice(0, 40)}`;
      names.set(sql, name);
    }
    if (pool === undefined) return plain<R>(sql, params);
    return (await pool.query<R>({ name, text: sql, ...(params === undefined ? {} : { values: params }) }))
      .rows;
  };
}

/**
 * Read-only access to one stored log — seals, entries, tree nodes and profile index — by SQL; the
 * shared body of `TypeOrmPublishedLog` (own log) and `TypeOrmMirrorLog` (a peer's mirror). Every
 * method reads committed rows only, in one statement: safe for concurrent use from any number of
 * query instances.
 */
export class SqlLogReader {
  constructor(
    private readonly query: SqlQuery,
    private readonly tables: LogTables,
  ) {}

  /** The seal with the highest part index, if any part is sealed. */
  latestSeal(): Promise<LogSealRecord | undefined> {
    return this.oneSeal([], [], 'ORDER BY part DESC LIMIT 1');
  }

  sealOfPart(part: number): Promise<LogSealRecord | undefined> {
    return this.oneSeal(['part = $1'], [part], '');
  }

  /** A seal whose tree size is `size` (the first, when empty parts repeat a size). */
  sealWithSize(size: number): Promise<LogSealRecord | undefined> {
    return this.oneSeal(['size = $1'], [size], 'ORDER BY part LIMIT 1');
  }

  /**
   * The first seal whose tree holds entry `index` (size > index), if any: sizes never decrease
   * with the part index (the database's contiguity constraint), so it is the smallest such size.
   */
  firstSealCovering(index: number): Promise<LogSealRecord | undefined> {
    return this.oneSeal(['size > $1'], [index], 'ORDER BY size, part LIMIT 1');
  }

  /** The exact bytes of entries [start, end), in order; only those stored (the caller bounds the range). */
  async entries(start: number, end: number): Promise<Uint8Array[]> {
    const params: unknown[] = [start, end];
    const rows = await this.query<{ entry: Buffer }>(
      `SELECT entry FROM ${this.tables.entries}${whereInLog(this.tables, params, ['idx >= $1', 'idx < $2'])} ORDER BY idx`,
      params,
    );
    return rows.map((r) => r.entry);
  }

  /**
   * The log key transitions below tree size `size` (docs/design/log-format.md "Key transitions"),
   * oldest first: entries whose canonical JSON starts with `{"LogKeyTransition":` — the partial
   * index of migration 1763809400000 covers exactly these.
   */
  async keyTransitions(size: number): Promise<Array<{ index: number; entry: Uint8Array }>> {
    const params: unknown[] = [size];
    const rows = await this.query<{ idx: string; entry: Buffer }>(
      `SELECT idx, entry FROM ${this.tables.entries}${whereInLog(this.tables, params, [
        'idx < $1',
        `substring(entry from 1 for 20) = '\\x7b224c6f674b65795472616e736974696f6e223a'::bytea`,
      ])} ORDER BY idx LIMIT 1000`,
      params,
    );
    return rows.map((r) => ({ index: Number(r.idx), entry: r.entry }));
  }

  /**
   * The profile index: for each profile whose canonical UDF starts with `idPrefix` and each account
   * that has it, the latest row of an entry below `size` — the caller passes a sealed size, so that
   * only sealed entries count. With `account` (a UDF), that account's rows only.
   */
  latestProfileRows(idPrefix: string, size: number, account?: string): Promise<ProfileIndexRow[]> {
    return readLatestProfileRows(this.query, idPrefix, size, account, this.tables);
  }

  /**
   * The first `width` hashes of the materialised hash tile (`level`, `index`) — C2SP tlog-tiles —
   * concatenated; undefined when no stored tile is that wide. One primary-key lookup.
   */
  hashTile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    return readHashTile(this.query, this.tables, level, index, width);
  }

  /** The `HashReader` port of `@cryptomesh/log`. */
  readNodes(ids: readonly NodeId[]): Promise<Hash[]> {
    return readStoredNodes(this.query, ids, this.tables);
  }

  /** The stored nodes [start, end) of `level`, in index order (`readLevelNodes`). */
  levelNodes(level: number, start: number, end: number): Promise<Hash[]> {
    return readLevelNodes(this.query, this.tables, level, start, end);
  }

  /** Entry `index` (undefined when not stored) and the stored nodes `ids`, in one statement. */
  entryWithNodes(
    index: number,
    ids: readonly NodeId[],
  ): Promise<{ entry: Uint8Array | undefined; hashes: Hash[] }> {
    return readNodesAndEntry(this.query, ids, index, this.tables);
  }

  private async oneSeal(
    conditions: string[],
    params: unknown[],
    order: string,
  ): Promise<LogSealRecord | undefined> {
    const where = whereInLog(this.tables, params, conditions);
    const rows = await this.query<LogSealRow>(
      `SELECT ${SEAL_COLUMNS} FROM ${this.tables.seals}${where} ${order}`,
      params,
    );
    return rows[0] === undefined ? undefined : sealFromRow(rows[0]);
  }
}

/**
 * Read-only access to this portal's published log — seals, entries, stored tree nodes and the
 * profile index (`log_*` tables) — for the query service. Every method only reads committed rows;
 * it is safe for concurrent use and from any number of query instances.
 */
export class TypeOrmPublishedLog extends SqlLogReader {
  /** `prepared`: statements prepared once per connection (`preparedDataSourceQuery`, whose limits apply). */
  constructor(dataSource: DataSource, options: { readonly prepared?: boolean } = {}) {
    super(
      options.prepared === true ? preparedDataSourceQuery(dataSource) : dataSourceQuery(dataSource),
      OWN_LOG_TABLES,
    );
  }
}
