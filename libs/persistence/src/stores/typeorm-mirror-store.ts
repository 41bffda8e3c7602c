import type { DataSource, EntityManager } from 'typeorm';
import type {
  AccountStateRecord,
  AuditHead,
  MirrorPartExtras,
  MirrorPartRecord,
  MirrorProgress,
  MirrorStore,
  StoredAccountState,
} from '@cryptomesh/audit';
import { storedNoncesColumn, writeAccountNonces } from './account-nonces-sql';
import { resolvedStateSql, storedStates, writeStateProfiles } from './account-state-profiles';
import { asBuffer, mirrorLogTables, safeInteger } from './log-sql';
import { materialiseTiles } from './tile-sql';
import { integerArray, textArray } from './array-literal';
import { packBytes, packedEntries } from './packed-bytes';
import { LogStoreError } from './log-store-error';
import { insertCosignature } from './typeorm-cosignature-store';
import { insertOutbox } from './typeorm-witness-outbox';

/** The consumer name of the mirror in `consumer_progress`. */
export const MIRROR_CONSUMER = 'mirror';

/**
 * The mirror of peers' logs over PostgreSQL (the `MirrorStore` port of `@cryptomesh/audit`). Every
 * write is one transaction; the database itself refuses a second seal for a part and a gap between
 * parts (migration 1763794800000) and an account state that covers an entry not mirrored (migration
 * 1763807000000), and `storePart` refuses a part that does not follow the stored head under a row lock
 * of that head, so two replication instances that race store each part at most once.
 */
export class TypeOrmMirrorStore implements MirrorStore {
  constructor(private readonly dataSource: DataSource) {}

  async head(peer: string): Promise<AuditHead | undefined> {
    const rows = await this.dataSource.query<
      Array<{
        part: string;
        first: string;
        size: string;
        time_ms: string;
        note: string;
        frontier: string[];
        log_keys: AuditHead['logKeys'] | null;
      }>
    >(
      `SELECT h.part, s.first, h.size, s.time_ms, h.note, h.frontier, h.log_keys
         FROM mirror_heads h JOIN mirror_seals s ON s.peer = h.peer AND s.part = h.part
        WHERE h.peer = $1`,
      [peer],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      part: safeInteger(row.part, 'mirror head part'),
      first: safeInteger(row.first, 'mirror head first'),
      size: safeInteger(row.size, 'mirror head size'),
      timeMs: safeInteger(row.time_ms, 'mirror head time'),
      note: row.note,
      frontier: row.frontier,
      ...(row.log_keys === null ? {} : { logKeys: row.log_keys }),
    };
  }

  /** The offset after the last stored part's seal message on `topic`, if any. */
  async progress(topic: string): Promise<bigint | undefined> {
    const rows = await this.dataSource.query<Array<{ next_offset: string }>>(
      `SELECT next_offset FROM consumer_progress WHERE consumer = $1 AND topic = $2 AND partition = 0`,
      [MIRROR_CONSUMER, topic],
    );
    return rows[0] === undefined ? undefined : BigInt(rows[0].next_offset);
  }

  /** The stored seal note of a mirrored part, if that part is mirrored. */
  async sealNote(peer: string, part: number): Promise<string | undefined> {
    const rows = await this.dataSource.query<Array<{ note: string }>>(
      `SELECT note FROM mirror_seals WHERE peer = $1 AND part = $2`,
      [peer, part],
    );
    return rows[0]?.note;
  }

  /** Every mirrored entry of one account of a peer, in log order (to rebuild its rule state). */
  async accountEntries(peer: string, account: string): Promise<Uint8Array[]> {
    const rows = await this.dataSource.query<Array<{ entry: Buffer }>>(
      `SELECT entry FROM mirror_entries WHERE peer = $1 AND account = $2 ORDER BY idx`,
      [peer, account],
    );
    return rows.map((r) => new Uint8Array(r.entry.buffer, r.entry.byteOffset, r.entry.byteLength));
  }

