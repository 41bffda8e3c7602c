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
}
