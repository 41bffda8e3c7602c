import type { CatalogAccess, InboundKind } from '@cryptomesh/mesh';
import { decideInbound } from '@cryptomesh/mesh';
import type { EntityManager } from 'typeorm';

/**
 * The inbound spool (docs/design/inbound.md): the items delivered to the accounts of this portal, and
 * the one admission rule both the gateway (a sender here) and the replication service (a sender
 * relayed by a peer) apply. The caller has verified the envelope against the sender's profile as the
 * logs prove it; this decides from the recipient's contact catalog and the portal's limits, and stores.
 */
export interface InboundItem {
  /** The recipient's account UDF (an account of this portal). */
  readonly account: string;
  /** The envelope Id. */
  readonly id: string;
  readonly kind: InboundKind;
  readonly fromAccount: string;
  readonly fromMaster: string;
  /** The UDF of the sender device's signature key (the envelope's kid). */
  readonly fromDevice: string;
  /** The sender's home portal id (this portal's own id for a local sender). */
  readonly origin: string;
  /** The envelope, as JSON text. */
  readonly envelope: string;
  /** Whether the item carries a proof of work at this portal's level. */
  readonly proofOfWorkOk: boolean;
}

export interface InboundLimits {
  /** Stranger contact requests one sender account may have accepted here per hour. */
  readonly contactRequestsPerHour: number;
  /** Undeleted items per recipient. */
  readonly spoolMaxPerAccount: number;
}

export type InboundRefusalCode =
  | 'inbound.blocked'
  | 'inbound.not-a-contact'
  | 'inbound.proof-of-work'
  | 'inbound.rate-limited'
  | 'inbound.duplicate'
  | 'quota.exceeded';

export type InboundAdmission =
  | { readonly ok: true; readonly duplicate: boolean; readonly stranger: boolean }
  | { readonly ok: false; readonly code: InboundRefusalCode; readonly detail: string };

/** The active contact rules of `account` that name `fromAccount` (what decideInbound reads). */
export async function contactRules(
  manager: EntityManager,
  account: string,
  fromAccount: string,
): Promise<CatalogAccess[]> {
  const rows = await manager.query<
    Array<{ access_account: string; access_master: string | null; access_rule: string }>
  >(
    `SELECT access_account, access_master, access_rule FROM user_catalog_objects
      WHERE account_udf = $1 AND catalog = 'contact' AND state = 'active' AND access_account = $2`,
    [account, fromAccount],
  );
  return rows.map((r) => ({
    account: r.access_account,
    ...(r.access_master === null ? {} : { master: r.access_master }),
    rule: r.access_rule === 'block' ? 'block' : 'allow',
  }));
}

/**
 * Stranger contact requests from `fromAccount` accepted in the last hour: those delivered here and
 * those this portal relayed for a local sender (its outbox), so one limit covers both directions.
 */
export async function recentContactRequests(manager: EntityManager, fromAccount: string): Promise<number> {
  const rows = await manager.query<Array<{ n: string }>>(
    `SELECT (SELECT count(*) FROM inbound_spool
              WHERE from_account = $1 AND kind = 'contact' AND stranger
                AND received_at > now() - interval '1 hour')
          + (SELECT count(*) FROM inbound_outbox
              WHERE from_account = $1 AND kind = 'contact' AND stranger
                AND created_at > now() - interval '1 hour') AS n`,
    [fromAccount],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Admits one item into the recipient's spool, in the caller's transaction (docs/design/inbound.md
 * "Access control"): a replay of an item held (or deleted, while its tombstone lasts) is
 * `{ok, duplicate}` and changes nothing; a blocked sender, a stranger's item that is not a contact
 * request, a stranger's contact request without proof of work, beyond the hourly limit or while one
 * of the same sender is pending, and a full spool are refused and change nothing. Serialised per
 * sender (an advisory lock) so that concurrent requests cannot pass the hourly limit together.
 */
export async function admitInbound(
  manager: EntityManager,
  item: InboundItem,
  limits: InboundLimits,
): Promise<InboundAdmission> {
  await manager.query(`SELECT pg_advisory_xact_lock(hashtext('inbound:' || $1))`, [item.fromAccount]);
  const held = await manager.query<unknown[]>(
    'SELECT 1 FROM inbound_spool WHERE account_udf = $1 AND id = $2',
    [item.account, item.id],
  );
  if (held.length > 0) return { ok: true, duplicate: true, stranger: false };
  const rules = await contactRules(manager, item.account, item.fromAccount);
  const decision = decideInbound(item.kind, { account: item.fromAccount, master: item.fromMaster }, rules);
  if (!decision.ok) return decision;
  if (decision.stranger) {
    if (!item.proofOfWorkOk)
      return {
        ok: false,
        code: 'inbound.proof-of-work',
        detail: "a stranger's contact request carries a proof of work at this portal's level",
      };
    const pending = await manager.query<unknown[]>(
      `SELECT 1 FROM inbound_spool WHERE account_udf = $1 AND from_account = $2 AND kind = 'contact'
          AND stranger AND deleted_at IS NULL LIMIT 1`,
      [item.account, item.fromAccount],
    );
    if (pending.length > 0)
      return {
        ok: false,
        code: 'inbound.duplicate',
        detail: 'a contact request of this sender is already waiting for the recipient',
      };
    if ((await recentContactRequests(manager, item.fromAccount)) >= limits.contactRequestsPerHour)
      return {
        ok: false,
        code: 'inbound.rate-limited',
        detail: `the sender has sent ${limits.contactRequestsPerHour} contact requests in the last hour, this portal's limit`,
      };
  }
  const count = await manager.query<Array<{ n: string }>>(
    'SELECT count(*) AS n FROM inbound_spool WHERE account_udf = $1 AND deleted_at IS NULL',
    [item.account],
  );
  if (Number(count[0]?.n ?? 0) >= limits.spoolMaxPerAccount)
    return {
      ok: false,
      code: 'quota.exceeded',
      detail: `the recipient holds ${limits.spoolMaxPerAccount} inbound items, this portal's limit`,
    };
  const inserted = await manager.query<unknown[]>(
    `INSERT INTO inbound_spool (account_udf, id, kind, from_account, from_master, from_device, origin, stranger, envelope)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING 1`,
    [
      item.account,
      item.id,
      item.kind,
      item.fromAccount,
      item.fromMaster,
      item.fromDevice,
      item.origin,
      decision.stranger,
      item.envelope,
    ],
  );
  return { ok: true, duplicate: inserted.length === 0, stranger: decision.stranger };
}

export interface SpoolRow {
  readonly id: string;
  readonly kind: InboundKind;
  readonly fromAccount: string;
  readonly fromMaster: string;
  readonly origin: string;
  readonly envelope: string;
  readonly received: number;
  /** The paging cursor of this row. */
  readonly seq: string;
}

/** The undeleted items of `account` after cursor `after` (a seq), oldest first, at most `limit`. */
export async function listInbound(
  manager: EntityManager,
  account: string,
  options: { readonly kind?: InboundKind; readonly after?: string; readonly limit: number },
): Promise<SpoolRow[]> {
  const rows = await manager.query<
    Array<{
      id: string;
      kind: InboundKind;
      from_account: string;
      from_master: string;
      origin: string;
      envelope: string;
      received: string;
      seq: string;
    }>
  >(
    `SELECT id, kind, from_account, from_master, origin, envelope,
            (extract(epoch FROM received_at) * 1000)::bigint AS received, seq
       FROM inbound_spool
      WHERE account_udf = $1 AND deleted_at IS NULL AND seq > $2 AND ($3::text IS NULL OR kind = $3)
      ORDER BY seq LIMIT $4`,
    [account, options.after ?? '0', options.kind ?? null, options.limit],
  );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    fromAccount: r.from_account,
    fromMaster: r.from_master,
    origin: r.origin,
    envelope: r.envelope,
    received: Number(r.received),
    seq: String(r.seq),
  }));
}

