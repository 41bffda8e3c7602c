import type { DataSource, EntityManager } from 'typeorm';
import type { OutboxPart, PublicationOutbox, PublishOutcome } from '@cryptomesh/intermesh/publication-outbox';
import { LogStoreError } from './log-store-error';
import { SEAL_COLUMNS, safeInteger, sealFromRow, type LogSealRow } from './log-sql';

const ENTRY_PAGE = 500;

/**
 * The publication outbox over `log_publication` and the log-signer's `log_seals`/`log_entries`.
 * The lock is the cursor row's `FOR UPDATE SKIP LOCKED`, held by the transaction that also advances
 * it, so two replication instances never publish at once and a crash releases the lock with the
 * connection.
 */
export class TypeOrmPublicationOutbox implements PublicationOutbox {
  /** Topics whose cursor row this instance created or found (forgotten when its lock finds no row). */
  private readonly cursors = new Set<string>();

  constructor(private readonly dataSource: DataSource) {}

  async publishNext(topic: string, publish: (part: OutboxPart) => Promise<void>): Promise<PublishOutcome> {
    if (!this.cursors.has(topic)) {
      await this.dataSource.query(
        'INSERT INTO log_publication (topic) VALUES ($1) ON CONFLICT (topic) DO NOTHING',
        [topic],
      );
      this.cursors.add(topic);
    }
    return this.dataSource.transaction(async (tx): Promise<PublishOutcome> => {
      const cursor = await tx.query<Array<{ next_part: string }>>(
        'SELECT next_part FROM log_publication WHERE topic = $1 FOR UPDATE SKIP LOCKED',
        [topic],
      );
      if (cursor[0] === undefined) {
        // Locked by another publisher, or gone (a restored database, a row deleted by hand): the
        // next call creates it again if it is missing, and publishes from part 0 (duplicates).
        this.cursors.delete(topic);
        return { kind: 'busy' };
      }
      const nextPart = safeInteger(cursor[0].next_part, 'next_part');
      const seals = await tx.query<LogSealRow[]>(`SELECT ${SEAL_COLUMNS} FROM log_seals WHERE part = $1`, [
        nextPart,
      ]);
      if (seals[0] === undefined) return { kind: 'idle' };
      const { part, first, size, note } = sealFromRow(seals[0]);
      await publish({ seal: { part, first, size, note }, entries: readEntries(tx, first, size) });
      // Commit point. A crash (or a lost commit) from here on leaves next_part at this part: the
      // next publisher produces it again, and consumers drop the copy as a duplicate (the part
      // assembler compares it with what it accepted; the seal is byte-identical because it is
      // read from the same row). Nothing is lost: the cursor never passes an unproduced part.
      await tx.query(
        'UPDATE log_publication SET next_part = $2, published_at = now(), updated_at = now() WHERE topic = $1',
        [topic, nextPart + 1],
      );
      return { kind: 'published', seal: { part, first, size, note } };
    });
  }

  async status(topic: string): Promise<{ nextPart: number; sealedParts: number }> {
    const rows = await this.dataSource.query<Array<{ next_part: string | null; sealed: string | null }>>(
      `SELECT (SELECT next_part FROM log_publication WHERE topic = $1) AS next_part,
              (SELECT max(part) + 1 FROM log_seals) AS sealed`,
      [topic],
    );
    return {
      nextPart: safeInteger(rows[0]?.next_part ?? 0, 'next_part'),
      sealedParts: safeInteger(rows[0]?.sealed ?? 0, 'sealed parts'),
    };
  }
}

async function* readEntries(tx: EntityManager, first: number, size: number): AsyncGenerator<Uint8Array> {
  for (let start = first; start < size; start += ENTRY_PAGE) {
    const end = Math.min(size, start + ENTRY_PAGE);
    const rows = await tx.query<Array<{ entry: Buffer }>>(
      'SELECT entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [start, end],
    );
    if (rows.length !== end - start) {
      throw new LogStoreError(
        'store.corrupt',
        `log_entries holds ${rows.length} of entries [${start}, ${end}) of a sealed part`,
      );
    }
    for (const row of rows)
      yield new Uint8Array(row.entry.buffer, row.entry.byteOffset, row.entry.byteLength);
  }
}
