import {
  CompactRange,
  GENESIS_CHAIN,
  decodeEntry,
  isLogError,
  LogError,
  nextChain,
  openSeal,
  planRangeHash,
  resolvePlan,
  signKeyTransition,
  signSeal,
  toBase64,
  type Ed25519,
  type Hash,
  type NoteSigner,
  type StoredNode,
  isKeyTransitionEntry,
} from '@cryptomesh/log';
import { SignerError } from './signer-error';
import type {
  RefusedEntry,
  SealRecord,
  SealStore,
  SealedTransition,
  SequencedBatch,
  SequencedLog,
} from './signer-store';
import { resolveSigningKeys, type SigningKeys } from './signing-key';

/**
 * How a seal is signed: the log key (LOG_KEY), the key to rotate to (LOG_KEY_NEXT), the checkpoint
 * origin, and Ed25519 to check the result. Which of the two signs is the log's to say
 * (`signing-key.ts`).
 */
export interface SealSigning {
  readonly logKey: NoteSigner;
  readonly nextKey?: NoteSigner;
  readonly origin: string;
  readonly ed25519: Ed25519;
}

/**
 * The log-signer's view of its log: the compact range of every sequenced entry (the whole log's
 * tree), the compact range of the open part's own entries (its part digest, accumulated as entries
 * are sequenced — never recomputed from stored nodes, which for a part starting at an odd index would
 * need every leaf), and the last seal. Immutable: `planBatch` and `planSeal` return the head to adopt
 * once their write has committed, so a failed write leaves the current head exactly as persisted.
 */
export class LogHead {
  private constructor(
    private readonly tree: CompactRange,
    private readonly part: CompactRange,
    readonly lastSeal: SealRecord | undefined,
    /** The key that signs the next seal, and the one a transition in it hands over to. */
    private readonly keys: SigningKeys | undefined,
  ) {}

  /** The empty log; its first seal is signed as `signing` says (LOG_KEY, rotating to LOG_KEY_NEXT). */
  static empty(): LogHead {
    return new LogHead(CompactRange.empty(), CompactRange.empty(), undefined, undefined);
  }

  /** The key that signs the next seal (given how the head was made, `signing`'s LOG_KEY at first). */
  signingKeys(signing: SealSigning): SigningKeys {
    return this.keys ?? resolveSigningKeys(signing, undefined, undefined);
  }

  /**
   * Rebuilds the head from what is persisted (start-up, or after losing the database session):
   * the last seal, the sequenced entries and the stored tree nodes. MUST throw SignerError
   * `signer.key-mismatch` if the last seal does not open with this log key and origin, and
   * `signer.state` if the stored tree does not lead to the last seal's root — in either case signing
   * anything more would not extend the log that was published.
   */
  static async recover(
    log: SequencedLog & Pick<SealStore, 'lastSeal'>,
    signing: SealSigning,
  ): Promise<LogHead> {
    const last = await log.lastSeal();
    const size = await log.sequencedSize();
    const lastEntry =
      last !== undefined && last.size > last.first
        ? (await log.entries(last.size - 1, last.size))[0]
        : undefined;
    const keys = resolveSigningKeys(signing, last, lastEntry);
    if (last !== undefined) {
      if (size < last.size) {
        throw new SignerError(
          'signer.state',
          `the last seal covers ${last.size} entries but only ${size} are stored`,
        );
      }
      const sealedRoot = await resolvePlan(log, planRangeHash(0, last.size));
      if (!sameHash(sealedRoot, last.root)) {
        throw new SignerError(
          'signer.state',
          `the stored tree at size ${last.size} has root ${toBase64(sealedRoot)}, not the sealed ${toBase64(last.root)}`,
        );
      }
    }
    const tree = CompactRange.fromHashes(size, await log.readNodes(CompactRange.peakIds(size)));
    const part = CompactRange.empty();
    for (const leaf of await log.leafHashes(last?.size ?? 0, size)) part.appendLeafHash(leaf);
    return new LogHead(tree, part, last, keys);
  }

  /** Entries sequenced (the log's tree size, sealed or not). */
  get size(): number {
    return this.tree.size;
  }

  /** The tree size of the last seal (0 before the first). */
  get sealedSize(): number {
    return this.lastSeal?.size ?? 0;
  }

  /** Entries sequenced since the last seal. */
  get openEntries(): number {
    return this.part.size;
  }

