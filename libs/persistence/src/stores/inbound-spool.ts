import type { CatalogAccess, InboundKind } from '@cryptomesh/mesh';
import { decideInbound, readProfile } from '@cryptomesh/mesh';
import type { EntityManager } from 'typeorm';
import { resolvedProfileSql } from './account-state-profiles';

/**
 * The inbound spool (docs/design/inbound.md): the items delivered to the accounts of this portal, and
 * the one admission rule both the gateway (a sender here) and the replication service (a sender
 * relayed by a peer) apply. The caller has verified the envelope against the sender's profile as the
 * logs prove it; this decides from the recipient's contact catalog and the portal's limits, and stores.
 */
export interface InboundItem {
  /** The recipient's account UDF (an account of this portal). */
  readonly account: string;
  /** The recipient's Master Profile UDF as the sender verified it (the envelope's ToMaster). */
  readonly toMaster: string;
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
  /** The envelope's `Created` (ms): outside [now − maxAgeMs, now + clockSkewMs] it is refused. */
  readonly created: number;
  /** Whether the item carries a proof of work at this portal's level. */
  readonly proofOfWorkOk: boolean;
}

export interface InboundLimits {
  /** Stranger contact requests one sender (account and Master Profile) may have accepted here per hour. */
  readonly contactRequestsPerHour: number;
  /**
   * Stranger contact requests accepted per hour for one recipient from the senders of one origin
   * portal (a member that mints accounts floods one user no faster; per recipient, so that it cannot
   * spend every other user's allowance).
   */
  readonly contactRequestsPerOriginPerHour: number;
  /** Undeleted items of allowed senders per recipient (strangers never count against it). */
  readonly spoolMaxPerAccount: number;
  /** Undeleted stranger contact requests per recipient: a flood fills this, never the contacts' room. */
  readonly strangerMaxPerAccount: number;
  /** How old an envelope may be (also how long a deleted item's tombstone is kept, plus a margin). */
  readonly maxAgeMs: number;
  readonly clockSkewMs: number;
  /** The clock (ms); Date.now by default. */
  readonly now?: () => number;
}