/**
 * Deletes items of `account`: the envelope is erased and the row stays as a tombstone (so a replay of
 * the same envelope is not delivered again) until `purgeInbound`. Resolves how many were held.
 */
export async function deleteInbound(
  manager: EntityManager,
  account: string,
  ids: readonly string[],
): Promise<number> {
  const rows = await manager.query<unknown[]>(
    `UPDATE inbound_spool SET envelope = NULL, deleted_at = now()
      WHERE account_udf = $1 AND id = ANY($2::text[]) AND deleted_at IS NULL RETURNING 1`,
    [account, [...ids]],
  );
  return Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : rows.length;
}

/** Drops every spool row (tombstones included) older than `maxAgeMs`; resolves how many. */
export async function purgeInbound(manager: EntityManager, maxAgeMs: number): Promise<number> {
  const rows = await manager.query<unknown[]>(
    `DELETE FROM inbound_spool WHERE received_at < now() - ($1::bigint * interval '1 millisecond') RETURNING 1`,
    [maxAgeMs],
  );
  return Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : rows.length;
}

export interface InboundRelay {
  readonly id: string;
  /** The recipient's account UDF and its home portal's id. */
  readonly toAccount: string;
  readonly toPortal: string;
  readonly fromAccount: string;
  readonly kind: InboundKind;
  /** Whether this portal saw no allow rule for the sender (it cannot know the recipient's catalog). */
  readonly stranger: boolean;
  readonly envelope: string;
  readonly pow: string | null;
}

/**
 * Queues an item for a recipient at another member (the replication service publishes it on this
 * portal's log topic, docs/design/inbound.md "the relay"), in the caller's transaction. `queue_seq`
 * is the newest log_queue row now: the item is published only after every entry queued before it.
 * Resolves false — writing nothing — when the same envelope Id is queued for that recipient already.
 */
export async function queueInboundRelay(manager: EntityManager, relay: InboundRelay): Promise<boolean> {
  const rows = await manager.query<unknown[]>(
    `INSERT INTO inbound_outbox (id, to_account, to_portal, from_account, kind, stranger, envelope, pow, queue_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT coalesce(max(seq), 0) FROM log_queue))
     ON CONFLICT DO NOTHING RETURNING 1`,
    [
      relay.id,
      relay.toAccount,
      relay.toPortal,
      relay.fromAccount,
      relay.kind,
      relay.stranger,
      relay.envelope,
      relay.pow,
    ],
  );
  return rows.length === 1;
}

/**
 * Where the account `accountUdf` lives: 'self' when it is an active account of this portal, else the
 * id of the peer whose VERIFIED mirror holds it active (not moved, not deleted), else undefined.
 */
export async function inboundRecipientHome(
  manager: EntityManager,
  accountUdf: string,
): Promise<'self' | { readonly peer: string } | undefined> {
  const own = await manager.query<Array<{ status: string }>>(
    'SELECT status FROM accounts WHERE account_udf = $1',
    [accountUdf],
  );
  if (own[0]?.status === 'active') return 'self';
  const mirrored = await manager.query<Array<{ peer: string }>>(
    `SELECT peer FROM mirror_account_states
      WHERE account = $1 AND state ->> 'status' = 'active' ORDER BY updated_at DESC LIMIT 1`,
    [accountUdf],
  );
  const peer = mirrored[0]?.peer;
  return peer === undefined ? undefined : { peer };
}
