import { LogError, type Hash, type NodeId } from '@cryptomesh/log';
import { LogStoreError } from './log-store-error';

/** Runs one SQL statement; both a `pg` client and a TypeORM DataSource/EntityManager fit. */
export type SqlQuery = <R>(sql: string, params?: unknown[]) => Promise<R[]>;

/** A stored seal, as the log-signer wrote it. Tree sizes and indices are safe integers. */
export interface LogSealRecord {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly partDigest: Hash;
  readonly chain: Hash;
  readonly root: Hash;
  readonly timeMs: number;
  /** The signed note, exactly as signed. */
  readonly note: string;
}

export interface LogSealRow {
  part: string;
  first: string;
  size: string;
  part_digest: Buffer;
  chain: Buffer;
  root: Buffer;
  time_ms: string;
  note: string;
}

export const SEAL_COLUMNS = 'part, first, size, part_digest, chain, root, time_ms, note';

/** A bigint column (pg returns text) as a safe integer; MUST throw `store.corrupt` beyond 2^53. */
export function safeInteger(value: string | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new LogStoreError('store.corrupt', `${what} ${value} is not a safe integer`);
  return n;
}

export function sealFromRow(row: LogSealRow): LogSealRecord {
  return {
    part: safeInteger(row.part, 'part'),
    first: safeInteger(row.first, 'first'),
    size: safeInteger(row.size, 'size'),
    partDigest: new Uint8Array(row.part_digest),
    chain: new Uint8Array(row.chain),
    root: new Uint8Array(row.root),
    timeMs: safeInteger(row.time_ms, 'time_ms'),
    note: row.note,
  };
}

/** A view of `bytes` that `pg` serialises as bytea (it recognises Buffer, not plain Uint8Array, in arrays). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Which log a read is about: this portal's own log (`log_*` tables) or one peer's mirror
 * (`mirror_*` tables, shaped alike with a `peer` column; federation.md "Storage"). The table names
 * are constants of this module, never input.
 */
export interface LogTables {
  readonly entries: 'log_entries' | 'mirror_entries';
  readonly nodes: 'log_tree_nodes' | 'mirror_tree_nodes';
  readonly seals: 'log_seals' | 'mirror_seals';
  readonly profileIndex: 'log_profile_index' | 'mirror_profile_index';
  readonly tiles: 'log_tiles' | 'mirror_tiles';
  /** The peer whose mirror this is; undefined for this portal's own log. */
  readonly peer?: string;
}

export const OWN_LOG_TABLES: LogTables = {
  entries: 'log_entries',
  nodes: 'log_tree_nodes',
  seals: 'log_seals',
  profileIndex: 'log_profile_index',
  tiles: 'log_tiles',
};

/** The mirror of `peer`'s log. */
export function mirrorLogTables(peer: string): LogTables {
  return {
    entries: 'mirror_entries',
    nodes: 'mirror_tree_nodes',
    seals: 'mirror_seals',
    profileIndex: 'mirror_profile_index',
    tiles: 'mirror_tiles',
    peer,
  };
}

/**
 * The placeholder of the peer parameter (pushed onto `params` once) for a mirror, undefined for the
 * own log; `peerIs(alias)` is then the condition `alias.peer = $n`.
 */
function peerCondition(tables: LogTables, params: unknown[]): (alias?: string) => string | undefined {
  if (tables.peer === undefined) return () => undefined;
  const n = params.push(tables.peer);
  return (alias) => `${alias === undefined ? '' : `${alias}.`}peer = $${n}`;
}

/** ` WHERE c1 AND c2 …` restricted to the log of `tables` ('' when nothing restricts). */
export function whereInLog(tables: LogTables, params: unknown[], conditions: readonly string[]): string {
  const peer = peerCondition(tables, params)();
  const all = peer === undefined ? conditions : [peer, ...conditions];
  return all.length === 0 ? '' : ` WHERE ${all.join(' AND ')}`;
}

