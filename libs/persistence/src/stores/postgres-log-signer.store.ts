import { Client } from 'pg';
import type { AccountStateRecord, StoredAccountState } from '@cryptomesh/audit';
import type { Hash, NodeId, StoredNode } from '@cryptomesh/log';
import {
  OWN_LOG_TABLES,
  SEAL_COLUMNS,
  asBuffer,
  readStoredNodes,
  safeInteger,
  sealFromRow,
  type LogSealRecord,
  type LogSealRow,
  type SqlQuery,
} from './log-sql';
import { LogStoreError } from './log-store-error';
import { materialiseTiles } from './tile-sql';
import { integerArray } from './array-literal';
import { packBytes, packedEntries } from './packed-bytes';
import { storedNoncesColumn, writeAccountNonces } from './account-nonces-sql';
import {
  CommittedProfiles,
  resolvedStateSql,
  storedStates,
  writeStateProfiles,
  type StoredStates,
} from './account-state-profiles';
import {
  readIndexedSize,
  writeProfileIndex,
  type EntryProfiles,
  type ProfileIndexBatch,
} from './profile-index-sql';

/**
 * The PostgreSQL session advisory lock that makes one log-signer the leader of a portal. Any
 * constant; distinct from the migration lock (libs/persistence/src/migrate.ts).
 */
export const LOG_SIGNER_LOCK_KEY = 7_236_356_073_148_776;

/** A log key transition sealed with its part: the entry, its leaf hash and the nodes (level ≥ 1) it closes. */
export interface SealedTransition {
  readonly entry: Uint8Array;
  readonly leafHash: Hash;
  readonly nodes: readonly StoredNode[];
}

/** What one sequencing transaction writes, computed by the signer from the queued entries. */
export interface SequencedBatch {
  /** Index given to the first entry; the others follow contiguously. */
  readonly first: number;
  /** One leaf hash per entry, in entry order. */
  readonly leafHashes: readonly Hash[];
  /** The complete subtrees (level ≥ 1) that these entries close. */
  readonly nodes: readonly StoredNode[];
  /** One per entry: what it does to the profile index (undefined: the entry is not a record). */
  readonly profiles: ReadonlyArray<EntryProfiles | undefined>;
  /**
   * Rows not to sequence: their position among the rows given to `plan`, and why. They move to
   * `log_queue_refused`; the entries are the other rows, in order. Absent: none.
   */
  readonly refused?: ReadonlyArray<{ readonly position: number; readonly reason: string }>;
  /**
   * The log-signer's re-check of the records (issue #15): the state of each account these entries
   * changed, after its last entry among them. When present, the checked size MUST have ended at
   * `first` (else `rules.out-of-step`, nothing written) and advances past these entries with them.
   * Absent: the log-signer does not re-check records, and the states are left as they are.
   */
  readonly accountStates?: readonly LogAccountState[];
}

/**
 * The rule state of one account of the own log after its entry `through` (an encoded
 * `AuditedAccount`), with the nonces its entries added and the time below which it forgot them.
 */
export type LogAccountState = AccountStateRecord;

/** What the queue row of an entry said besides its bytes (operational metadata, never logged bytes). */
export interface QueuedEntryInfo {
  /** The gateway request that queued it (`X-Request-Id`), when there was one. */
  readonly requestId: string | undefined;
  /** How long it had been queued when the sequencing transaction read it, by the database's clock. */
  readonly queuedMs: number;
}

export interface PostgresLogSignerStoreOptions {
  readonly url: string;
  readonly applicationName?: string;
}

/**
 * Leadership and writes of the log-signer over PostgreSQL. `tryLead` opens a dedicated connection
 * (never a pooled one) and takes the session advisory lock on it; every write of the session then
 * goes through that same connection. So leadership and the right to write are one thing: if the
 * connection dies, PostgreSQL releases the lock and this session can write nothing more, and a
 * standby that takes the lock cannot race a half-dead leader.
 */
