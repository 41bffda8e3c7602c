import type { DataSource, EntityManager } from 'typeorm';

/**
 * Escrow blobs across the federation (issue #19 item 2; docs/design/replication.md "Escrow blobs"):
 * the outbox of the blobs this portal received, and the blobs the other members published. Neither
 * names an account: a key UDF, the blob, and for a mirrored blob its origin portal.
 */

const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Queues the blob stored under `keyUdf` for publication. MUST run in the transaction that stores it. */
export async function queueEscrowPublication(manager: EntityManager, keyUdf: string): Promise<void> {
  await manager.query('INSERT INTO escrow_outbox (key_udf) VALUES ($1)', [keyUdf]);
}

/** The blob another member published under `keyUdf`, or undefined. */
export async function getMirroredEscrow(
  manager: EntityManager,
  keyUdf: string,
): Promise<Uint8Array | undefined> {
  const rows = await manager.query<Array<{ blob: Buffer }>>(
    'SELECT blob FROM mirror_escrow_blobs WHERE key_udf = $1',
    [keyUdf],
  );
  const blob = rows[0]?.blob;
  return blob === undefined ? undefined : new Uint8Array(blob);
}

/** A queued escrow blob: what the origin signs and publishes. */
export interface QueuedEscrow {
  readonly key: string;
  readonly blob: Uint8Array;
}

/**
 * The escrow outbox. `publishPending` runs under the lock of the log topic's publication cursor
 * (`log_publication`, `FOR UPDATE SKIP LOCKED`, as TypeOrmPublicationOutbox): no part of the topic is
 * being published meanwhile, by this or another replication instance, so escrow messages always fall
 * BETWEEN parts. It hands out at most `limit` queued blobs in order, and deletes them in the same
 * transaction once `publish` resolved (at least once: a crash before the commit publishes them again,
 * which receivers treat as the duplicate it is). Resolves with how many were published; 0 when
 * another publisher holds the cursor.
 */
export class TypeOrmEscrowOutbox {
  constructor(private readonly dataSource: DataSource) {}

  async publishPending(
    topic: string,
    limit: number,
    publish: (escrows: readonly QueuedEscrow[]) => Promise<void>,
  ): Promise<number> {
    // The common case, nothing queued, costs one read and no lock.
    if ((await this.pending()) === 0) return 0;
    await this.dataSource.query(
      'INSERT INTO log_publication (topic) VALUES ($1) ON CONFLICT (topic) DO NOTHING',
      [topic],
    );
    return this.dataSource.transaction(async (tx) => {
      const cursor = await tx.query<unknown[]>(
        'SELECT 1 FROM log_publication WHERE topic = $1 FOR UPDATE SKIP LOCKED',
        [topic],
      );
      if (cursor.length === 0) return 0;
      const rows = await tx.query<Array<{ seq: string; key_udf: string; blob: Buffer | null }>>(
        `SELECT o.seq, o.key_udf, b.blob FROM escrow_outbox o
           LEFT JOIN escrow_blobs b ON b.key_udf = o.key_udf
          ORDER BY o.seq LIMIT $1`,
        [limit],
      );
      if (rows.length === 0) return 0;
      const escrows: QueuedEscrow[] = [];
      for (const row of rows)
        if (row.blob !== null) escrows.push({ key: row.key_udf, blob: new Uint8Array(row.blob) });
      if (escrows.length > 0) await publish(escrows);
      await tx.query('DELETE FROM escrow_outbox WHERE seq = ANY($1::bigint[])', [rows.map((r) => r.seq)]);
      return escrows.length;
    });
  }

  /** How many blobs wait for publication (counted up to 1000). */
  async pending(): Promise<number> {
    const rows = await this.dataSource.query<Array<{ n: number }>>(
      'SELECT count(*)::int AS n FROM (SELECT 1 FROM escrow_outbox LIMIT 1000) queued',
    );
    return rows[0]?.n ?? 0;
  }
}

/** What storing a mirrored blob did. */
export type MirrorEscrowOutcome =
  | { readonly kind: 'stored' }
  /** The key holds these very bytes already (a replay, or the same blob from another origin). */
  | { readonly kind: 'same' }
  /** The key holds other bytes: nothing stored. */
  | {
      readonly kind: 'conflict';
      /** The held copy: its origin, digest and the origin's signature. */
      readonly peer: string;
      readonly digest: Uint8Array;
      readonly signature: Uint8Array;
    };

/** `mirror_escrow_blobs`, written by the replication service's intake only. */
export class TypeOrmMirrorEscrowStore {
  constructor(private readonly dataSource: DataSource) {}

  /** How many blobs, and how many bytes of blobs, `peer` has stored here. */
  async usage(peer: string): Promise<{ count: number; bytes: number }> {
    const rows = await this.dataSource.query<Array<{ n: number; bytes: string | null }>>(
      'SELECT count(*)::int AS n, sum(octet_length(blob))::bigint AS bytes FROM mirror_escrow_blobs WHERE peer = $1',
      [peer],
    );
    return { count: rows[0]?.n ?? 0, bytes: Number(rows[0]?.bytes ?? 0) };
  }

  /** Stores a verified blob under its key, first copy wins; another copy is `same` or `conflict`. */
  async store(
    peer: string,
    key: string,
    blob: Uint8Array,
    digest: Uint8Array,
    signature: Uint8Array,
  ): Promise<MirrorEscrowOutcome> {
    const inserted = await this.dataSource.query<unknown[]>(
      `INSERT INTO mirror_escrow_blobs (key_udf, peer, blob, digest, signature) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (key_udf) DO NOTHING RETURNING 1`,
      [key, peer, toBuffer(blob), toBuffer(digest), toBuffer(signature)],
    );
    if (inserted.length === 1) return { kind: 'stored' };
    const rows = await this.dataSource.query<Array<{ peer: string; digest: Buffer; signature: Buffer }>>(
      'SELECT peer, digest, signature FROM mirror_escrow_blobs WHERE key_udf = $1',
      [key],
    );
    const held = rows[0];
    if (held === undefined) throw new Error(`mirror_escrow_blobs lost the row of ${key}`);
    return Buffer.compare(held.digest, toBuffer(digest)) === 0
      ? { kind: 'same' }
      : {
          kind: 'conflict',
          peer: held.peer,
          digest: new Uint8Array(held.digest),
          signature: new Uint8Array(held.signature),
        };
  }
}
