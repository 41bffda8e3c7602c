import type { Hash, HashReader } from '@cryptomesh/log';

/** A stored seal of this portal's log. */
export interface PublishedSeal {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly timeMs: number;
  /** The signed note exactly as the log-signer signed and stored it. */
  readonly note: string;
}

/** The latest profile index row of one profile for one account (docs/design/query.md). */
export interface ProfileIndexRow {
  /** The profile identifier, a UDF in canonical presentation. */
  readonly id: string;
  /** The account UDF of the entry. */
  readonly account: string;
  /** The index of the entry that set or deleted the profile. */
  readonly index: number;
  readonly state: 'set' | 'deleted';
}

/**
 * What the query service reads of this portal's own log (STYLE.md §4: defined by its consumer; the
 * adapter is `TypeOrmPublishedLog` of `@cryptomesh/persistence`). Reads only: every method MUST
 * answer from committed data and MAY be called concurrently. `readNodes` is the `HashReader` of
 * `@cryptomesh/log` over the stored tree nodes.
 */
export interface PublishedLog extends HashReader {
  latestSeal(): Promise<PublishedSeal | undefined>;
  sealOfPart(part: number): Promise<PublishedSeal | undefined>;
  /** A seal whose tree size is exactly `size`, if any. */
  sealWithSize(size: number): Promise<PublishedSeal | undefined>;
  /** The exact bytes of entries [start, end) — the caller keeps the range within the sealed size. */
  entries(start: number, end: number): Promise<Uint8Array[]>;
  readNodes(ids: Parameters<HashReader['readNodes']>[0]): Promise<Hash[]>;
  /**
   * For every profile whose canonical identifier starts with `idPrefix` and every account that has
   * it (only `account`, a UDF, when given), the row of the LATEST entry below `size` that set or
   * deleted it. MUST consider only entries below `size` (the caller passes a sealed size).
   */
  latestProfileRows(idPrefix: string, size: number, account?: string): Promise<ProfileIndexRow[]>;
}
