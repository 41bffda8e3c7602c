import type { DataSource } from 'typeorm';
import { resolvedStateSql } from '@cryptomesh/persistence';
import type { AccountDirectory, MirroredAccountRow, OwnAccountRow } from './account-directory';

/**
 * `AccountDirectory` over the portal's database: `accounts` (the query role may read only
 * account_udf, status, master, personal — migration 1763809500000) and
 * `mirror_account_states`. Lookups by primary key, nothing else.
 */
export class TypeOrmAccountDirectory implements AccountDirectory {
  constructor(private readonly dataSource: DataSource) {}

  async own(accountUdf: string): Promise<OwnAccountRow | undefined> {
    const rows = await this.dataSource.query<OwnAccountRow[]>(
      `SELECT status, master, personal FROM accounts WHERE account_udf = $1`,
      [accountUdf],
    );
    return rows[0];
  }

  async mirrored(accountUdf: string, peers: readonly string[]): Promise<MirroredAccountRow[]> {
    if (peers.length === 0) return [];
    // (peer, account) is the primary key: one index probe per peer.
    return this.dataSource.query<MirroredAccountRow[]>(
      `SELECT s.peer, ${resolvedStateSql('s.state', 'mirror_account_profiles')} AS state
         FROM mirror_account_states s WHERE s.peer = ANY($1::text[]) AND s.account = $2 ORDER BY s.peer`,
      [[...peers], accountUdf],
    );
  }
}