export class PostgresLogSignerStore {
  constructor(private readonly options: PostgresLogSignerStoreOptions) {}

  /**
   * Resolves to a session holding the leadership lock, or undefined when another session holds it
   * (it MUST NOT wait). Rejects when the database is unreachable.
   */
  async tryLead(): Promise<PostgresLogSignerSession | undefined> {
    const client = new Client({
      connectionString: this.options.url,
      application_name: this.options.applicationName ?? 'cryptomesh-log-signer-leader',
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    const session = new PostgresLogSignerSession(client);
    client.on('error', () => session.markLost());
    client.on('end', () => session.markLost());
    await client.connect();
    try {
      const rows = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
        LOG_SIGNER_LOCK_KEY,
      ]);
      if (rows[0]?.locked === true) return session;
    } catch (error) {
      await session.close();
      throw error;
    }
    await session.close();
    return undefined;
  }
}

/**
 * One leader's session. Not safe for concurrent use: the signer loop owns it and issues one call at
 * a time. Every method MUST reject with `leader.lost` once the connection has ended.
 */
export class PostgresLogSignerSession {
  private lost = false;
  /**
   * The last `sequence` found the queue empty: the next one first asks, in one statement outside a
   * transaction, whether a row is there. An idle signer's poll is one round trip, not three (BEGIN,
   * the locking read, ROLLBACK); a busy one, whose last batch took rows, goes straight to its
   * transaction (issue #17, docs/design/log-signer.md "Sequencing").
   */
  private queueWasEmpty = false;
  /** The state profiles this session's transactions committed: not sent again (storedStates). */
  private readonly committedProfiles = new CommittedProfiles();

  constructor(private readonly client: Client) {}

  /** False once the connection (and with it the leadership lock) is gone. */
  get alive(): boolean {
    return !this.lost;
  }

  markLost(): void {
    this.lost = true;
  }

  readonly query: SqlQuery = async <R>(sql: string, params?: unknown[]): Promise<R[]> => {
    if (this.lost) throw new LogStoreError('leader.lost', 'the leader session has ended');
    try {
      const result = await this.client.query(sql, params);
      return result.rows as R[];
    } catch (error) {
      if (this.lost) throw new LogStoreError('leader.lost', 'the leader session ended', { cause: error });
      throw error;
    }
  };

  /** The seal with the highest part index, if any. */
  async lastSeal(): Promise<LogSealRecord | undefined> {
    const rows = await this.query<LogSealRow>(
      `SELECT ${SEAL_COLUMNS} FROM log_seals ORDER BY part DESC LIMIT 1`,
    );
    return rows[0] === undefined ? undefined : sealFromRow(rows[0]);
  }

  /** Entries sequenced so far: one more than the highest index (indices are contiguous from 0). */
  async sequencedSize(): Promise<number> {
    const rows = await this.query<{ size: string }>(
      'SELECT COALESCE(max(idx) + 1, 0) AS size FROM log_entries',
    );
    return safeInteger(rows[0]?.size ?? '0', 'sequenced size');
  }

  /** Leaf hashes of entries [begin, end); MUST reject with `store.corrupt` if one is missing. */
  async leafHashes(begin: number, end: number): Promise<Hash[]> {
    const rows = await this.query<{ leaf_hash: Buffer }>(
      'SELECT leaf_hash FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [begin, end],
    );
    if (rows.length !== end - begin) {
      throw new LogStoreError(
        'store.corrupt',
        `entries [${begin}, ${end}) are not all stored (${rows.length} found)`,
      );
    }
    return rows.map((r) => new Uint8Array(r.leaf_hash));
  }

  /** The `HashReader` port of `@cryptomesh/log` (see `readStoredNodes`). */
  readNodes(ids: readonly NodeId[]): Promise<Hash[]> {
    return readStoredNodes(this.query, ids);
  }

