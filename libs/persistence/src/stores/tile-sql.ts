import { TILE_HEIGHT, TILE_WIDTH } from '@cryptomesh/log';
import { safeInteger, whereInLog, type LogTables, type SqlQuery } from './log-sql';
import { LogStoreError } from './log-store-error';

/**
 * Materialises the C2SP tlog-tiles hash tiles of a log up to tree size `size` (docs/design/query.md
 * "Tiles"): for each tile level L, the stored nodes of tree level 8·L below `size` (level 0: the
 * entries' leaf hashes) are concatenated, 256 to a tile, into `log_tiles` / `mirror_tiles`. Only
 * the tiles that grew since the stored ones are written — the stored level-0 tiles say how far the
 * tiles reach — so a call costs the new nodes plus at most one partial tile per level, and the first
 * call on a log stored before the tiles existed builds them all.
 *
 * The caller MUST run it in the transaction that stores the seal of `size` (so the tiles never
 * reach past a committed seal, nor lag behind one), after the entries and nodes below `size` are
 * stored. A full tile is never rewritten; a partial one only widened. MUST reject with
 * `store.corrupt`, so that the caller's transaction rolls back, if a node below `size` is missing.
 */
export async function materialiseTiles(query: SqlQuery, tables: LogTables, size: number): Promise<void> {
  const tiledSize = await readTiledSize(query, tables);
  if (size <= tiledSize) return;
  for (let level = 0; 2 ** (TILE_HEIGHT * level) <= size; level++) {
    const span = 2 ** (TILE_HEIGHT * level);
    const nodes = Math.floor(size / span);
    const tiled = Math.floor(tiledSize / span);
    if (nodes === tiled) continue;
    const from = Math.floor(tiled / TILE_WIDTH) * TILE_WIDTH;
    const params: unknown[] = [from, nodes];
    const source =
      level === 0
        ? `SELECT idx, leaf_hash AS hash FROM ${tables.entries}${whereInLog(tables, params, ['idx >= $1', 'idx < $2'])}`
        : `SELECT idx, hash FROM ${tables.nodes}${whereInLog(tables, params, [
            'idx >= $1',
            'idx < $2',
            `level = ${TILE_HEIGHT * level}`,
          ])}`;
    const peer = tables.peer === undefined ? undefined : params.push(tables.peer);
    const rows = await query<{ width: number }>(
      `INSERT INTO ${tables.tiles} (${peer === undefined ? '' : 'peer, '}level, idx, width, hashes)
       SELECT ${peer === undefined ? '' : `$${peer}, `}${level}, s.idx / ${TILE_WIDTH}, count(*),
              string_agg(s.hash, ''::bytea ORDER BY s.idx)
         FROM (${source}) s
        GROUP BY s.idx / ${TILE_WIDTH}
       ON CONFLICT (${peer === undefined ? '' : 'peer, '}level, idx) DO UPDATE
          SET width = EXCLUDED.width, hashes = EXCLUDED.hashes
        WHERE ${tables.tiles}.width <= EXCLUDED.width
       RETURNING width`,
      params,
    );
    const written = rows.reduce((sum, row) => sum + Number(row.width), 0);
    if (written !== nodes - from) {
      throw new LogStoreError(
        'store.corrupt',
        `tiles of level ${level} below tree size ${size}: ${written} of ${nodes - from} nodes from ${from} stored`,
      );
    }
  }
}

/** How far the stored tiles reach: the end of the last level-0 tile (0 before the first). */
async function readTiledSize(query: SqlQuery, tables: LogTables): Promise<number> {
  const params: unknown[] = [];
  const rows = await query<{ idx: string; width: number }>(
    `SELECT idx, width FROM ${tables.tiles}${whereInLog(tables, params, ['level = 0'])}
      ORDER BY idx DESC LIMIT 1`,
    params,
  );
  const last = rows[0];
  return last === undefined ? 0 : safeInteger(last.idx, 'tile index') * TILE_WIDTH + Number(last.width);
}

/**
 * The first `width` hashes of hash tile (`level`, `index`), concatenated, or undefined when the
 * stored tile is narrower or absent. One primary-key lookup; the caller checks `width` against a
 * seal (a stored tile never reaches past the latest seal).
 */
export async function readHashTile(
  query: SqlQuery,
  tables: LogTables,
  level: number,
  index: number,
  width: number,
): Promise<Uint8Array | undefined> {
  const params: unknown[] = [level, index, width];
  const rows = await query<{ hashes: Buffer }>(
    `SELECT substring(hashes FROM 1 FOR 32 * $3::int) AS hashes FROM ${tables.tiles}${whereInLog(
      tables,
      params,
      ['level = $1', 'idx = $2', 'width >= $3'],
    )}`,
    params,
  );
  return rows[0] === undefined ? undefined : new Uint8Array(rows[0].hashes);
}
