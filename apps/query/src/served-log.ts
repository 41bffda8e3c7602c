import {
  TILE_HEIGHT,
  TILE_WIDTH,
  consistencyProof,
  consistencyProofRanges,
  countCosigners,
  encodeEntryBundle,
  formatTilePath,
  inclusionProof,
  inclusionProofRanges,
  planInclusionProof,
  tileWidthAt,
  toBase64,
  type HashReader,
  type TileCoord,
  type Ed25519,
  type VerifierKey,
} from '@cryptomesh/log';
import { cosignedCheckpoint } from './cosigned-checkpoint';
import type { StoredCosignature } from './federation-reader';
import { COSIGNED_PAGE, HEADS_SEARCH_WINDOW } from './log-heads-loader';
import type { CosignedSeal, LogHead } from './log-heads';
import type { ProofTree } from './proof-tree';
import type { ProfileIndexRow, PublishedLog, PublishedSeal } from './published-log';
import { QueryError } from './query-error';

export type { CosignedSeal };

/** Entries in one `/entries` answer, at most (DESIGN.md "HTTP"). */
export const MAX_ENTRIES_PER_REQUEST = 1000;

/** An inclusion proof as the API serves it (RFC 9162 §2.1.3, hashes in base64). */
export interface InclusionAnswer {
  readonly index: number;
  readonly size: number;
  readonly path: string[];
}

/**
 * The stored cosignatures of one log's seals (federation.md "Query"): those whose subject is the
 * log's portal. A log whose subject is unknown (this portal before it has a `federation_portal`
 * row) has none.
 */
export interface SealCosignatures {
  /** Stored cosignatures of part `part`, by witness id — over whichever seal. */
  of(part: number): Promise<readonly StoredCosignature[]>;
  /** See FederationReader.cosignedParts. */
  parts(from: number, witnesses: number, limit: number, before?: number): Promise<number[]>;
  /** The witness keys whose cosignatures count for this log (every member's but its portal's). */
  witnessKeys(): Promise<readonly VerifierKey[]>;
}

/**
 * One log as the query API serves it (DESIGN.md "HTTP"): this portal's own (`self`) or a peer's
 * mirror. Only what a seal covers is served: entries and proofs never reach beyond the latest
 * seal's tree size, and proofs are only for sealed tree sizes — a client can check every answer
 * against a signed checkpoint. Refusals are QueryErrors; a log with no seal answers `log.empty`
 * where a seal is needed. Stateless: one per request is fine.
 */
export class ServedLog {
  constructor(
    /** `self`, or the peer id. */
    readonly name: string,
    private readonly log: PublishedLog,
    private readonly cosignatures: SealCosignatures,
    private readonly ed25519: Ed25519,
    /**
     * The log's head as the LogHeads snapshot of this request holds it (query.md "Log heads"):
     * answers within it cost no statement; anything beyond it (a size above its latest seal) is
     * read from the database, so the snapshot only ever lags, it never refuses what is stored.
     */
    private readonly head?: LogHead,
    /**
     * The log's proof tree (query.md "Proof tree"): proofs take the nodes it holds from memory and
     * only the others from the database. Absent: every node from the database.
     */
    private readonly tree?: ProofTree,
    /** How many parts below the request's seal `provingSeal` searches without a snapshot. */
    private readonly searchWindow: number = HEADS_SEARCH_WINDOW,
  ) {}

  /** Where proofs read stored nodes: the proof tree first, then the database. */
  private get nodes(): HashReader {
    return this.tree === undefined ? this.log : this.tree.reader(this.log);
  }

  /** The latest checkpoint: the snapshot's, else (no head, no seal in it) the database's. */
  async checkpoint(): Promise<string> {
    return this.head?.latest?.checkpoint ?? this.checkpointOf(await this.latest());
  }

  /** The checkpoint text of a stored seal: its note followed by the stored cosignatures over it. */
  async checkpointOf(seal: PublishedSeal): Promise<string> {
    return cosignedCheckpoint(seal.note, await this.cosignatures.of(seal.part));
  }

  async part(part: number): Promise<{ part: number; first: number; size: number; seal: string }> {
    const seal = await this.log.sealOfPart(part);
    if (seal === undefined) throw new QueryError('part.not-found', `part ${part} is not sealed`);
    return { part: seal.part, first: seal.first, size: seal.size, seal: seal.note };
  }

