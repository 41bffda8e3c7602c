import { safeInteger, type SqlQuery } from './log-sql';
import type {
  FederationPeerRecord,
  FederationPortalRecord,
  StoredCosignatureRecord,
} from './typeorm-federation-reader.store';

/** A seal as the heads need it: no digests (the note carries what a checkpoint says). */
export interface HeadSealRecord {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly timeMs: number;
  /** The signed note, exactly as signed. */
  readonly note: string;
}

/** A seal with the stored cosignatures of its part (whatever seal they are over), by witness id. */
export interface SealWithCosignatures {
  readonly seal: HeadSealRecord;
  readonly cosignatures: StoredCosignatureRecord[];
}

/** One log the portal serves, as `readStoredHeads` found it. */
export interface StoredLogHeadRecord {
  /** The peer id of a mirror; undefined for the own log. */
  readonly peer: string | undefined;
  /** The log's latest seal; undefined before its first. */
  readonly latest: SealWithCosignatures | undefined;
  /**
   * With a quorum, the newest part at or below `latest` with at least `quorum` stored cosignature
   * rows (counted whatever seal they are over: the caller verifies them); undefined when none has,
   * with quorum 0, and for the own log before the portal row exists. Its `seal` is undefined only
   * if that part's seal is missing, which the database's contiguity makes impossible for a part
   * below a stored head.
   */
  readonly candidate:
    | {
        readonly part: number;
        readonly seal: HeadSealRecord | undefined;
        cosignatures: StoredCosignatureRecord[];
      }
    | undefined;
}

/** The roster and every log's head, read in one statement (one snapshot). */
export interface StoredHeadsRecord {
  readonly portal: FederationPortalRecord | undefined;
  /** Every peer, configured or not, by id (byte order). */
  readonly peers: FederationPeerRecord[];
  /** The own log first, then each peer's mirror in the order of `peers`. */
  readonly logs: StoredLogHeadRecord[];
}

const SEAL = 'part, first, size, time_ms, note';

/**
 * A cosignature row that may count toward the quorum: a federation member's, not an outside
 * witness's (`outside:<name>`, stored beside them for the checkpoint, but never a quorum cosigner:
 * counted, they made parts candidates that could not verify). Peer ids have no colon.
 */
export const MEMBER_ROW = "c.witness NOT LIKE 'outside:%'";

/** The cosignature rows of `subject`'s part `part` as one JSON array, by witness id (NULL for none). */
const cosignaturesOf = (subject: string, part: string) => `(
  SELECT json_agg(json_build_object('witness', w.witness, 'seal', w.seal, 'line', w.line)
                  ORDER BY w.witness COLLATE "C")
    FROM cosignatures w WHERE w.subject = ${subject} AND w.part = ${part})`;

/** The seal of part `part` of the log of row `h` (the own log when `h.peer` is NULL). */
const sealOf = (where: string, order: string) => `(
    SELECT * FROM (
      (SELECT ${SEAL} FROM log_seals WHERE h.peer IS NULL AND ${where} ${order})
      UNION ALL
      (SELECT ${SEAL} FROM mirror_seals m WHERE m.peer = h.peer AND ${where} ${order})) AS u
    LIMIT 1)`;

/**
 * Where `readStoredHeads` looks for each log's quorum candidate. The search walks the cosignature
 * rows newest first until a part has enough of them; when none has (a cosigner down, a quorum no
 * part reaches), a search of the whole log reads every row of the subject, at every read of the
 * heads. So the caller bounds it (docs/design/query.md "Log heads"): by subject, a `floor` — the
 * newest part it verified to meet the quorum; no newer candidate can be older — and, unless the
 * search is `full`, only the `window` parts at the top and the `window` parts from the floor up.
 * A subject absent from `subjects`: a full search from part 0.
 */
export interface HeadsSearch {
  readonly window: number;
  readonly subjects: ReadonlyMap<string, { readonly floor?: number; readonly full: boolean }>;
}

/** A full search of every log (what a reader with no memory of earlier reads asks). */
export const FULL_HEADS_SEARCH: HeadsSearch = { window: 1, subjects: new Map() };

/**
 * One row per log: the own log (peer NULL) then each peer by id. The own log's cosignatures are
 * those whose subject is this portal's id; before the portal row exists it has none. The
 * candidate is searched only with a quorum, newest first, among the parts at or below the latest
 * seal (a cosignature gossiped ahead of its part is not a candidate), as the paging search of
 * `cosignedParts` would find it first — within the bounds of `HeadsSearch` ($1: subject →
 * [floor, full]; $2: the window), each range an index range of the cosignatures' primary key.
 *
 * Written so that the planner's estimate stays small with or without the tables' statistics (every
 * join bounded to one row, the portal row too): a first version's estimate, above `jit_above_cost`,
 * made a fresh database JIT-compile it at every execution, several hundred milliseconds each.
 */
