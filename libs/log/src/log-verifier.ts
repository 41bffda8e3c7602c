import { bytesEqual, fromBase64, toBase64 } from './bytes';
import { GENESIS_CHAIN, nextChain } from './chain';
import { CompactRange } from './compact-range';
import { decodeEntry } from './entry';
import {
  checkKeyTransition,
  isKeyTransitionEntry,
  parseKeyTransition,
  type KeyTransition,
} from './key-transition';
import { isLogError, LogError, type LogErrorCode } from './log-error';
import { LogKeys, type LogKeysState } from './log-keys';
import { openSeal, type Seal } from './seal';
import type { StoredNode } from './hash-reader';
import type { LogVerifierOptions, PartHashes } from './log-verifier-options';
import type { Hash } from './tree-hasher';
import type { VerifierKey } from './verifier-key';

export type { EntryHook, LogVerifierOptions, PartHashes } from './log-verifier-options';

/** What a verifier keeps between parts, JSON-serialisable: the last verified seal and its frontier. */
export interface LogVerifierState {
  /** The last verified seal, as signed (cosignatures MAY be present). */
  readonly note: string;
  /** Base64 peak hashes of the compact range at the seal's tree size (`CompactRange.hashes`). */
  readonly frontier: readonly string[];
  /**
   * Present once the log's key changed: the key that signs the next seal, the key that signed
   * `note` (when it is another: the transition part's seal), and every key retired so far.
   */
  readonly keys?: LogKeysState;
}

export type PartVerdict =
  | {
      readonly ok: true;
      readonly seal: Seal;
      readonly note: string;
      readonly entries: number;
      /** With `keepHashes`: each entry hashed once, for the caller to store the tree (issue #17). */
      readonly hashes?: PartHashes;
    }
  | { readonly ok: false; readonly violation: LogError };

/** A part as it arrives: its entries (exact bytes, in order) and then the seal that closes it. */
export interface PartInput {
  readonly entries: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  readonly seal: string;
}

interface Head {
  readonly seal: Seal;
  readonly note: string;
  readonly tree: CompactRange;
  /** The key that signed `note`. */
  readonly key: VerifierKey;
}

/** A key transition met in the part being read: the record, or why it cannot be one. */
type PendingTransition =
  | { readonly ok: true; readonly transition: KeyTransition; readonly index: number }
  | { readonly ok: false; readonly error: LogError };

/**
 * Verifies a portal's log part after part, as a peer MUST before mirroring or cosigning anything
 * (DESIGN.md invariant 3), in constant memory: it keeps only the previous seal and the compact
 * range of the log's tree (≤ 53 hashes), plus the compact range of the part being read.
 *
 * For each part it checks, in this order, and reports the first violation with what was expected
 * and what was seen: the seal's signature by the log key and its format (`note.*`, `checkpoint.*`,
 * `seal.*`); the part index follows the previous one and the part starts where the previous seal's
 * tree ended (`verify.gap`); the tree size equals that start plus the entries received
 * (`verify.size`); the part digest is the RFC 9162 root of exactly these entries
 * (`verify.part-digest`); the tree root is the root of the previous tree extended by these entries
 * — which is consistency with the previous seal (`verify.inconsistent`); chain_n =
 * SHA-256(chain_{n-1} ‖ digest_n) (`verify.chain`); the time does not go backwards, nor too far
 * ahead of `now` (`verify.time`). Each entry is checked as it arrives (`entry.*`,
 * `verify.entry-rejected`).
 *
 * A violation leaves the verified head unchanged and is sticky: later input is ignored and every
 * verdict repeats it, until `abortPart()` discards the part (e.g. to fetch it again). Not safe for
 * concurrent use: one consumer feeds one verifier, entries strictly in order.
 */
export class LogVerifier {
  private readonly options: LogVerifierOptions;
  private readonly origin: string;
  private head: Head | undefined;
  private tree: CompactRange;
  private part = CompactRange.empty();
  private violation: LogError | undefined;
  private readonly keys: LogKeys;
  private transition: PendingTransition | undefined;
  private hashes: { leaves: Hash[]; nodes: StoredNode[] } | undefined;

  /** Throws `verify.state` (or the seal's own error) if `options.from` does not check out. */
  constructor(options: LogVerifierOptions) {
    this.options = options;
    this.origin = options.origin ?? options.logKey.name;
    this.keys = new LogKeys(options.logKey);
    this.head = options.from === undefined ? undefined : this.resume(options.from);
    this.tree = this.head === undefined ? CompactRange.empty() : this.head.tree.clone();
    this.hashes = options.keepHashes === true ? { leaves: [], nodes: [] } : undefined;
  }

