import { createHash } from 'node:crypto';
import type { AccountStateRecord } from '@cryptomesh/audit';

/** A statement runner: a `pg` client's or a TypeORM transaction's `query`. */
type Query = (sql: string, params?: unknown[]) => Promise<unknown>;

/**
 * Where the signed profiles of stored account states are kept (migration
 * 1763809700000-account-state-profiles): the log-signer's for its own log, the replication service's
 * for the logs it mirrors.
 */
export type StateProfileTable = 'log_account_profiles' | 'mirror_account_profiles';

/**
 * A stored account state (`encodeAuditedAccount`) is mostly signed profiles — the Master and
 * Personal Profiles and every catalog object's — that rarely change, while the state is rewritten
 * with every part that touches the account. So each profile is stored once, as a row keyed by the
 * SHA-256 of its JSON text, and the state row holds `{"sha256": hex}` in its place (issue #17,
 * docs/design/federation.md "Stored account states"). A state written before the table existed
 * holds its profiles inline and is read as it is.
 */
export interface StoredStates {
  /** Each state's JSON text as the state row stores it, in the order given. */
  readonly states: string[];
  /** The distinct profiles the states refer to: digests and JSON texts, index for index. */
  readonly digests: Buffer[];
  readonly bodies: string[];
}

/** Splits `records`' states into state rows with references and the profiles they refer to. */
export function storedStates(records: readonly AccountStateRecord[]): StoredStates {
  const profiles = new Map<string, { digest: Buffer; body: string }>();
  const reference = (jws: unknown): unknown => {
    if (typeof jws !== 'object' || jws === null) return jws;
    const body = JSON.stringify(jws);
    const digest = createHash('sha256').update(body).digest();
    const hex = digest.toString('hex');
    if (!profiles.has(hex)) profiles.set(hex, { digest, body });
    return { sha256: hex };
  };
  const states = records.map(({ state }) => {
    const objects = Array.isArray(state.objects)
      ? state.objects.map((item) => (Array.isArray(item) ? [item[0], reference(item[1])] : item))
      : state.objects;
    return JSON.stringify({
      ...state,
      master: reference(state.master),
      personal: reference(state.personal),
      objects,
    });
  });
  return {
    states,
    digests: [...profiles.values()].map((p) => p.digest),
    bodies: [...profiles.values()].map((p) => p.body),
  };
}

/** Inside the transaction that stores the states: their profiles, each written once ever. */
export async function writeStateProfiles(
  query: Query,
  table: StateProfileTable,
  stored: StoredStates,
): Promise<void> {
  if (stored.digests.length === 0) return;
  await query(
    `INSERT INTO ${table} (digest, jws) SELECT * FROM unnest($1::bytea[], $2::text[])
     ON CONFLICT (digest) DO NOTHING`,
    [stored.digests, stored.bodies],
  );
}

/**
 * A SELECT-list expression: the stored state `column` with every profile reference replaced by the
 * profile (an inline profile, or a null object, stays as it is). A reference to a profile that is
 * not stored gives null there, which `decodeAuditedAccount` refuses: a damaged store is reported,
 * never read as another state.
 */
export function resolvedStateSql(column: string, table: StateProfileTable): string {
  const profile = (value: string) =>
    `CASE WHEN (${value} ->> 'sha256') IS NULL THEN ${value}
          ELSE (SELECT p.jws::jsonb FROM ${table} p WHERE p.digest = decode(${value} ->> 'sha256', 'hex')) END`;
  return `CASE WHEN ${column} IS NULL THEN NULL ELSE ${column} || jsonb_build_object(
      'master', ${profile(`(${column} -> 'master')`)},
      'personal', ${profile(`(${column} -> 'personal')`)},
      'objects', coalesce((SELECT jsonb_agg(jsonb_build_array(o.item -> 0, ${profile('(o.item -> 1)')}) ORDER BY o.n)
                             FROM jsonb_array_elements(${column} -> 'objects') WITH ORDINALITY AS o(item, n)),
                          '[]'::jsonb)) END`;
}