  /**
   * The stored audit state of one account of a peer: one row, written with the part that last
   * changed it, and the account's nonces (one row each).
   */
  async accountState(peer: string, account: string): Promise<StoredAccountState | undefined> {
    const rows = await this.dataSource.query<
      Array<{ state: unknown; through: string; nonces: Array<[unknown, unknown]> }>
    >(
      `SELECT ${resolvedStateSql('s.state', 'mirror_account_profiles')} AS state, s.through,
              ${storedNoncesColumn('mirror_nonces')}
         FROM mirror_account_states s WHERE s.peer = $1 AND s.account = $2`,
      [peer, account],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : {
          state: row.state,
          through: safeInteger(row.through, 'account state through'),
          nonces: row.nonces,
        };
  }

  /**
   * Stores a verified part in ONE transaction: entries, tree nodes, seal, head, profile index, the
   * account states the part changed, and optionally this portal's cosignature of the seal with its
   * witness message and the topic progress. Rejects `mirror.out-of-step` (and changes nothing) unless
   * the stored head is exactly the previous part — a second instance or a stale caller then reloads
   * its state.
   */
  async storePart(record: MirrorPartRecord, extras: MirrorPartExtras = {}): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      const { peer } = record;
      const heads = await tx.query<Array<{ part: string }>>(
        `SELECT part FROM mirror_heads WHERE peer = $1 FOR UPDATE`,
        [peer],
      );
      const headPart = heads[0] === undefined ? -1 : safeInteger(heads[0].part, 'mirror head part');
      if (headPart !== record.part - 1) {
        throw new LogStoreError(
          'mirror.out-of-step',
          `the mirror of ${peer} ends at part ${headPart}: part ${record.part} does not follow it`,
        );
      }
      await insertEntries(tx, record);
      await tx.query(
        `INSERT INTO mirror_seals (peer, part, first, size, part_digest, chain, root, time_ms, note, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          peer,
          record.part,
          record.first,
          record.size,
          asBuffer(record.partDigest),
          asBuffer(record.chain),
          asBuffer(record.root),
          record.timeMs,
          record.note,
          record.source,
        ],
      );
      await materialiseTiles((sql, params) => tx.query(sql, params), mirrorLogTables(peer), record.size);
      // Commit point of the mirror (with the statements below): a crash before the commit leaves
      // nothing of the part — no entry, no seal, no account state — and the progress before its first
      // message, so it is read again from the stored head and the stored account states.
      await tx.query(
        `INSERT INTO mirror_heads (peer, part, size, frontier, note, log_keys, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, now())
         ON CONFLICT (peer) DO UPDATE
           SET part = $2, size = $3, frontier = $4::jsonb, note = $5, log_keys = $6::jsonb, updated_at = now()`,
        [
          peer,
          record.part,
          record.size,
          JSON.stringify(record.frontier),
          record.note,
          record.logKeys === undefined ? null : JSON.stringify(record.logKeys),
        ],
      );
      await upsertAccountStates(tx, peer, record.accountStates);
      if (extras.cosignature !== undefined) await insertCosignature(tx, extras.cosignature);
      for (const message of extras.outbox ?? []) await insertOutbox(tx, message);
      if (extras.progress !== undefined) await advanceProgress(tx, extras.progress);
    });
  }
}

async function insertEntries(tx: EntityManager, record: MirrorPartRecord): Promise<void> {
  const { peer, first, entries } = record;
  if (entries.length !== record.size - first || record.leafHashes.length !== entries.length) {
    throw new LogStoreError(
      'store.corrupt',
      `part ${record.part} of ${peer} does not hold [${first}, ${record.size})`,
    );
  }
  // Pages keep one statement's parameters bounded for large parts.
  const PAGE = 1000;
  for (let start = 0; start < entries.length; start += PAGE) {
    const end = Math.min(entries.length, start + PAGE);
    const accounts: Array<string | null> = [];
    for (let i = start; i < end; i++) accounts.push(record.profiles[i]?.account ?? null);
    // The bytes as packed binary parameters, not bytea[] (packed-bytes.ts).
    const packed = packedEntries(entries.slice(start, end), record.leafHashes.slice(start, end), 3);
    await tx.query(
      `INSERT INTO mirror_entries (peer, idx, entry, leaf_hash, account)
       SELECT $1, $2::bigint + t.n - 1, ${packed.entry}, ${packed.leafHash}, t.account
         FROM unnest(${packed.arrays}, $9::text[]) WITH ORDINALITY
                AS t(entry_off, entry_len, hash_off, hash_len, account, n)`,
      [peer, String(first + start), ...packed.params, textArray(accounts)],
    );
  }
  for (let start = 0; start < record.nodes.length; start += PAGE) {
    const page = record.nodes.slice(start, start + PAGE);
    const hashes = packBytes(page.map((n) => n.hash));
    await tx.query(
      `INSERT INTO mirror_tree_nodes (peer, level, idx, hash)
       SELECT $1, t.level, t.idx, substring($2::bytea FROM t.hash_off FOR t.hash_len)
         FROM unnest($3::smallint[], $4::bigint[], $5::int[], $6::int[]) AS t(level, idx, hash_off, hash_len)`,
      [
        peer,
        hashes.data,
        integerArray(page.map((n) => n.level)),
        integerArray(page.map((n) => n.index)),
        integerArray(hashes.offsets),
        integerArray(hashes.lengths),
      ],
    );
  }
  await insertProfileIndex(tx, record);
}

/** The mirror's profile index, with the own index's rules (profile-index-sql.ts `writeProfileIndex`). */
async function insertProfileIndex(tx: EntityManager, record: MirrorPartRecord): Promise<void> {
  const ids: string[] = [];
  const indices: number[] = [];
  const accounts: string[] = [];
  const states: string[] = [];
  record.profiles.forEach((entry, i) => {
    for (const change of entry?.changes ?? []) {
      ids.push(change.id);
      indices.push(record.first + i);
      accounts.push(entry!.account);
      states.push(change.state);
    }
  });
  if (ids.length > 0) {
    await tx.query(
      `INSERT INTO mirror_profile_index (peer, profile_id, idx, account, state)
       SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[])
       ON CONFLICT DO NOTHING`,
      [record.peer, textArray(ids), integerArray(indices), textArray(accounts), textArray(states)],
    );
  }
  for (const [i, entry] of record.profiles.entries()) {
    if (entry?.endsAccount !== true) continue;
    await tx.query(
      `INSERT INTO mirror_profile_index (peer, profile_id, idx, account, state)
       SELECT $1, latest.profile_id, $3, $2, 'deleted'
         FROM (SELECT DISTINCT ON (profile_id) profile_id, state
                 FROM mirror_profile_index
                WHERE peer = $1 AND account = $2 AND idx < $3
                ORDER BY profile_id, idx DESC) AS latest
        WHERE latest.state = 'set'
       ON CONFLICT DO NOTHING`,
      [record.peer, entry.account, String(record.first + i)],
    );
  }
}

async function advanceProgress(tx: EntityManager, progress: MirrorProgress): Promise<void> {
  const rows = await tx.query<unknown[]>(
    `INSERT INTO consumer_progress (consumer, topic, partition, next_offset, updated_at)
     VALUES ($1, $2, 0, $3, now())
     ON CONFLICT (consumer, topic, partition) DO UPDATE
       SET next_offset = EXCLUDED.next_offset, updated_at = now()
       WHERE consumer_progress.next_offset <= EXCLUDED.next_offset
     RETURNING next_offset`,
    [MIRROR_CONSUMER, progress.topic, progress.nextOffset.toString()],
  );
  if (rows.length === 0) {
    throw new LogStoreError(
      'mirror.out-of-step',
      `the mirror progress on ${progress.topic} may not move back to ${progress.nextOffset}`,
    );
  }
}

/**
 * The account states a part changed. The WHERE guard refuses to move a state back (a state covering a
 * later entry stored already): with the head locked above it cannot happen, so it is a corrupt caller.
 */
async function upsertAccountStates(
  tx: EntityManager,
  peer: string,
  states: readonly AccountStateRecord[],
): Promise<void> {
  const PAGE = 1000;
  for (let start = 0; start < states.length; start += PAGE) {
    const page = states.slice(start, start + PAGE);
    const stored = storedStates(page);
    await writeStateProfiles((sql, params) => tx.query(sql, params), 'mirror_account_profiles', stored);
    const rows = await tx.query<unknown[]>(
      `INSERT INTO mirror_account_states (peer, account, state, through, updated_at)
       SELECT $1, a, s::jsonb, t, now() FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(a, s, t)
       ON CONFLICT (peer, account) DO UPDATE
         SET state = EXCLUDED.state, through = EXCLUDED.through, updated_at = now()
         WHERE mirror_account_states.through < EXCLUDED.through
       RETURNING account`,
      [peer, page.map((a) => a.account), stored.states, page.map((a) => String(a.through))],
    );
    if (rows.length !== page.length) {
      throw new LogStoreError(
        'mirror.out-of-step',
        `the mirror of ${peer} holds an account state that covers an entry at or after this part's`,
      );
    }
    await writeAccountNonces((sql, params) => tx.query(sql, params), { table: 'mirror_nonces', peer }, page);
  }
}