export type InboundRefusalCode =
  | 'inbound.stale'
  | 'inbound.unknown-recipient'
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
 * Stranger contact requests from the sender (`fromAccount` with the Master Profile `fromMaster`: a
 * squatter of the same address at another member spends its own budget, not the owner's) accepted in
 * the last hour: those delivered here and those this portal relayed for a local sender (its outbox),
 * so one limit covers both directions.
 */
export async function recentContactRequests(
  manager: EntityManager,
  fromAccount: string,
  fromMaster: string,
): Promise<number> {
  const rows = await manager.query<Array<{ n: string }>>(
    `SELECT (SELECT count(*) FROM inbound_spool
              WHERE from_account = $1 AND from_master = $2 AND stranger
                AND received_at > now() - interval '1 hour')
          + (SELECT count(*) FROM inbound_outbox
              WHERE from_account = $1 AND from_master = $2 AND stranger
                AND created_at > now() - interval '1 hour') AS n`,
    [fromAccount, fromMaster],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Serialises, for the caller's transaction, everything that counts a sender's contact requests.
 * MUST run inside a transaction (an xact lock outside one is released at once) at READ COMMITTED, the
 * isolation of every transaction here, before the counting reads.
 */
export async function lockInboundSender(manager: EntityManager, fromAccount: string): Promise<void> {
  await manager.query(`SELECT pg_advisory_xact_lock(hashtext('inbound-sender:' || $1))`, [fromAccount]);
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
  if (!manager.queryRunner?.isTransactionActive)
    throw new Error('admitInbound must run inside a transaction (its locks are transaction-scoped)');
  await lockInboundSender(manager, item.fromAccount);
  // One recipient's rows are inserted one transaction at a time, so their seq order is their commit
  // order and a reader paging by seq skips nothing (sender locks are always taken first: no cycle).
  await manager.query(`SELECT pg_advisory_xact_lock(hashtext('inbound-recipient:' || $1))`, [item.account]);
  const now = (limits.now ?? Date.now)();
  if (item.created < now - limits.maxAgeMs || item.created > now + limits.clockSkewMs)
    return {
      ok: false,
      code: 'inbound.stale',
      detail: `the envelope was created at ${item.created}, outside this portal's window (INBOUND_MAX_AGE_MS, CLOCK_SKEW_MS)`,
    };
  const held = await manager.query<unknown[]>(
    'SELECT 1 FROM inbound_spool WHERE account_udf = $1 AND from_account = $2 AND id = $3',
    [item.account, item.fromAccount, item.id],
  );
  if (held.length > 0) return { ok: true, duplicate: true, stranger: false };
  const recipient = await manager.query<Array<{ master: unknown }>>(
    `SELECT master FROM accounts WHERE account_udf = $1 AND status = 'active'`,
    [item.account],
  );
  if (recipient[0] === undefined || masterIdOf(recipient[0].master) !== item.toMaster)
    return {
      ok: false,
      code: 'inbound.unknown-recipient',
      detail: 'no active account of this portal has that address and Master Profile',
    };
  const rules = await contactRules(manager, item.account, item.fromAccount);
  const decision = decideInbound(item.kind, { account: item.fromAccount, master: item.fromMaster }, rules);
  if (!decision.ok) return decision;
  const refusal = decision.stranger
    ? await strangerRefusal(manager, item, limits)
    : await countRefusal(
        manager,
        'SELECT count(*) AS n FROM inbound_spool WHERE account_udf = $1 AND deleted_at IS NULL AND NOT stranger',
        [item.account],
        limits.spoolMaxPerAccount,
        `the recipient holds ${limits.spoolMaxPerAccount} inbound items, this portal's limit`,
        'quota.exceeded',
      );
  if (refusal !== undefined) return refusal;
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

type Refusal = Extract<InboundAdmission, { ok: false }>;

async function countRefusal(
  manager: EntityManager,
  sql: string,
  parameters: unknown[],
  max: number,
  detail: string,
  code: InboundRefusalCode,
): Promise<Refusal | undefined> {
  const rows = await manager.query<Array<{ n: string }>>(sql, parameters);
  return Number(rows[0]?.n ?? 0) >= max ? { ok: false, code, detail } : undefined;
}

/** The limits on a stranger's contact request (docs/design/inbound.md "Access control", rule 4). */
async function strangerRefusal(
  manager: EntityManager,
  item: InboundItem,
  limits: InboundLimits,
): Promise<Refusal | undefined> {
  if (!item.proofOfWorkOk)
    return {
      ok: false,
      code: 'inbound.proof-of-work',
      detail: "a stranger's contact request carries a proof of work at this portal's level",
    };
  const pending = await manager.query<unknown[]>(
    `SELECT 1 FROM inbound_spool WHERE account_udf = $1 AND from_account = $2 AND from_master = $3
        AND stranger AND deleted_at IS NULL LIMIT 1`,
    [item.account, item.fromAccount, item.fromMaster],
  );
  if (pending.length > 0)
    return {
      ok: false,
      code: 'inbound.duplicate',
      detail: 'a contact request of this sender is already waiting for the recipient',
    };
  if (
    (await recentContactRequests(manager, item.fromAccount, item.fromMaster)) >= limits.contactRequestsPerHour
  )
    return {
      ok: false,
      code: 'inbound.rate-limited',
      detail: `the sender has sent ${limits.contactRequestsPerHour} contact requests in the last hour, this portal's limit`,
    };
  return (
    (await countRefusal(
      manager,
      `SELECT count(*) AS n FROM inbound_spool
        WHERE account_udf = $1 AND origin = $2 AND stranger AND received_at > now() - interval '1 hour'`,
      [item.account, item.origin],
      limits.contactRequestsPerOriginPerHour,
      `senders of ${item.origin} have sent the recipient ${limits.contactRequestsPerOriginPerHour} contact requests in the last hour, this portal's limit per origin and recipient`,
      'inbound.rate-limited',
    )) ??
    (await countRefusal(
      manager,
      'SELECT count(*) AS n FROM inbound_spool WHERE account_udf = $1 AND stranger AND deleted_at IS NULL',
      [item.account],
      limits.strangerMaxPerAccount,
      `the recipient holds ${limits.strangerMaxPerAccount} contact requests from strangers, this portal's limit`,
      'quota.exceeded',
    ))
  );
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
 * Deletes items of `account`, each named by its sender and envelope Id (the spool's key): the envelope
 * is erased and the row stays as a tombstone (so a replay of the same envelope is not delivered
 * again) until `purgeInbound`. Resolves how many were waiting.
 */
export async function deleteInbound(
  manager: EntityManager,
  account: string,
  items: ReadonlyArray<{ readonly fromAccount: string; readonly id: string }>,
): Promise<number> {
  const rows = await manager.query<unknown[]>(
    `UPDATE inbound_spool SET envelope = NULL, deleted_at = now()
      WHERE account_udf = $1 AND (from_account, id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
        AND deleted_at IS NULL RETURNING 1`,
    [account, items.map((i) => i.fromAccount), items.map((i) => i.id)],
  );
  return Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : rows.length;
}

/**
 * Drops the tombstones of deleted items received more than `maxAgeMs` and an hour ago: a replay of
 * their envelope is then refused as stale (its Created is at most CLOCK_SKEW_MS after its arrival), so
 * the tombstone is no longer needed. Items not yet deleted stay, however old (a device may be offline
 * for weeks); the spool quotas bound them. Resolves how many rows were dropped.
 */
export async function purgeInbound(manager: EntityManager, maxAgeMs: number): Promise<number> {
  const result = await manager.query<[unknown[], number]>(
    `DELETE FROM inbound_spool
      WHERE deleted_at IS NOT NULL AND received_at < now() - (($1::bigint + 3600000) * interval '1 millisecond')`,
    [maxAgeMs],
  );
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

export interface InboundRelay {
  readonly id: string;
  /** The recipient's account UDF and its home portal's id. */
  readonly toAccount: string;
  readonly toPortal: string;
  readonly fromAccount: string;
  readonly fromMaster: string;
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
 * A stranger's contact request counts against the sender's hourly limit here too (under the sender
 * lock, so concurrent posts cannot pass it together): `{ok: false}`, writing nothing, beyond it.
 * `duplicate` — writing nothing — when the same envelope is queued for that recipient already.
 */
export async function queueInboundRelay(
  manager: EntityManager,
  relay: InboundRelay,
  limits: Pick<InboundLimits, 'contactRequestsPerHour'>,
): Promise<{ readonly ok: true; readonly duplicate: boolean } | Refusal> {
  if (!manager.queryRunner?.isTransactionActive)
    throw new Error('queueInboundRelay must run inside a transaction (its lock is transaction-scoped)');
  await lockInboundSender(manager, relay.fromAccount);
  const queued = await manager.query<unknown[]>(
    'SELECT 1 FROM inbound_outbox WHERE to_account = $1 AND from_account = $2 AND id = $3',
    [relay.toAccount, relay.fromAccount, relay.id],
  );
  if (queued.length > 0) return { ok: true, duplicate: true };
  if (
    relay.stranger &&
    (await recentContactRequests(manager, relay.fromAccount, relay.fromMaster)) >=
      limits.contactRequestsPerHour
  )
    return {
      ok: false,
      code: 'inbound.rate-limited',
      detail: `the sender has sent ${limits.contactRequestsPerHour} contact requests in the last hour, this portal's limit`,
    };
  const rows = await manager.query<unknown[]>(
    `INSERT INTO inbound_outbox (id, to_account, to_portal, from_account, from_master, kind, stranger, envelope, pow, queue_seq)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT coalesce(max(seq), 0) FROM log_queue))
     ON CONFLICT DO NOTHING RETURNING 1`,
    [
      relay.id,
      relay.toAccount,
      relay.toPortal,
      relay.fromAccount,
      relay.fromMaster,
      relay.kind,
      relay.stranger,
      relay.envelope,
      relay.pow,
    ],
  );
  return { ok: true, duplicate: rows.length === 0 };
}

/** The id of a stored Master Profile JWS; undefined when it does not read. */
function masterIdOf(jws: unknown): string | undefined {
  try {
    return readProfile(jws).profile.id;
  } catch {
    return undefined;
  }
}

/**
 * Where the account `accountUdf` whose Master Profile is `master` lives: 'self' when it is an active
 * account of this portal, else the id of a peer whose VERIFIED mirror holds it active (not moved, not
 * deleted), else undefined. The Master Profile decides between two owners of one address (a reused
 * or squatted address): only the one the sender verified receives.
 */
export async function inboundRecipientHome(
  manager: EntityManager,
  accountUdf: string,
  master: string,
): Promise<'self' | { readonly peer: string } | undefined> {
  const own = await manager.query<Array<{ master: unknown }>>(
    `SELECT master FROM accounts WHERE account_udf = $1 AND status = 'active'`,
    [accountUdf],
  );
  if (own[0] !== undefined && masterIdOf(own[0].master) === master) return 'self';
  const mirrored = await manager.query<Array<{ peer: string; master: unknown }>>(
    `SELECT s.peer, ${resolvedProfileSql(`(s.state -> 'master')`, 'mirror_account_profiles')} AS master
       FROM mirror_account_states s
      WHERE s.account = $1 AND s.state ->> 'status' = 'active' ORDER BY s.updated_at DESC`,
    [accountUdf],
  );
  const found = mirrored.find((row) => masterIdOf(row.master) === master);
  return found === undefined ? undefined : { peer: found.peer };
}
