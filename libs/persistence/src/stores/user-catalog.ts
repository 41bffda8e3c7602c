import type { CatalogAccess, CatalogName } from '@cryptomesh/mesh';
import type { EntityManager } from 'typeorm';

/**
 * The catalog services' objects (000 §3.2; docs/design/inbound.md "Catalog objects"): one row per
 * (account, catalog, retrieval key), holding the signed value or tombstone as the device sent it.
 */
export interface StoredCatalogObject {
  readonly id: string;
  readonly state: 'active' | 'inactive';
  readonly sequence: number;
  /** The signed value (or tombstone) as JSON text. */
  readonly value: string;
  /** The paging cursor of this row's last change. */
  readonly change: string;
}

interface Row {
  id: string;
  state: 'active' | 'inactive';
  sequence: string;
  value: string;
  change: string;
}

const toObject = (r: Row): StoredCatalogObject => ({
  id: r.id,
  state: r.state,
  sequence: Number(r.sequence),
  value: r.value,
  change: String(r.change),
});

/**
 * One object, or undefined, read under a lock on the ACCOUNT's catalogs held until the caller's
 * transaction ends (it MUST run in one): two concurrent creates of one object cannot both see it
 * undefined (a row lock cannot lock a row that does not exist yet), and one account's changes commit
 * in the order of their `change` numbers, so a device paging by `change` skips none.
 */
export async function lockCatalogObject(
  manager: EntityManager,
  account: string,
  catalog: CatalogName,
  id: string,
): Promise<StoredCatalogObject | undefined> {
  if (!manager.queryRunner?.isTransactionActive)
    throw new Error('lockCatalogObject must run inside a transaction (its lock is transaction-scoped)');
  await manager.query(`SELECT pg_advisory_xact_lock(hashtext('user-catalog:' || $1))`, [account]);
  const rows = await manager.query<Row[]>(
    `SELECT id, state, sequence, value, change FROM user_catalog_objects
      WHERE account_udf = $1 AND catalog = $2 AND id = $3 FOR UPDATE`,
    [account, catalog, id],
  );
  return rows[0] === undefined ? undefined : toObject(rows[0]);
}

/**
 * Writes an object's new state (insert or replace), with the contact's access rule when it has one.
 * Call it after `lockCatalogObject` in the same transaction; a stored Sequence at or above the new one
 * is never overwritten all the same (the statement's own guard).
 */
export async function putCatalogObject(
  manager: EntityManager,
  object: {
    readonly account: string;
    readonly catalog: CatalogName;
    readonly id: string;
    readonly state: 'active' | 'inactive';
    readonly sequence: number;
    readonly value: string;
    readonly access?: CatalogAccess;
  },
): Promise<void> {
  const access = object.state === 'active' ? object.access : undefined;
  await manager.query(
    `INSERT INTO user_catalog_objects
       (account_udf, catalog, id, state, sequence, value, bytes, access_account, access_master, access_rule)
     VALUES ($1, $2, $3, $4, $5, $6, octet_length($6), $7, $8, $9)
     ON CONFLICT (account_udf, catalog, id) DO UPDATE SET
       state = EXCLUDED.state, sequence = EXCLUDED.sequence, value = EXCLUDED.value, bytes = EXCLUDED.bytes,
       access_account = EXCLUDED.access_account, access_master = EXCLUDED.access_master,
       access_rule = EXCLUDED.access_rule, change = nextval('user_catalog_objects_change_seq'),
       updated_at = now()
     WHERE user_catalog_objects.sequence < EXCLUDED.sequence`,
    [
      object.account,
      object.catalog,
      object.id,
      object.state,
      object.sequence,
      object.value,
      access?.account ?? null,
      access?.master ?? null,
      access?.rule ?? null,
    ],
  );
}

/** The objects of one catalog changed after cursor `after`, in change order, at most `limit`. */
export async function listCatalogObjects(
  manager: EntityManager,
  account: string,
  catalog: CatalogName,
  options: { readonly after?: string; readonly limit: number; readonly id?: string },
): Promise<StoredCatalogObject[]> {
  const rows = await manager.query<Row[]>(
    `SELECT id, state, sequence, value, change FROM user_catalog_objects
      WHERE account_udf = $1 AND catalog = $2 AND change > $3 AND ($4::text IS NULL OR id = $4)
      ORDER BY change LIMIT $5`,
    [account, catalog, options.after ?? '0', options.id ?? null, options.limit],
  );
  return rows.map(toObject);
}

/** How many objects (tombstones included) and bytes `account` holds over all its catalogs. */
export async function catalogUsage(
  manager: EntityManager,
  account: string,
): Promise<{ readonly objects: number; readonly bytes: number }> {
  const rows = await manager.query<Array<{ objects: string; bytes: string | null }>>(
    'SELECT count(*) AS objects, sum(bytes) AS bytes FROM user_catalog_objects WHERE account_udf = $1',
    [account],
  );
  return { objects: Number(rows[0]?.objects ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
}

/** Erases every catalog object and spool item of `account` (its deletion or its move). */
export async function eraseAccountCatalogs(manager: EntityManager, account: string): Promise<void> {
  await manager.query('DELETE FROM user_catalog_objects WHERE account_udf = $1', [account]);
  await manager.query('DELETE FROM inbound_spool WHERE account_udf = $1', [account]);
}