/**
 * The `HashReader` contract of `@cryptomesh/log` over PostgreSQL, in one round trip: level 0 is an
 * entry's leaf hash (`log_entries.leaf_hash`), higher levels are rows of `log_tree_nodes` (for a
 * mirror, `mirror_entries`/`mirror_tree_nodes` of its peer). Answers one hash per id in request
 * order; MUST throw LogError `store.missing-node` if any is absent.
 */
export async function readStoredNodes(
  query: SqlQuery,
  ids: readonly NodeId[],
  tables: LogTables = OWN_LOG_TABLES,
): Promise<Hash[]> {
  if (ids.length === 0) return [];
  return (await readNodesAndEntry(query, ids, undefined, tables)).hashes;
}

/**
 * The stored nodes [start, end) of one `level` of the tree, in index order: leaf hashes at level 0,
 * rows of the nodes table above it. Answers only what is stored (the caller bounds the range by a
 * sealed size, and checks the count). One statement; what the query service's proof tree is filled
 * from (docs/design/query.md "Proof tree").
 */
export async function readLevelNodes(
  query: SqlQuery,
  tables: LogTables,
  level: number,
  start: number,
  end: number,
): Promise<Hash[]> {
  const params: unknown[] = [String(start), String(end)];
  if (level === 0) {
    const where = whereInLog(tables, params, ['idx >= $1', 'idx < $2']);
    const rows = await query<{ leaf_hash: Buffer }>(
      `SELECT leaf_hash FROM ${tables.entries}${where} ORDER BY idx`,
      params,
    );
    return rows.map((row) => new Uint8Array(row.leaf_hash));
  }
  const n = params.push(level);
  const where = whereInLog(tables, params, [`level = $${n}`, 'idx >= $1', 'idx < $2']);
  const rows = await query<{ hash: Buffer }>(`SELECT hash FROM ${tables.nodes}${where} ORDER BY idx`, params);
  return rows.map((row) => new Uint8Array(row.hash));
}

/**
 * As `readStoredNodes`, and in the same statement the bytes of entry `entry` (undefined when it is
 * not stored): what a profile answer needs, the entry and its inclusion proof, in one round trip.
 */
export async function readNodesAndEntry(
  query: SqlQuery,
  ids: readonly NodeId[],
  entry: number | undefined,
  tables: LogTables = OWN_LOG_TABLES,
): Promise<{ hashes: Hash[]; entry: Uint8Array | undefined }> {
  const params: unknown[] = [ids.map((id) => id.level), ids.map((id) => String(id.index))];
  const peerIs = peerCondition(tables, params);
  const inLog = (alias: string): string => {
    const condition = peerIs(alias);
    return condition === undefined ? '' : ` AND ${condition}`;
  };
  let entryRow = '';
  if (entry !== undefined) {
    const n = params.push(String(entry));
    // ord 0 sorts before the nodes' (WITH ORDINALITY counts from 1).
    entryRow = `
     UNION ALL
     SELECT 0::bigint, e.entry FROM ${tables.entries} e WHERE e.idx = $${n}${inLog('e')}`;
  }
  const rows = await query<{ ord: string; hash: Buffer | null }>(
    `SELECT q.ord, CASE WHEN q.level = 0 THEN e.leaf_hash ELSE n.hash END AS hash
       FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY AS q(level, idx, ord)
       LEFT JOIN ${tables.nodes} n ON q.level > 0${inLog('n')} AND n.level = q.level AND n.idx = q.idx
       LEFT JOIN ${tables.entries} e ON q.level = 0${inLog('e')} AND e.idx = q.idx${entryRow}
      ORDER BY 1`,
    params,
  );
  let found: Uint8Array | undefined;
  let nodes = rows;
  if (entry !== undefined && rows[0] !== undefined && Number(rows[0].ord) === 0) {
    found = rows[0].hash ?? undefined;
    nodes = rows.slice(1);
  }
  const hashes = nodes.map((row, i) => {
    const id = ids[i]!;
    if (row.hash === null) {
      throw new LogError(
        'store.missing-node',
        `stored node (${id.level}, ${id.index}) is not in the database`,
      );
    }
    return new Uint8Array(row.hash);
  });
  return { hashes, entry: found };
}
