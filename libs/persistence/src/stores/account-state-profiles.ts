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

/** What one profile of a state is stored under: the SHA-256 of its JSON text. */
interface ProfileDigest {
  readonly digest: Buffer;
  readonly hex: string;
}

/**
 * The digest last made for each profile object (issue #17: a state kept in memory is stored again
 * with every batch or part that touches its account, and each of its profiles was serialised and
 * hashed again, though it had not changed). The codec hands the same frozen JWS object for a
 * profile every time (`encodeAuditedAccount`), so the digest is found by the object. It is kept
 * only for a plain object of exactly the three JWS members, all strings, and answers only while
 * the object still holds exactly those members with those values: then its JSON text, and so its
 * digest, is the same. Anything else is serialised and hashed every time. The text itself is not
 * kept (it would double what a cached state holds): a profile to be written is serialised again.
 */
const digests = new WeakMap<object, { readonly jws: FlatJws; readonly digest: ProfileDigest }>();

type FlatJws = { readonly protected: string; readonly payload: string; readonly signature: string };

/** The profile's digest, and its text when it had to be made for the digest. */
function profileDigest(jws: object): ProfileDigest & { readonly body?: string } {
  const kept = digests.get(jws);
  if (kept !== undefined && isFlatJws(jws) && sameJws(jws, kept.jws)) return kept.digest;
  const body = JSON.stringify(jws);
  const digest = createHash('sha256').update(body).digest();
  const made = { digest, hex: digest.toString('hex') };
  if (isFlatJws(jws))
    digests.set(jws, {
      jws: { protected: jws.protected, payload: jws.payload, signature: jws.signature },
      digest: made,
    });
  return { ...made, body };
}

/** A plain object whose own enumerable members are exactly `protected`, `payload`, `signature`, in that order, all strings. */
function isFlatJws(value: object): value is FlatJws {
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const names = Object.keys(value);
  if (names.length !== 3 || names[0] !== 'protected' || names[1] !== 'payload' || names[2] !== 'signature')
    return false;
  const v = value as Record<string, unknown>;
  return typeof v.protected === 'string' && typeof v.payload === 'string' && typeof v.signature === 'string';
}

function sameJws(a: FlatJws, b: FlatJws): boolean {
  return a.protected === b.protected && a.payload === b.payload && a.signature === b.signature;
}

/**
 * Splits `records`' states into state rows with references and the profiles they refer to,
 * leaving out the profiles `committed` says are stored already.
 */
export function storedStates(
  records: readonly AccountStateRecord[],
  committed?: CommittedProfiles,
): StoredStates {
  const profiles = new Map<string, { digest: Buffer; body: string }>();
  const reference = (jws: unknown): unknown => {
    if (typeof jws !== 'object' || jws === null) return jws;
    if ('sha256' in jws) throw new RangeError('an account state to store holds a profile reference already');
    const found = profileDigest(jws);
    if (!profiles.has(found.hex) && committed?.has(found.hex) !== true)
      profiles.set(found.hex, { digest: found.digest, body: found.body ?? JSON.stringify(jws) });
    return { sha256: found.hex };
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
  // In digest order: two transactions that insert the same profiles (two peers' parts stored at
  // once, a moved account's Master Profile in both logs) lock them in one order, never in a cycle.
  const sorted = [...profiles.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
  return { states, digests: sorted.map((p) => p.digest), bodies: sorted.map((p) => p.body) };
}

/**
 * The profiles one store has committed to its table, by digest, at most `limit` of them (issue
 * #17: the log-signer stores the states of the accounts a batch touched with every batch, and sent
 * their unchanged profiles each time, to be found there already). A profile row is never deleted
 * (the services may only insert them, docs/design/federation.md "Stored account states"), so one
 * known committed is left out of the next writes. Only what a transaction that committed wrote is
 * added; a store forgets nothing else, and a digest not held is written as before.
 */
export class CommittedProfiles {
  private readonly digests = new Set<string>();

  constructor(private readonly limit = 16_384) {}

  has(hex: string): boolean {
    return this.digests.has(hex);
  }

  /** After the COMMIT of the transaction that wrote `stored`'s profiles. */
  add(stored: StoredStates): void {
    for (const digest of stored.digests) {
      const hex = digest.toString('hex');
      this.digests.delete(hex);
      if (this.digests.size >= this.limit) this.digests.delete(this.digests.values().next().value as string);
      this.digests.add(hex);
    }
  }

  get size(): number {
    return this.digests.size;
  }
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
 * A SQL expression: the stored profile `value` (a jsonb expression) as the decoder reads it — the
 * profile a well-formed reference names, anything else as it is. A reference to a profile that is
 * not stored becomes `{"missing": hex}`, which `decodeAuditedAccount` refuses like any value that
 * is not a JWS: a damaged store is reported, never read as another state (a null there would read as
 * an inactive object). `table` is one of the two constant names, never input.
 */
export function resolvedProfileSql(value: string, table: StateProfileTable): string {
  return `CASE WHEN jsonb_typeof(${value}) = 'object' AND (${value} ->> 'sha256') ~ '^[0-9a-f]{64}$'
          THEN coalesce((SELECT p.jws::jsonb FROM ${table} p WHERE p.digest = decode(${value} ->> 'sha256', 'hex')),
                        jsonb_build_object('missing', ${value} -> 'sha256'))
          ELSE ${value} END`;
}

/**
 * A SQL expression: the stored state `column` (a column reference of the query, never input) with
 * every profile reference replaced by the profile (`resolvedProfileSql`). A state written before
 * the profiles had rows of their own holds them inline and reads as it is; a key the row lacks is
 * not added, and an `objects` that is not an array is left for the decoder to refuse.
 */
export function resolvedStateSql(column: string, table: StateProfileTable): string {
  const profile = (value: string) => resolvedProfileSql(value, table);
  return `CASE WHEN jsonb_typeof(${column}) <> 'object' THEN ${column} ELSE ${column}
      || CASE WHEN ${column} ? 'master' THEN jsonb_build_object('master', ${profile(`(${column} -> 'master')`)}) ELSE '{}'::jsonb END
      || CASE WHEN ${column} ? 'personal' THEN jsonb_build_object('personal', ${profile(`(${column} -> 'personal')`)}) ELSE '{}'::jsonb END
      || CASE WHEN jsonb_typeof(${column} -> 'objects') = 'array' THEN jsonb_build_object('objects', coalesce(
           (SELECT jsonb_agg(CASE WHEN jsonb_typeof(o.item) = 'array' AND jsonb_array_length(o.item) = 2
                                  THEN jsonb_build_array(o.item -> 0, ${profile('(o.item -> 1)')}) ELSE o.item END
                             ORDER BY o.n)
              FROM jsonb_array_elements(${column} -> 'objects') WITH ORDINALITY AS o(item, n)),
           '[]'::jsonb)) ELSE '{}'::jsonb END END`;
}