  async entries(start: number, end: number): Promise<{ entries: string[] }> {
    if (start > end) throw new QueryError('range.reversed', `start ${start} is after end ${end}`);
    if (end - start > MAX_ENTRIES_PER_REQUEST) {
      throw new QueryError(
        'range.too-large',
        `at most ${MAX_ENTRIES_PER_REQUEST} entries per request (asked ${end - start})`,
      );
    }
    const sealed = await this.sealedSize((size) => end <= size);
    if (end > sealed)
      throw new QueryError('range.beyond-log', `end ${end} is beyond the sealed tree size ${sealed}`);
    const entries = await this.log.entries(start, end);
    return { entries: entries.map(toBase64) };
  }

  /**
   * `GET /logs/{peer}/key-transitions`: every log key transition the latest seal covers, oldest
   * first, as its index and entry bytes (base64). Each is self-contained — a statement signed by the
   * old and the next key — so a client follows the chain from the key it pinned (client.md).
   */
  async keyTransitions(): Promise<{ size: number; transitions: Array<{ index: number; entry: string }> }> {
    const size = await this.sealedSize();
    const found = await this.log.keyTransitions(size);
    return { size, transitions: found.map((t) => ({ index: t.index, entry: toBase64(t.entry) })) };
  }

  async inclusion(index: number, size: number): Promise<{ index: number; size: number; path: string[] }> {
    await this.requireSealedSize(size, 'size');
    if (index >= size)
      throw new QueryError('range.beyond-log', `index ${index} is not inside a tree of size ${size}`);
    const path =
      this.tree?.rangeRoots(inclusionProofRanges(index, size)) ??
      (await inclusionProof(this.nodes, index, size));
    return { index, size, path: path.map(toBase64) };
  }

  async consistency(from: number, to: number): Promise<{ from: number; to: number; path: string[] }> {
    if (from > to) throw new QueryError('range.reversed', `from ${from} is after to ${to}`);
    await this.requireSealedSize(to, 'to');
    if (from > 0) await this.requireSealedSize(from, 'from');
    const path =
      this.tree?.rangeRoots(consistencyProofRanges(from, to)) ??
      (await consistencyProof(this.nodes, from, to));
    return { from, to, path: path.map(toBase64) };
  }

  /**
   * A C2SP tlog-tiles resource: the hash tile or entry bundle `tile`, exactly as wide as asked. A
   * tile that the latest seal does not make at least that wide is `tile.not-found` (nothing beyond
   * a signed checkpoint is served); a narrower width than the tile now has is its prefix, which is
   * what it was at the checkpoint that asked for it. A hash tile is one lookup of the tiles stored
   * with the seal; an entry bundle one range read of the entries.
   */
  async tile(tile: TileCoord): Promise<Uint8Array> {
    const size = await this.sealedSize((sealed) => tileWidthAt(tile.level, tile.index, sealed) >= tile.width);
    const notFound = () =>
      new QueryError(
        'tile.not-found',
        `${formatTilePath(tile)} is beyond the latest checkpoint (size ${size})`,
      );
    if (tileWidthAt(tile.level, tile.index, size) < tile.width) throw notFound();
    if (tile.level === 'entries') {
      const start = tile.index * TILE_WIDTH;
      const entries = await this.log.entries(start, start + tile.width);
      if (entries.length !== tile.width)
        throw new Error(`entries of ${formatTilePath(tile)} are not all stored`);
      return encodeEntryBundle(entries);
    }
    const held = this.tree?.range(tile.level * TILE_HEIGHT, tile.index * TILE_WIDTH, tile.width);
    if (held !== undefined) return held;
    const hashes = await this.log.hashTile(tile.level, tile.index, tile.width);
    if (hashes === undefined) throw notFound();
    return hashes;
  }

  /** See PublishedLog.latestProfileRows. */
  profileRows(idPrefix: string, size: number, account?: string): Promise<ProfileIndexRow[]> {
    return this.log.latestProfileRows(idPrefix, size, account);
  }