  /**
   * In ONE transaction: locks up to `limit` queued rows in queue order (`FOR UPDATE SKIP LOCKED`, so
   * an uncommitted or foreign-locked row is simply left for a later batch), asks `plan` for their
   * indices, leaf hashes and new tree nodes, stores entries and nodes, moves the rows `plan` refused
   * to `log_queue_refused` with their reason, and deletes the rows. Either all of it commits or none.
   * Resolves to the number of rows taken, sequenced or refused (0 when the queue was empty: nothing
   * is written). If `plan` throws, the transaction rolls back and this rejects with it.
   * `plan` also gets each entry's queue metadata (`QueuedEntryInfo`), in entry order; it may read
   * through this session meanwhile (the account states), inside the transaction.
   */
  async sequence(
    limit: number,
    plan: (
      entries: readonly Uint8Array[],
      queued: readonly QueuedEntryInfo[],
    ) => SequencedBatch | Promise<SequencedBatch>,
  ): Promise<number> {
    if (this.queueWasEmpty) {
      const next = await this.query<{ seq: string }>('SELECT seq FROM log_queue ORDER BY seq LIMIT 1');
      if (next.length === 0) return 0;
    }
    await this.query('BEGIN');
    try {
      const rows = await this.query<{
        seq: string;
        entry: Buffer;
        request_id: string | null;
        queued_ms: number;
      }>(
        `SELECT seq, entry, request_id,
                extract(epoch FROM clock_timestamp() - queued_at)::float8 * 1000 AS queued_ms
           FROM log_queue ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      this.queueWasEmpty = rows.length === 0;
      if (rows.length === 0) {
        await this.query('ROLLBACK');
        return 0;
      }
      const batch = await plan(
        rows.map((r) => r.entry),
        rows.map((r) => ({ requestId: r.request_id ?? undefined, queuedMs: Math.max(0, r.queued_ms) })),
      );
      const refused = batch.refused ?? [];
      const out = new Set(refused.map((r) => r.position));
      if (out.size !== refused.length || refused.some((r) => !rows[r.position]))
        throw new RangeError('refused rows must be distinct positions among the rows taken');
      const entries = rows.filter((_, i) => !out.has(i)).map((r) => r.entry);
      if (
        batch.leafHashes.length !== entries.length ||
        batch.profiles.length !== entries.length ||
        batch.nodes.some((n) => n.level < 1)
      ) {
        throw new RangeError(
          'a sequenced batch needs one leaf hash and one profile set per entry, and nodes of level ≥ 1 only',
        );
      }
      if (refused.length > 0) {
        await this.query(
          `INSERT INTO log_queue_refused (seq, entry, request_id, queued_at, reason)
           SELECT q.seq, q.entry, q.request_id, q.queued_at, r.reason
             FROM log_queue q JOIN unnest($1::bigint[], $2::text[]) AS r(seq, reason) ON r.seq = q.seq`,
          [refused.map((r) => rows[r.position]!.seq), refused.map((r) => r.reason)],
        );
      }
      // The bytes as packed binary parameters, not bytea[] (packed-bytes.ts).
      const packed = packedEntries(entries, batch.leafHashes, 2);
      await this.query(
        `INSERT INTO log_entries (idx, entry, leaf_hash)
         SELECT $1::bigint + t.n - 1, ${packed.entry}, ${packed.leafHash}
           FROM unnest(${packed.arrays}) WITH ORDINALITY AS t(entry_off, entry_len, hash_off, hash_len, n)`,
        [String(batch.first), ...packed.params],
      );
      if (batch.nodes.length > 0) {
        const nodeHashes = packBytes(batch.nodes.map((n) => n.hash));
        await this.query(
          `INSERT INTO log_tree_nodes (level, idx, hash)
           SELECT t.level, t.idx, substring($1::bytea FROM t.hash_off FOR t.hash_len)
             FROM unnest($2::smallint[], $3::bigint[], $4::int[], $5::int[]) AS t(level, idx, hash_off, hash_len)`,
          [
            nodeHashes.data,
            integerArray(batch.nodes.map((n) => n.level)),
            integerArray(batch.nodes.map((n) => n.index)),
            integerArray(nodeHashes.offsets),
            integerArray(nodeHashes.lengths),
          ],
        );
      }
      // The profile index moves with the entries: rejects (index.out-of-step) unless it ended at
      // batch.first, so a stale head or an un-backfilled index rolls the whole batch back.
      await writeProfileIndex(this.query, { first: batch.first, profiles: batch.profiles });
      // So do the account states the records were re-checked against (rules.out-of-step likewise).
      const stored =
        batch.accountStates === undefined
          ? undefined
          : await this.writeStates(batch.first, batch.first + entries.length, batch.accountStates);
      await this.query('DELETE FROM log_queue WHERE seq = ANY($1::bigint[])', [rows.map((r) => r.seq)]);
      // Commit point (sequencing): see apps/log-signer/src/log-signer.service.ts for what a crash
      // here leaves and how start-up recovers.
      await this.query('COMMIT');
      if (stored !== undefined) this.committedProfiles.add(stored);
      return rows.length;
    } catch (error) {
      await this.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Entries [0, n) are reflected in the stored account states (`log_account_states_state`). */
  async checkedSize(): Promise<number> {
    const rows = await this.query<{ checked_size: string }>(
      'SELECT checked_size FROM log_account_states_state',
    );
    return safeInteger(rows[0]?.checked_size ?? '0', 'checked size');
  }

  /** The stored rule state of one account of the own log and its nonces, if any entry of it was re-checked. */
  async accountState(account: string): Promise<StoredAccountState | undefined> {
    const rows = await this.query<{ state: unknown; through: string; nonces: Array<[unknown, unknown]> }>(
      `SELECT ${resolvedStateSql('s.state', 'log_account_profiles')} AS state, s.through,
              ${storedNoncesColumn('log_nonces')}
         FROM log_account_states s WHERE s.account = $1`,
      [account],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { state: row.state, through: safeInteger(row.through, 'account state through'), nonces: row.nonces };
  }

  /**
   * The backfill of the account states over entries already sequenced, in ONE transaction: the
   * states after entries [first, end) and the checked size advanced to `end`. MUST reject with
   * `rules.out-of-step`, writing nothing, unless the checked size was exactly `first`.
   */
  async checkAccounts(first: number, end: number, states: readonly LogAccountState[]): Promise<void> {
    await this.query('BEGIN');
    try {
      const stored = await this.writeStates(first, end, states);
      // Commit point (backfill): a crash before it leaves the checked size at `first`, and the next
      // leader re-checks the same entries from the same stored states.
      await this.query('COMMIT');
      if (stored !== undefined) this.committedProfiles.add(stored);
    } catch (error) {
      await this.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Inside a transaction: the checked size moves from `first` to `end` (or rejects) with the states.
   * Resolves to what was written of them, for `committedProfiles` once the transaction commits.
   */
  private async writeStates(
    first: number,
    end: number,
    states: readonly LogAccountState[],
  ): Promise<StoredStates | undefined> {
    const moved = await this.query<{ checked_size: string }>(
      'UPDATE log_account_states_state SET checked_size = $2 WHERE checked_size = $1 RETURNING checked_size',
      [String(first), String(end)],
    );
    if (moved.length !== 1)
      throw new LogStoreError('rules.out-of-step', `the account states do not end at entry ${first}`);
    if (states.length === 0) return undefined;
    const stored = storedStates(states, this.committedProfiles);
    await writeStateProfiles(this.query, 'log_account_profiles', stored);
    await this.query(
      `INSERT INTO log_account_states (account, state, through)
       SELECT a, s::jsonb, t FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(a, s, t)
       ON CONFLICT (account) DO UPDATE SET state = EXCLUDED.state, through = EXCLUDED.through`,
      [states.map((a) => a.account), stored.states, states.map((a) => String(a.through))],
    );
    await writeAccountNonces((sql, params) => this.query(sql, params), { table: 'log_nonces' }, states);
    return stored;
  }

  /** Entries [0, n) are in the profile index. */
  profileIndexSize(): Promise<number> {
    return readIndexedSize(this.query);
  }

  /** The exact bytes of stored entries [begin, end), in order; MUST reject with `store.corrupt` if one is missing. */
  async entries(begin: number, end: number): Promise<Uint8Array[]> {
    const rows = await this.query<{ entry: Buffer }>(
      'SELECT entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [begin, end],
    );
    if (rows.length !== end - begin) {
      throw new LogStoreError(
        'store.corrupt',
        `entries [${begin}, ${end}) are not all stored (${rows.length} found)`,
      );
    }
    return rows.map((r) => new Uint8Array(r.entry));
  }

  /**
   * Indexes already stored entries (the backfill), in ONE transaction: the rows of `batch` and
   * `indexed_size` advanced to its end. MUST reject with `index.out-of-step`, writing nothing, unless
   * the index ended exactly at `batch.first`.
   */
  async indexProfiles(batch: ProfileIndexBatch): Promise<void> {
    await this.query('BEGIN');
    try {
      await writeProfileIndex(this.query, batch);
      // Commit point (backfill): a crash before it leaves the index at batch.first and start-up
      // indexes the batch again; after it, start-up continues from its end.
      await this.query('COMMIT');
    } catch (error) {
      await this.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Stores a seal and materialises the log's tlog-tiles up to its tree size (docs/design/query.md
   * "Tiles"), in ONE transaction. MUST reject with `seal.conflict` — writing nothing — if part
   * `record.part` already has a seal, and with `seal.gap` if the part does not start where part − 1
   * ended (a database constraint, not only this code, enforces both); with `store.corrupt`, writing
   * nothing, if a tree node below the seal's size is missing.
   */
  async appendSeal(record: LogSealRecord, transition?: SealedTransition): Promise<void> {
    await this.query('BEGIN');
    try {
      if (transition !== undefined) await this.appendTransition(record.size - 1, transition);
      await this.query(`INSERT INTO log_seals (${SEAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        record.part,
        record.first,
        record.size,
        asBuffer(record.partDigest),
        asBuffer(record.chain),
        asBuffer(record.root),
        record.timeMs,
        record.note,
      ]);
      await materialiseTiles(this.query, OWN_LOG_TABLES, record.size);
      // Commit point (seal): the seal and its tiles together — see log-signer.service.ts for what a
      // crash here leaves. Tiles never reach past a committed seal.
      await this.query('COMMIT');
    } catch (error) {
      await this.query('ROLLBACK').catch(() => undefined);
      const code = (error as { code?: unknown }).code;
      if (code === '23505') {
        throw new LogStoreError('seal.conflict', `part ${record.part} is already sealed`, { cause: error });
      }
      if (code === '23503' || code === '23514') {
        throw new LogStoreError('seal.gap', `part ${record.part} does not follow the previous part`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /**
   * Inside appendSeal's transaction: the log key transition as entry `index`, the part's last
   * (docs/design/log-format.md "Key transitions"), with the tree nodes it closes; the profile index
   * and the checked size of the account states move past it (it changes neither).
   */
  private async appendTransition(index: number, transition: SealedTransition): Promise<void> {
    await this.query('INSERT INTO log_entries (idx, entry, leaf_hash) VALUES ($1, $2, $3)', [
      String(index),
      asBuffer(transition.entry),
      asBuffer(transition.leafHash),
    ]);
    for (const n of transition.nodes)
      await this.query('INSERT INTO log_tree_nodes (level, idx, hash) VALUES ($1, $2, $3)', [
        n.level,
        String(n.index),
        asBuffer(n.hash),
      ]);
    await writeProfileIndex(this.query, { first: index, profiles: [undefined] });
    await this.query('UPDATE log_account_states_state SET checked_size = $2 WHERE checked_size = $1', [
      String(index),
      String(index + 1),
    ]);
  }

  /** Ends the connection, which releases the leadership lock. Never rejects. */
  async close(): Promise<void> {
    this.lost = true;
    await this.client.end().catch(() => undefined);
  }
}
