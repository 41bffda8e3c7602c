import type { DataSource } from 'typeorm';
import { admitInbound, type InboundItem, type InboundLimits } from './inbound-spool';
import { safeInteger } from './log-sql';

/**
 * The relay of inbound items between portals, the origin's half (issue #20; docs/design/inbound.md
 * "Across the federation: the relay", docs/design/replication.md "Inbound items"): the outbox of the
 * items this portal accepted for a recipient at another member, written by the gateway (InboundPost),
 * published by the replication service. The recipient's half is `admitInbound` (inbound-spool.ts).
 */

/** A queued inbound item: what the origin signs and publishes. */
export interface QueuedInbound {
  /** The envelope's Id (the spool key at the recipient, with `to`). */
  readonly id: string;
  /** The recipient's account UDF. */
  readonly to: string;
  /** The recipient's home portal id (as the gateway found it). */
  readonly toPortal: string;
  /** The envelope as InboundPost received it: the JWS as JSON text. */
  readonly envelope: string;
  /** The proof-of-work nonce of a contact request, or null. */
  readonly pow: string | null;
}

/**
 * The inbound outbox. `publishPending` runs under the lock of the log topic's publication cursor
 * (`log_publication`, `FOR UPDATE SKIP LOCKED`, as TypeOrmPublicationOutbox and TypeOrmEscrowOutbox):
 * no part of the topic is being published meanwhile, so inbound messages always fall BETWEEN parts.
 *
 * Order (docs/design/inbound.md "Order"): a row MUST NOT be handed out before every log entry that
 * was committed when the post was accepted is in a published part. The gateway records `queue_seq`,
 * the newest `log_queue.seq` it saw; once no queued row at or below it is left, all those entries are
 * sequenced (the log-signer deletes a queued row in the transaction that writes its entry), and the
 * row's `after_size` becomes the log's size then — one statement, one snapshot, so no entry can fall
 * between the two reads. The row is handed out once the published parts reach `after_size` (the
 * size the seal of the part before the cursor signs): its entries are then sealed AND published.
 */
export class TypeOrmInboundOutbox {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Hands out at most `limit` publishable rows in queue order and marks them published in the same
   * transaction once `publish` resolved (at least once: a crash before the commit publishes them
   * again, which the recipient's spool treats as the duplicate it is). Rows stay (`published_at`):
   * the gateway counts a sender's recent contact requests in them. Resolves with how many rows were
   * handed out; 0 when nothing is publishable yet or another publisher holds the cursor.
   */
  async publishPending(
    topic: string,
    limit: number,
    publish: (items: readonly QueuedInbound[]) => Promise<void>,
  ): Promise<number> {
    // The common case, nothing queued, costs one read and no lock.
    if (!(await this.hasPending())) return 0;
    await this.dataSource.query(
      'INSERT INTO log_publication (topic) VALUES ($1) ON CONFLICT (topic) DO NOTHING',
      [topic],
    );
    return this.dataSource.transaction(async (tx) => {
      const cursor = await tx.query<Array<{ next_part: string }>>(
        'SELECT next_part FROM log_publication WHERE topic = $1 FOR UPDATE SKIP LOCKED',
        [topic],
      );
      if (cursor[0] === undefined) return 0;
      const nextPart = safeInteger(cursor[0].next_part, 'next_part');
      // The log size each row waits for, once its queued entries are sequenced (see the class).
      await tx.query(`
        UPDATE inbound_outbox
           SET after_size = (SELECT coalesce(max(idx) + 1, 0) FROM log_entries)
         WHERE published_at IS NULL AND after_size IS NULL
           AND NOT EXISTS (SELECT 1 FROM log_queue q WHERE q.seq <= inbound_outbox.queue_seq)`);
      const sealed = await tx.query<Array<{ size: string }>>('SELECT size FROM log_seals WHERE part = $1', [
        nextPart - 1,
      ]);
      const published = sealed[0] === undefined ? 0 : safeInteger(sealed[0].size, 'size');
      const rows = await tx.query<
        Array<{
          seq: string;
          id: string;
          to_account: string;
          to_portal: string;
          envelope: string;
          pow: string | null;
        }>
      >(
        `SELECT seq, id, to_account, to_portal, envelope, pow FROM inbound_outbox
          WHERE published_at IS NULL AND after_size <= $1
          ORDER BY seq LIMIT $2`,
        [published, limit],
      );
      if (rows.length === 0) return 0;
      await publish(
        rows.map((r) => ({
          id: r.id,
          to: r.to_account,
          toPortal: r.to_portal,
          envelope: r.envelope,
          pow: r.pow,
        })),
      );
      // Commit point. A crash (or a lost commit) from here on leaves the rows unpublished: the next
      // publisher produces them again after the next part at the latest; the recipient's spool
      // (account, Id) key makes the copy a no-op.
      await tx.query('UPDATE inbound_outbox SET published_at = now() WHERE seq = ANY($1::bigint[])', [
        rows.map((r) => r.seq),
      ]);
      return rows.length;
    });
  }

  /** Deletes the rows published more than `keepMs` ago; resolves with how many. */
  async purgePublished(keepMs: number): Promise<number> {
    // Wrapped in a SELECT: TypeORM answers a bare DELETE with [rows, affected], not rows.
    const rows = await this.dataSource.query<Array<{ n: string }>>(
      `WITH purged AS (
         DELETE FROM inbound_outbox WHERE published_at < now() - ($1::bigint * interval '1 millisecond')
         RETURNING 1)
       SELECT count(*) AS n FROM purged`,
      [keepMs],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Whether any row waits for publication. */
  async hasPending(): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM inbound_outbox WHERE published_at IS NULL LIMIT 1',
    );
    return rows.length > 0;
  }
}

/**
 * The recipient's half: this portal's accounts and spool as the replication service's intake uses
 * them. The replication role reads `accounts` (account_udf, address, status) only.
 */
export class TypeOrmInboundDelivery {
  constructor(private readonly dataSource: DataSource) {}

  /** Whether `account` (a UDF) is an account of this portal with status `active`. */
  async isActiveRecipient(account: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM accounts WHERE account_udf = $1 AND status = 'active'`,
      [account],
    );
    return rows.length > 0;
  }

  /** `admitInbound` in ONE transaction (its rate limit, quota and insert see one state). */
  admit(item: InboundItem, limits: InboundLimits): ReturnType<typeof admitInbound> {
    return this.dataSource.transaction((tx) => admitInbound(tx, item, limits));
  }
}