  /** The last seal verified, if any. */
  get lastSeal(): Seal | undefined {
    return this.head?.seal;
  }

  /** The log key that must sign the next seal (the pinned one until a transition). */
  get currentKey(): VerifierKey {
    return this.keys.current;
  }

  /** The violation that stopped this part, if any. */
  get failure(): LogError | undefined {
    return this.violation;
  }

  /** The state to persist with the mirror and to resume from (`options.from`). */
  state(): LogVerifierState | undefined {
    if (this.head === undefined) return undefined;
    const state = { note: this.head.note, frontier: this.head.tree.hashes().map(toBase64) };
    const keys = this.keys.state(this.head.key);
    return keys === undefined ? state : { ...state, keys };
  }

  /**
   * Feeds the next entry of the current part. Never throws for bad input: a violation is recorded
   * and reported by `closePart`. Returns a Promise only when the entry hook returned one; the
   * caller MUST await it before feeding the next entry.
   */
  pushEntry(entry: Uint8Array): void | Promise<void> {
    if (this.violation !== undefined) return;
    const index = this.tree.size;
    const partIndex = this.nextPartIndex();
    try {
      if (this.options.checkEntryEncoding !== false) decodeEntry(entry);
    } catch (error) {
      this.fail(error, { part: partIndex, entry: index });
      return;
    }
    const hashes = this.hashes;
    const leaf =
      hashes === undefined
        ? this.tree.appendEntry(entry)
        : this.tree.appendEntry(entry, (node) => {
            if (node.level > 0) hashes.nodes.push(node);
          });
    hashes?.leaves.push(leaf);
    this.part.appendLeafHash(leaf);
    // A transition MUST be the last entry of its part; whether it is valid is judged only once the
    // part's seal has proved the entries are the portal's (DESIGN.md invariant 7).
    if (this.transition !== undefined) {
      this.transition = {
        ok: false,
        error: new LogError('verify.transition', 'the key transition is not the last entry of its part', {
          entry: index,
        }),
      };
    }
    if (isKeyTransitionEntry(entry)) {
      try {
        this.transition = { ok: true, transition: parseKeyTransition(entry), index };
      } catch (error) {
        if (!isLogError(error)) throw error;
        this.transition = { ok: false, error };
      }
      return;
    }
    const hook = this.options.onEntry;
    if (hook === undefined) return;
    try {
      const pending = hook(entry, { index, part: partIndex });
      // Any thenable, not only this realm's Promise.
      if (pending !== undefined)
        return Promise.resolve(pending).catch((error) => this.reject(error, partIndex, index));
    } catch (error) {
      this.reject(error, partIndex, index);
    }
  }

  /**
   * Closes the current part with its seal and checks it (see the class comment). On success the
   * seal becomes the verified head; on failure nothing changes and the violation is returned.
   */
  closePart(note: string): PartVerdict {
    if (this.violation === undefined) {
      try {
        return this.check(note);
      } catch (error) {
        this.fail(error, { part: this.nextPartIndex() });
      }
    }
    return { ok: false, violation: this.violation! };
  }

  /** Discards the entries fed since the last verified seal, and any violation they caused. */
  abortPart(): void {
    this.tree = this.head === undefined ? CompactRange.empty() : this.head.tree.clone();
    this.part = CompactRange.empty();
    this.violation = undefined;
    this.transition = undefined;
    this.hashes = this.options.keepHashes === true ? { leaves: [], nodes: [] } : undefined;
  }

  /** Feeds a whole part (sync or async entries, read once, in order) and closes it. */
  async verifyPart(input: PartInput): Promise<PartVerdict> {
    const { entries } = input;
    if (Symbol.asyncIterator in entries) {
      for await (const entry of entries) {
        await this.pushEntry(entry);
        if (this.violation !== undefined) break;
      }
    } else {
      for (const entry of entries) {
        const pending = this.pushEntry(entry);
        if (pending !== undefined) await pending;
        if (this.violation !== undefined) break;
      }
    }
    return this.closePart(input.seal);
  }

