import type { DataSource } from 'typeorm';
import { mirrorLogTables } from './log-sql';
import { SqlLogReader, dataSourceQuery, preparedDataSourceQuery } from './typeorm-published-log.store';

/**
 * Read-only access to this portal's mirror of one peer's log (docs/design/federation.md "Storage":
 * `mirror_seals`, `mirror_entries`, `mirror_tree_nodes` — level 0 is `mirror_entries.leaf_hash` —
 * and `mirror_profile_index`, all restricted to `peer`), with the same methods and guarantees as
 * `TypeOrmPublishedLog`: committed rows only, one statement per read, safe for concurrent use. Only
 * parts the replication service verified are stored, so everything read here is a verified prefix of
 * the peer's log. A peer with nothing mirrored reads as an empty log (no seal, no entry).
 */
export class TypeOrmMirrorLog extends SqlLogReader {
  /** `prepared`: as TypeOrmPublishedLog's. */
  constructor(
    dataSource: DataSource,
    readonly peer: string,
    options: { readonly prepared?: boolean } = {},
  ) {
    super(
      options.prepared === true ? preparedDataSourceQuery(dataSource) : dataSourceQuery(dataSource),
      mirrorLogTables(peer),
    );
  }
}