  get nextPart(): number {
    return this.lastSeal === undefined ? 0 : this.lastSeal.part + 1;
  }

  /**
   * Gives `entries` the next indices: their leaf hashes and the complete subtrees they close. An
   * entry that does not decode — not the canonical JSON of an object (`@cryptomesh/log` entry.ts),
   * which a peer's verifier would reject forever — gets no index: it is returned in `refused` (its
   * position in `entries` and the decoder's reason) and the entries after it close up the gap. So does
   * every entry in `refuse` (position → reason: what the record re-check refused, `record-rules.ts`).
   */
  planBatch(
    entries: readonly Uint8Array[],
    refuse: ReadonlyMap<number, string> = new Map(),
  ): {
    batch: SequencedBatch;
    next: LogHead;
    refused: RefusedEntry[];
  } {
    const tree = this.tree.clone();
    const part = this.part.clone();
    const first = tree.size;
    const leafHashes: Hash[] = [];
    const nodes: StoredNode[] = [];
    const refused: RefusedEntry[] = [];
    for (const [position, entry] of entries.entries()) {
      const reason = refuse.get(position);
      if (reason !== undefined) {
        refused.push({ position, reason });
        continue;
      }
      try {
        // Only the log-signer writes key transitions, at a seal: never from the queue.
        if (isKeyTransitionEntry(entry))
          throw new LogError('verify.transition', 'a key transition is written by the log-signer only');
        decodeEntry(entry);
      } catch (cause) {
        if (!isLogError(cause)) throw cause;
        refused.push({ position, reason: `${cause.code}: ${cause.message}` });
        continue;
      }
      const leaf = tree.appendEntry(entry, (node) => {
        if (node.level > 0) nodes.push(node);
      });
      part.appendLeafHash(leaf);
      leafHashes.push(leaf);
    }
    return {
      batch: { first, leafHashes, nodes },
      next: new LogHead(tree, part, this.lastSeal, this.keys),
      refused,
    };
  }

  /**
   * Closes the open part with a signed seal (DESIGN.md "The log"): part n covers [first_n, size_n),
   * partDigest_n is the root of its own entries, chain_n = SHA-256(chain_{n−1} ‖ partDigest_n), the
   * root is the whole log's, and the time never precedes the previous seal's (002 §5.1). The caller
   * MUST persist the record before anything may publish it, and MUST adopt `next` only once it is.
   */
  planSeal(
    nowMs: number,
    signing: SealSigning,
  ): { record: SealRecord; transition?: SealedTransition; next: LogHead } {
    const first = this.sealedSize;
    const part = this.nextPart;
    const tree = this.tree.clone();
    const partRange = this.part.clone();
    const { current, rotateTo } = this.signingKeys(signing);
    let transition: SealedTransition | undefined;
    if (rotateTo !== undefined) {
      // The key transition closes this part: its last entry, sealed by the current (old) key.
      const entry = signKeyTransition({
        origin: signing.origin,
        oldKey: current,
        nextKey: rotateTo,
        part,
        size: tree.size + 1,
      });
      const nodes: StoredNode[] = [];
      const leafHash = tree.appendEntry(entry, (node) => {
        if (node.level > 0) nodes.push(node);
      });
      partRange.appendLeafHash(leafHash);
      transition = { entry, leafHash, nodes };
    }
    const partDigest = partRange.root();
    const chain = nextChain(this.lastSeal?.chain ?? GENESIS_CHAIN, partDigest);
    const root = tree.root();
    const timeMs = Math.max(nowMs, this.lastSeal?.timeMs ?? 0);
    const note = signSeal(
      {
        origin: signing.origin,
        size: tree.size,
        root,
        part: { index: part, first, digest: partDigest },
        chain,
        timeMs,
      },
      current,
    );
    // A seal that would not open with our own verifier key must never be stored: check before persisting.
    openSeal(note, current.verifierKey, signing.ed25519, signing.origin);
    const record: SealRecord = { part, first, size: tree.size, partDigest, chain, root, timeMs, note };
    const keys: SigningKeys | undefined = rotateTo === undefined ? this.keys : { current: rotateTo };
    return {
      record,
      ...(transition === undefined ? {} : { transition }),
      next: new LogHead(tree, CompactRange.empty(), record, keys),
    };
  }
}

function sameHash(a: Hash, b: Hash): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
