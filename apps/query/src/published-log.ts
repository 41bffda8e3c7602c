import type { Hash, HashReader } from '@cryptomesh/log';

/** A stored seal of a log (this portal's, or a peer's as mirrored). */
export interface PublishedSeal {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly timeMs: number;
  /** The signed note exactly as its log key signed it, without cosignature lines. */
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
 * What the query service reads of one log (STYLE.md §4: defined by its consumer): this portal's own
 * (adapter `TypeOrmPublishedLog` of `@cryptomesh/persistence`) or a peer's mirror (`TypeOrmMirrorLog`,
 * only parts the replication service verified). Reads only: every method MUST answer from
 * committed data and MAY be called concurrently. `readNodes` is the `HashReader` of
 * `@cryptomesh/log` over the stored tree nodes. A log with nothing stored answers no seal, no entry.
 */
export interface PublishedLog extends HashReader {
  latestSeal(): Promise<PublishedSeal | undefined>;
  sealOfPart(part: number): Promise<PublishedSeal | undefined>;
  /** A seal whose tree size is exactly `size`, if any. */
  sealWithSize(size: number): Promise<PublishedSeal | undefined>;
  /** The seal of the lowest part whose tree holds entry `index` (size > index), if any. */
  firstSealCovering(index: number): Promise<PublishedSeal | undefined>;
  /** The exact bytes of entries [start, end) — the caller keeps the range within the sealed size. */
  entries(start: number, end: number): Promise<Uint8Array[]>;
  /** The log key transition entries below tree size `size`, oldest first (log-format.md "Key transitions"). */
  keyTransitions(size: number): Promise<Array<{ index: number; entry: Uint8Array }>>;
  readNodes(ids: Parameters<HashReader['readNodes']>[0]): Promise<Hash[]>;
  /**
   * The stored nodes [start, end) of one level (leaf hashes at 0), in index order: only those
   * stored. What the proof tree fills from (query.md "Proof tree").
   */
  levelNodes(level: number, start: number, end: number): Promise<Hash[]>;
  /**
   * Entry `index` (undefined when not stored) and the stored nodes `ids` — as `readNodes`, with
   * the same errors — in ONE statement: a profile answer's entry and inclusion proof together.
   */
  entryWithNodes(
    index: number,
    ids: Parameters<HashReader['readNodes']>[0],
  ): Promise<{ entry: Uint8Array | undefined; hashes: Hash[] }>;
  /**
   * The first `width` hashes of hash tile (`level`, `index`) as materialised when a seal was stored
   * (C2SP tlog-tiles), concatenated; undefined when no stored tile is that wide. One lookup.
   */
  hashTile(level: number, index: number, width: number): Promise<Uint8Array | undefined>;
  /**
   * For every profile whose canonical identifier starts with `idPrefix` and every account that has
   * it (only `account`, a UDF, when given), the row of the LATEST entry below `size` that set or
   * deleted it. MUST consider only entries below `size` (the caller passes a sealed size).
   */
  latestProfileRows(idPrefix: string, size: number, account?: string): Promise<ProfileIndexRow[]>;
}

/**
 * The mirror of a peer's log (adapter: `TypeOrmMirrorLog`). MUST NOT check that the peer is known
 * (the caller does, against `federation_peers`); an unknown peer reads as an empty log.
 */
export type MirrorLogs = (peer: string) => PublishedLog;
