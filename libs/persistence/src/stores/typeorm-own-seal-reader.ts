import type { DataSource } from 'typeorm';
import type { OwnSealReader } from '@cryptomesh/audit';
import { safeInteger } from './log-sql';

/** This portal's own seals (`log_seals`, written by the log-signer), read-only: the `OwnSealReader` port. */
export class TypeOrmOwnSealReader implements OwnSealReader {
  constructor(private readonly dataSource: DataSource) {}

  /** The stored seal note of this portal's own part, if sealed. */
  async ownSealNote(part: number): Promise<string | undefined> {
    const rows = await this.dataSource.query<Array<{ note: string }>>(
      `SELECT note FROM log_seals WHERE part = $1`,
      [part],
    );
    return rows[0]?.note;
  }

  /** The time of this portal's own newest seal, if any. */
  async ownNewestSealTime(): Promise<number | undefined> {
    const rows = await this.dataSource.query<Array<{ time_ms: string | null }>>(
      `SELECT max(time_ms) AS time_ms FROM log_seals`,
    );
    const value = rows[0]?.time_ms;
    return value === null || value === undefined ? undefined : safeInteger(value, 'time_ms');
  }
}
