import { Client } from 'pg';

/**
 * Every row of every table of the portal's schema except `schema_migrations`, as sorted JSON text:
 * comparing two snapshots shows whether a request changed anything at all (DESIGN.md invariant 4).
 */
export async function snapshotDatabase(url: string): Promise<Record<string, string[]>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
        ORDER BY table_name`,
    );
    const snapshot: Record<string, string[]> = {};
    for (const { table_name } of tables.rows) {
      const rows = await client.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM "${table_name}" t`,
      );
      snapshot[table_name] = rows.rows.map((r) => r.row).sort();
    }
    return snapshot;
  } finally {
    await client.end();
  }
}

/** Runs one SQL query against `url` with a short-lived client. */
export async function queryDatabase<R extends Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
