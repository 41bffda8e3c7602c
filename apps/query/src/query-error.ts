/**
 * Refusals of the query API (STYLE.md §6), with a stable code. `query-error.filter.ts` maps each to
 * an HTTP status and the body `{ "error": { "code", "message" } }`; nothing here knows HTTP.
 */
export type QueryErrorCode =
  /** A query parameter is missing, not a decimal integer, out of range, or not one of its values. */
  | 'request.invalid'
  /** start > end, or from > to. */
  | 'range.reversed'
  /** More entries asked for than one answer carries. */
  | 'range.too-large'
  /** The range or tree size reaches beyond the latest seal. */
  | 'range.beyond-log'
  /** A proof was asked for a tree size that no seal has. */
  | 'size.not-sealed'
  | 'part.not-found'
  /** `{peer}` is not `self` nor a well-formed portal id (its alphabet or length). */
  | 'peer.invalid'
  /** `{peer}` is neither `self` nor a peer in `federation_peers`. */
  | 'peer.unknown'
  /** Not a profile UDF or `mmm:` URI, or a UDF too short to name one profile. */
  | 'profile.bad-id'
  /** No sealed entry sets the profile, or the latest one that concerns it deleted it. */
  | 'profile.not-found'
  /** `{address}` is not an account address (docs/crypto.md "Account address"). */
  | 'account.invalid'
  /** No log this portal holds has the account active (GET /accounts/{address}). */
  | 'account.not-found'
  /** The log has no seal yet. */
  | 'log.empty'
  /** Not a C2SP tlog-tiles path in its exact encoding. */
  | 'tile.invalid'
  /** The tile reaches past the latest seal (or is not materialised yet). */
  | 'tile.not-found';

export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export const QUERY_ERROR_STATUS: Readonly<Record<QueryErrorCode, number>> = {
  'request.invalid': 400,
  'range.reversed': 400,
  'range.too-large': 400,
  'range.beyond-log': 400,
  'size.not-sealed': 400,
  'part.not-found': 404,
  'peer.invalid': 400,
  'peer.unknown': 404,
  'profile.bad-id': 400,
  'profile.not-found': 404,
  'account.invalid': 400,
  'account.not-found': 404,
  'log.empty': 404,
  'tile.invalid': 400,
  'tile.not-found': 404,
};