  /**
   * The seal to prove entry `index` against (federation.md "Query"): the latest seal that covers
   * the entry (size > index) and whose checkpoint carries at least `quorum` valid cosignatures
   * (verified here with the witness keys, as a client would), else the latest seal — `latest`, the
   * seal the caller read the profile index at (a seal stored since then is not considered), whose
   * size MUST be above `index`.
   *
   * Without a snapshot of `latest` (query.md "Log heads": a race with a new seal, or heads not
   * loaded), the database is searched, bounded like the heads' own search: from `latest` down at
   * most HEADS_SEARCH_WINDOW parts, and never below the snapshot's own cosigned seal when that
   * one holds the entry and is not newer than `latest` — it is then the answer when the window
   * finds none. So a log whose quorum is out of reach (a cosigner down for good) costs a window
   * per request, not its whole history.
   */
  async provingSeal(index: number, quorum: number, latest: PublishedSeal): Promise<CosignedSeal> {
    const head = this.head;
    if (head?.latest !== undefined && head.latest.seal.part === latest.part) {
      // The snapshot's `cosigned` is the latest seal up to `latest` that meets the quorum: if it
      // does not hold the entry, no seal that meets it does (sizes never decrease with the part).
      const { cosigned } = head;
      return quorum > 0 && cosigned !== undefined && cosigned.seal.size > index ? cosigned : head.latest;
    }
    const known =
      quorum > 0 &&
      head?.cosigned !== undefined &&
      head.cosigned.seal.part <= latest.part &&
      head.cosigned.seal.size > index
        ? head.cosigned
        : undefined;
    const first = quorum > 0 ? await this.log.firstSealCovering(index) : undefined;
    if (first !== undefined) {
      const floor = Math.max(
        first.part,
        latest.part + 1 - this.searchWindow,
        known === undefined ? 0 : known.seal.part + 1,
      );
      const witnesses = floor <= latest.part ? await this.cosignatures.witnessKeys() : [];
      let before = latest.part + 1;
      while (floor < before) {
        const parts = await this.cosignatures.parts(floor, quorum, COSIGNED_PAGE, before);
        for (const part of parts) {
          // Parts are stored contiguously, so every part up to `latest` is there; a cosignature
          // stored before its part was mirrored (gossip) is beyond `latest` and not asked for.
          const seal = part === latest.part ? latest : await this.log.sealOfPart(part);
          if (seal === undefined) continue;
          const checkpoint = await this.checkpointOf(seal);
          if (countCosigners(checkpoint, witnesses, this.ed25519) >= quorum) return { seal, checkpoint };
        }
        if (parts.length < COSIGNED_PAGE) break;
        before = parts[parts.length - 1]!;
      }
    }
    return known ?? { seal: latest, checkpoint: await this.checkpointOf(latest) };
  }

  /**
   * Entry `index` and its inclusion proof in the tree of `seal`, in one statement (the entry and
   * the proof's stored nodes together). `seal` MUST be a stored seal of this log and `index` below
   * its size.
   */
  async entryWithProof(
    index: number,
    seal: PublishedSeal,
  ): Promise<{ entry: Uint8Array; proof: InclusionAnswer }> {
    if (index >= seal.size)
      throw new RangeError(`entry ${index} is not inside the tree of size ${seal.size}`);
    const held = this.tree?.rangeRoots(inclusionProofRanges(index, seal.size));
    if (held !== undefined) {
      return { entry: await this.entry(index), proof: { index, size: seal.size, path: held.map(toBase64) } };
    }
    const plan = planInclusionProof(index, seal.size);
    const read = await this.log.entryWithNodes(index, plan.ids);
    if (read.entry === undefined) throw new Error(`entry ${index} of a sealed tree is not stored`);
    const path = plan.build(read.hashes);
    return { entry: read.entry, proof: { index, size: seal.size, path: path.map(toBase64) } };
  }

  /** The bytes of entry `index`, which MUST be below the size of a stored seal of this log. */
  async entry(index: number): Promise<Uint8Array> {
    const [entry] = await this.log.entries(index, index + 1);
    if (entry === undefined) throw new Error(`entry ${index} of a sealed tree is not stored`);
    return entry;
  }

  /** The latest seal, or undefined before the first: the snapshot's, else the database's. */
  async latestSeal(): Promise<PublishedSeal | undefined> {
    return this.head?.latest?.seal ?? this.log.latestSeal();
  }

  /** The latest seal; rejects `log.empty` before the first. */
  async latest(): Promise<PublishedSeal> {
    const seal = await this.latestSeal();
    if (seal === undefined) throw new QueryError('log.empty', `log ${this.name} has no seal yet`);
    return seal;
  }

  /**
   * The sealed tree size: the snapshot's when `enough` accepts it, else the database's latest (a
   * request beyond the snapshot — a client that holds a newer checkpoint — is never refused for it).
   */
  private async sealedSize(enough: (size: number) => boolean = () => true): Promise<number> {
    const held = this.head?.latest?.seal.size;
    if (held !== undefined && enough(held)) return held;
    return (await this.log.latestSeal())?.size ?? 0;
  }

  private async requireSealedSize(size: number, name: string): Promise<void> {
    const sealed = await this.sealedSize((s) => size <= s);
    if (size > sealed)
      throw new QueryError('range.beyond-log', `${name} ${size} is beyond the sealed tree size ${sealed}`);
    if (this.head?.latest?.seal.size === size) return;
    if ((await this.log.sealWithSize(size)) === undefined) {
      throw new QueryError(
        'size.not-sealed',
        `no seal has tree size ${size}: proofs are for the sizes of seals`,
      );
    }
  }
}