export const HEADS_SQL = `
SELECT h.peer, h.origin, h.verifier_key, h.witness_key, h.query_url, h.configured,
       f.portal_id, f.witness_key AS portal_witness_key, f.quorum,
       s.part, s.first, s.size, s.time_ms, s.note,
       ${cosignaturesOf('x.subject', 's.part')} AS cosignatures,
       k.part AS candidate,
       cs.first AS c_first, cs.size AS c_size, cs.time_ms AS c_time_ms, cs.note AS c_note,
       CASE WHEN k.part <> s.part THEN ${cosignaturesOf('x.subject', 'k.part')} END AS c_cosignatures
  FROM (SELECT 0 AS ord, NULL::text AS peer, NULL::text AS origin, NULL::text AS verifier_key,
               NULL::text AS witness_key, NULL::text AS query_url, NULL::boolean AS configured
        UNION ALL
        SELECT 1, peer, origin, verifier_key, witness_key, query_url, configured FROM federation_peers) h
  LEFT JOIN LATERAL (SELECT portal_id, witness_key, quorum FROM federation_portal LIMIT 1) f ON true
  CROSS JOIN LATERAL (SELECT coalesce(h.peer, f.portal_id) AS subject) x
  LEFT JOIN LATERAL ${sealOf('true', 'ORDER BY part DESC LIMIT 1')} s ON true
  CROSS JOIN LATERAL (
    SELECT ($1::jsonb -> x.subject ->> 0)::bigint AS floor,
           coalesce(($1::jsonb -> x.subject ->> 1)::boolean, true) AS full) b
  LEFT JOIN LATERAL (
    SELECT max(u.part) AS part FROM (
      (SELECT c.part FROM cosignatures c
        WHERE c.subject = x.subject AND c.part <= s.part AND f.quorum > 0 AND ${MEMBER_ROW}
          AND c.part >= CASE WHEN b.full THEN coalesce(b.floor, 0)
                             ELSE greatest(coalesce(b.floor, 0), s.part - $2::bigint + 1) END
        GROUP BY c.part HAVING count(*) >= f.quorum
        ORDER BY c.part DESC LIMIT 1)
      UNION ALL
      (SELECT c.part FROM cosignatures c
        WHERE c.subject = x.subject AND c.part <= s.part AND f.quorum > 0 AND ${MEMBER_ROW}
          AND NOT b.full AND c.part >= b.floor AND c.part <= b.floor + $2::bigint - 1
        GROUP BY c.part HAVING count(*) >= f.quorum
        ORDER BY c.part DESC LIMIT 1)) u) k ON true
  LEFT JOIN LATERAL ${sealOf('part = k.part', '')} cs ON k.part <> s.part
 ORDER BY h.ord, h.peer COLLATE "C"`;

interface HeadRow {
  peer: string | null;
  origin: string | null;
  verifier_key: string | null;
  witness_key: string | null;
  query_url: string | null;
  configured: boolean | null;
  portal_id: string | null;
  portal_witness_key: string | null;
  quorum: number | null;
  part: string | null;
  first: string | null;
  size: string | null;
  time_ms: string | null;
  note: string | null;
  cosignatures: StoredCosignatureRecord[] | null;
  candidate: string | null;
  c_first: string | null;
  c_size: string | null;
  c_time_ms: string | null;
  c_note: string | null;
  c_cosignatures: StoredCosignatureRecord[] | null;
}

/**
 * The roster, and for each log its latest seal with the cosignatures of its part and the newest
 * candidate part for the quorum, in ONE statement (docs/design/query.md "Log heads"): the query
 * service reads them whenever its heads are older than their bound, which under a client's polling
 * is tens of times a second, and a statement per log and per search step made that read about 40 %
 * of a federated query service's CPU (issue #17).
 */
export async function readStoredHeads(
  query: SqlQuery,
  search: HeadsSearch = FULL_HEADS_SEARCH,
): Promise<StoredHeadsRecord> {
  if (!Number.isSafeInteger(search.window) || search.window < 1)
    throw new RangeError(`heads search window: a positive integer, not ${search.window}`);
  const subjects: Record<string, [number | null, boolean]> = {};
  for (const [subject, { floor, full }] of search.subjects) {
    if (floor !== undefined && (!Number.isSafeInteger(floor) || floor < 0))
      throw new RangeError(`heads search floor of ${subject}: a part index, not ${floor}`);
    subjects[subject] = [floor ?? null, full];
  }
  const rows = await query<HeadRow>(HEADS_SQL, [JSON.stringify(subjects), search.window]);
  const first = rows[0];
  const portal =
    first?.portal_id == null
      ? undefined
      : { id: first.portal_id, witnessKey: first.portal_witness_key, quorum: first.quorum ?? 0 };
  const peers: FederationPeerRecord[] = [];
  const logs: StoredLogHeadRecord[] = [];
  for (const row of rows) {
    if (row.peer !== null)
      peers.push({
        id: row.peer,
        origin: row.origin!,
        verifierKey: row.verifier_key!,
        witnessKey: row.witness_key!,
        queryUrl: row.query_url!,
        configured: row.configured!,
      });
    const latest = headSeal(row.part, row.first, row.size, row.time_ms, row.note);
    const candidatePart = row.candidate === null ? undefined : safeInteger(row.candidate, 'candidate part');
    const latestPart = latest?.part;
    const cosignatures = row.cosignatures ?? [];
    logs.push({
      peer: row.peer ?? undefined,
      latest: latest === undefined ? undefined : { seal: latest, cosignatures },
      candidate:
        candidatePart === undefined
          ? undefined
          : candidatePart === latestPart
            ? { part: candidatePart, seal: latest, cosignatures }
            : {
                part: candidatePart,
                seal: headSeal(row.candidate, row.c_first, row.c_size, row.c_time_ms, row.c_note),
                cosignatures: row.c_cosignatures ?? [],
              },
    });
  }
  return { portal, peers, logs };
}

function headSeal(
  part: string | null,
  first: string | null,
  size: string | null,
  timeMs: string | null,
  note: string | null,
): HeadSealRecord | undefined {
  if (part === null || first === null || size === null || timeMs === null || note === null) return undefined;
  return {
    part: safeInteger(part, 'part'),
    first: safeInteger(first, 'first'),
    size: safeInteger(size, 'size'),
    timeMs: safeInteger(timeMs, 'time_ms'),
    note,
  };
}
