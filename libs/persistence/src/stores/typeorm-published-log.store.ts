import type { DataSource } from 'typeorm';
import type { Hash, NodeId } from '@cryptomesh/log';
import {
  SEAL_COLUMNS,
  readStoredNodes,
  sealFromRow,
  type LogSealRecord,
  type LogSealRow,
  type SqlQuery,
} from './log-sql';
import { readLatestProfileRows, type ProfileIndexRow } from './profile-index-sql';

/**
 * Read-only access to this portal's published log — seals, entries and stored tree nodes — for the
 * query service. Every method only reads committed rows; it is safe for concurrent use and from any
 * number of query instances.
 */
export class TypeOrmPublishedLog {
  private readonly query: SqlQuery;

  constructor(dataSource: DataSource) {
    this.query = <R>(sql: string, params?: unknown[]) => dataSource.query<R[]>(sql, params);
  }

  /** The seal with the highest part index, if any part is sealed. */
  async latestSeal(): Promise<LogSealRecord | undefined> {
    return this.oneSeal(`SELECT ${SEAL_COLUMNS} FROM log_seals ORDER BY part DESC LIMIT 1`, []);
  }

  async sealOfPart(part: number): Promise<LogSealRecord | undefined> {
    return this.oneSeal(`SELECT ${SEAL_COLUMNS} FROM log_seals WHERE part = $1`, [part]);
  }

  /** A seal whose tree size is `size` (the first, when empty parts repeat a size). */
  async sealWithSize(size: number): Promise<LogSealRecord | undefined> {
    return this.oneSeal(`SELECT ${SEAL_COLUMNS} FROM log_seals WHERE size = $1 ORDER BY part LIMIT 1`, [
      size,
    ]);
  }

  /** The exact bytes of entries [start, end), in order; only those stored (the caller bounds the range). */
  async entries(start: number, end: number): Promise<Uint8Array[]> {
    const rows = await this.query<{ entry: Buffer }>(
      'SELECT entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [start, end],
    );
    return rows.map((r) => r.entry);
  }

  /**
   * The profile index (`log_profile_index`): for each profile whose canonical UDF starts with
   * `idPrefix` and each account that has it, the latest row of an entry below `size` — the caller
   * passes a sealed size, so that only sealed entries count. With `account` (a UDF), that account's
   * rows only.
   */
  latestProfileRows(idPrefix: string, size: number, account?: string): Promise<ProfileIndexRow[]> {
    return readLatestProfileRows(this.query, idPrefix, size, account);
  }

  /** The `HashReader` port of `@cryptomesh/log`. */
  readNodes(ids: readonly NodeId[]): Promise<Hash[]> {
    return readStoredNodes(this.query, ids);
  }

  private async oneSeal(sql: string, params: unknown[]): Promise<LogSealRecord | undefined> {
    const rows = await this.query<LogSealRow>(sql, params);
    return rows[0] === undefined ? undefined : sealFromRow(rows[0]);
  }
}
