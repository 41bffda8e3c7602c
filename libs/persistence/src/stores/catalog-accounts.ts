import type { EntityManager } from 'typeorm';

/**
 * The gateway's account catalog (migration 1763784000000-catalog). Plain SQL over the caller's
 * EntityManager: pass the manager of the transaction that also queues the log entry, so that the
 * catalog change and the queued entry commit together or not at all (DESIGN.md "Services").
 * Profiles are stored as their flattened JWS objects; interpreting them is the caller's job.
 */

export type CatalogAccountStatus = 'active' | 'deleted' | 'moved';
export type CatalogObjectKind = 'master' | 'personal' | 'device' | 'application';

export interface CatalogAccount {
  readonly accountUdf: string;
  readonly address: string;
  readonly status: CatalogAccountStatus;
  /** The new home's log origin of a `moved` account (MoveAccount); undefined otherwise. */
  readonly movedTo?: string;
  readonly master: unknown;
  readonly personal: unknown;
  /** Grows by one with every change of the account or its objects. */
  readonly version: bigint;
  /**
   * A random value replaced by every change of the account or its objects: unlike `version`, never
   * the same for two different states, even after a failover or a point-in-time recovery.
   */
  readonly revision: string;
}

export interface CatalogObject {
  readonly objectId: string;
  readonly kind: CatalogObjectKind;
  readonly state: 'active' | 'deleted';
  /** The signed value (flattened JWS) when active; undefined when deleted. */
  readonly value: unknown;
}

/** An `accounts` row as `pg` answers it. */
export interface AccountRow {
  account_udf: string;
  address: string;
  status: CatalogAccountStatus;
  moved_to: string | null;
  master: unknown;
  personal: unknown;
  version: string;
  revision: string;
}

/** A `catalog_objects` row as `pg` answers it. */
export interface ObjectRow {
  object_id: string;
  kind: CatalogObjectKind;
  state: 'active' | 'deleted';
  value: unknown;
}

const ACCOUNT_COLUMNS = 'account_udf, address, status, moved_to, master, personal, version, revision';

export function toAccount(row: AccountRow): CatalogAccount {
  return {
    accountUdf: row.account_udf,
    address: row.address,
    status: row.status,
    ...(row.moved_to === null ? {} : { movedTo: row.moved_to }),
    master: row.master,
    personal: row.personal,
    version: BigInt(row.version),
    revision: row.revision,
  };
}

export function toObject(row: ObjectRow): CatalogObject {
  return { objectId: row.object_id, kind: row.kind, state: row.state, value: row.value ?? undefined };
}

/**
 * The account with UDF `accountUdf`, or undefined. With `lock`, the row is locked FOR UPDATE until
 * the surrounding transaction ends: every change of one account MUST hold that lock, so changes of
 * one account are serialised while different accounts proceed in parallel.
 */
export async function readCatalogAccount(
  manager: EntityManager,
  accountUdf: string,
  options: { readonly lock?: boolean } = {},
): Promise<CatalogAccount | undefined> {
  const rows = await manager.query<AccountRow[]>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE account_udf = $1${options.lock ? ' FOR UPDATE' : ''}`,
    [accountUdf],
  );
  return rows[0] === undefined ? undefined : toAccount(rows[0]);
}

/** The account holding the normalised `address`, whatever its status, or undefined. */
export async function readCatalogAccountByAddress(
  manager: EntityManager,
  address: string,
): Promise<CatalogAccount | undefined> {
  const rows = await manager.query<AccountRow[]>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE address = $1`,
    [address],
  );
  return rows[0] === undefined ? undefined : toAccount(rows[0]);
}

/**
 * Inserts a new account at version 1 and resolves with its revision. Resolves undefined — writing
 * nothing — when the UDF or the address is taken (a concurrent CreateAccount won), so that the
 * caller can refuse with `account.exists`; any other failure rejects.
 */
export async function insertCatalogAccount(
  manager: EntityManager,
  account: Pick<CatalogAccount, 'accountUdf' | 'address' | 'master' | 'personal'>,
): Promise<string | undefined> {
  const rows = await manager.query<Array<{ revision: string }>>(
    `INSERT INTO accounts (account_udf, address, status, master, personal)
     VALUES ($1, $2, 'active', $3::jsonb, $4::jsonb)
     ON CONFLICT DO NOTHING
     RETURNING revision`,
    [account.accountUdf, account.address, JSON.stringify(account.master), JSON.stringify(account.personal)],
  );
  return rows[0]?.revision;
}

/**
 * Sets the account's status and current profiles, bumps its version and resolves with its new
 * revision. The caller MUST hold the row lock (readCatalogAccount with `lock`).
 */
export async function updateCatalogAccount(
  manager: EntityManager,
  account: Pick<CatalogAccount, 'accountUdf' | 'status' | 'movedTo' | 'master' | 'personal'>,
): Promise<string> {
  const rows = await manager.query<Array<{ revision: string }>>(
    // As a CTE: TypeORM answers an UPDATE's own RETURNING rows with its count.
    `WITH updated AS (
       UPDATE accounts SET status = $2, master = $3::jsonb, personal = $4::jsonb, moved_to = $5,
              version = version + 1, revision = gen_random_uuid(), updated = now()
        WHERE account_udf = $1
       RETURNING revision)
     SELECT revision FROM updated`,
    [
      account.accountUdf,
      account.status,
      JSON.stringify(account.master),
      JSON.stringify(account.personal),
      account.movedTo ?? null,
    ],
  );
  if (rows[0] === undefined) throw new Error(`updateCatalogAccount: no account ${account.accountUdf}`);
  return rows[0].revision;
}

/** Every object of the account, in identifier order. */
export async function readCatalogObjects(
  manager: EntityManager,
  accountUdf: string,
): Promise<CatalogObject[]> {
  const rows = await manager.query<ObjectRow[]>(
    'SELECT object_id, kind, state, value FROM catalog_objects WHERE account_udf = $1 ORDER BY object_id',
    [accountUdf],
  );
  return rows.map(toObject);
}

/** One object of one account, or undefined when it is undefined (never created). */
export async function readCatalogObject(
  manager: EntityManager,
  accountUdf: string,
  objectId: string,
): Promise<CatalogObject | undefined> {
  const rows = await manager.query<ObjectRow[]>(
    'SELECT object_id, kind, state, value FROM catalog_objects WHERE account_udf = $1 AND object_id = $2',
    [accountUdf, objectId],
  );
  return rows[0] === undefined ? undefined : toObject(rows[0]);
}

/**
 * Writes the given objects of the account (insert, or replace the stored state). The caller MUST hold
 * the account's row lock. A deleted object keeps its kind and loses its value.
 */
export async function writeCatalogObjects(
  manager: EntityManager,
  accountUdf: string,
  objects: readonly CatalogObject[],
): Promise<void> {
  for (const object of objects) {
    await manager.query(
      `INSERT INTO catalog_objects (account_udf, object_id, kind, state, value)
       VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (account_udf, object_id)
       DO UPDATE SET kind = EXCLUDED.kind, state = EXCLUDED.state, value = EXCLUDED.value, updated = now()`,
      [
        accountUdf,
        object.objectId,
        object.kind,
        object.state,
        object.state === 'active' ? JSON.stringify(object.value) : null,
      ],
    );
  }
}