  private check(note: string): PartVerdict {
    const seal = this.keys.open(note, this.options.ed25519, this.origin);
    const prev = this.head?.seal;
    const part = seal.part.index;
    const entries = this.tree.size - (prev?.size ?? 0);
    const violation = (code: LogErrorCode, message: string, expected: string, seen: string): PartVerdict => {
      this.violation = new LogError(code, message, { expected, seen, part });
      return { ok: false, violation: this.violation };
    };
    const expectedPart = this.nextPartIndex();
    if (part !== expectedPart) {
      return violation('verify.gap', 'the seal is not for the next part', String(expectedPart), String(part));
    }
    const expectedFirst = prev?.size ?? 0;
    if (seal.part.first !== expectedFirst) {
      return violation(
        'verify.gap',
        'the part does not start where the previous part ended',
        String(expectedFirst),
        String(seal.part.first),
      );
    }
    if (seal.size !== this.tree.size) {
      return violation(
        'verify.size',
        `the seal's tree size does not match the ${entries} entries received`,
        String(this.tree.size),
        String(seal.size),
      );
    }
    const digest = this.part.root();
    if (!bytesEqual(digest, seal.part.digest)) {
      return violation(
        'verify.part-digest',
        "the part digest is not the root of the part's entries",
        toBase64(digest),
        toBase64(seal.part.digest),
      );
    }
    const root = this.tree.root();
    if (!bytesEqual(root, seal.root)) {
      return violation(
        'verify.inconsistent',
        'the tree root is not the previous tree extended by this part',
        toBase64(root),
        toBase64(seal.root),
      );
    }
    const chain = nextChain(this.head?.seal.chain ?? GENESIS_CHAIN, digest);
    if (!bytesEqual(chain, seal.chain)) {
      return violation(
        'verify.chain',
        'chain_n is not SHA-256(chain_{n-1} ‖ partDigest_n)',
        toBase64(chain),
        toBase64(seal.chain),
      );
    }
    if (prev !== undefined && seal.timeMs < prev.timeMs) {
      return violation(
        'verify.time',
        'the seal is dated before the previous seal',
        `≥ ${prev.timeMs}`,
        String(seal.timeMs),
      );
    }
    if (this.options.now !== undefined) {
      const latest = this.options.now() + (this.options.maxFutureMs ?? 300_000);
      if (seal.timeMs > latest)
        return violation(
          'verify.time',
          'the seal is dated in the future',
          `≤ ${latest}`,
          String(seal.timeMs),
        );
    }
    const pending = this.transition;
    if (pending !== undefined) {
      if (!pending.ok)
        return violation(
          pending.error.code,
          pending.error.message,
          pending.error.expected ?? '',
          pending.error.seen ?? '',
        );
      try {
        checkKeyTransition(
          pending.transition,
          { origin: this.origin, currentKey: this.keys.current, part, size: seal.size },
          this.options.ed25519,
        );
        if (this.keys.wasUsed(pending.transition.nextKey))
          throw new LogError('verify.transition', 'the key transition names a key the log already used', {
            seen: pending.transition.nextKey.text,
          });
      } catch (error) {
        if (!isLogError(error)) throw error;
        return violation(error.code, error.message, error.expected ?? '', error.seen ?? '');
      }
    }
    this.head = { seal, note, tree: this.tree.clone(), key: this.keys.current };
    this.part = CompactRange.empty();
    this.transition = undefined;
    if (pending?.ok === true) {
      this.keys.advance(pending.transition.nextKey);
    }
    const hashes = this.hashes;
    this.hashes = this.options.keepHashes === true ? { leaves: [], nodes: [] } : undefined;
    return { ok: true, seal, note, entries, ...(hashes === undefined ? {} : { hashes }) };
  }

  private nextPartIndex(): number {
    return this.head === undefined ? 0 : this.head.seal.part.index + 1;
  }

  private resume(state: LogVerifierState): Head {
    const noteKey = this.keys.restore(state.keys);
    const { seal } = openSeal(state.note, noteKey, this.options.ed25519, this.origin);
    let tree: CompactRange;
    try {
      tree = CompactRange.fromHashes(
        seal.size,
        state.frontier.map((h) => fromBase64(h, 'frontier hash')),
      );
    } catch (cause) {
      throw new LogError('verify.state', 'the saved frontier does not fit the saved seal', { cause });
    }
    const root: Hash = tree.root();
    if (!bytesEqual(root, seal.root)) {
      throw new LogError('verify.state', 'the saved frontier does not lead to the saved seal root', {
        expected: toBase64(seal.root),
        seen: toBase64(root),
      });
    }
    return { seal, note: state.note, tree, key: noteKey };
  }

  private reject(error: unknown, part: number, entry: number): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.violation ??= new LogError('verify.entry-rejected', `entry ${entry} rejected: ${reason}`, {
      part,
      entry,
      cause: error,
    });
  }

  private fail(error: unknown, where: { part?: number; entry?: number }): void {
    if (!isLogError(error)) throw error;
    this.violation = new LogError(error.code, error.message, {
      ...(error.expected === undefined ? {} : { expected: error.expected }),
      ...(error.seen === undefined ? {} : { seen: error.seen }),
      ...where,
      cause: error,
    });
  }
}
