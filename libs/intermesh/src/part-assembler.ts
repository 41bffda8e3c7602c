import { hashLeaf, type Hash } from '@cryptomesh/log';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import type { EntriesMessage, FragmentMessage, LogMessage, SealMessage } from './log-message';

/** A part as it travelled: every entry (exact bytes, in order) and the seal's note, not yet verified. */
export interface AssembledPart {
  readonly portal: string;
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly entries: readonly Uint8Array[];
  readonly note: string;
}

/** The last part a consumer stored (verified), so that an assembler resumes after it. */
export interface AssembledSeal {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly note: string;
}

export type AssemblerOutcome =
  /** Accepted; the part is not complete yet. */
  | { readonly kind: 'pending' }
  /** A replay of what was already accepted, byte for byte as far as it can be checked: ignored. */
  | { readonly kind: 'duplicate' }
  /** The part closed by this seal message is complete. */
  | { readonly kind: 'part'; readonly part: AssembledPart };

interface PendingEntry {
  readonly index: number;
  readonly bytes: Uint8Array;
  filled: number;
}

/** A part being received: `next` is the index of the next whole entry expected. */
interface Builder {
  readonly part: number;
  readonly first: number;
  next: number;
  pending: PendingEntry | undefined;
}

/**
 * What one part may hold before its seal arrives (docs/design/replication.md "Bounds"): a peer that
 * streams entries and never seals, or announces a huge fragmented entry, is cut off there instead of
 * exhausting memory. Both MUST be positive.
 */
export interface PartLimits {
  /** Entries of one unsealed part. */
  readonly maxEntries: number;
  /** Bytes of one unsealed part: entries held plus the announced length of a fragmented one. */
  readonly maxBytes: number;
}

/** Twice the publisher's default part (PART_MAX_ENTRIES 10,000) and room for its largest entries. */
export const DEFAULT_PART_LIMITS: PartLimits = { maxEntries: 20_000, maxBytes: 64 * 1024 * 1024 };

interface LastPart extends AssembledSeal {
  /** RFC 9162 leaf hashes of its entries; absent when resumed from a stored seal. */
  readonly hashes: readonly Hash[] | undefined;
}

function fail(code: IntermeshErrorCode, message: string, evidence: Record<string, unknown>): never {
  throw new IntermeshError(code, message, evidence);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Rebuilds the parts of one portal's log topic from its messages in topic order
 * (docs/design/replication.md "What a consumer checks"). It checks the SEQUENCE, not the content:
 * the parts it returns are still untrusted until the log verifier accepted them.
 *
 * - A message that repeats what was accepted (a publisher that crashed before advancing its outbox
 *   cursor sends the last part again, possibly in different chunks) returns `duplicate`: within
 *   the current part its bytes are compared with the held entries; for the last completed part with
 *   that part's leaf hashes and its seal note. A replay that differs is `assembler.conflict`.
 * - Anything that skips ahead is `assembler.gap`; anything older than the last completed part is
 *   `assembler.reorder`; a seal whose range disagrees with the entries received is
 *   `assembler.incomplete`; another portal's message is `assembler.portal`. Each error carries
 *   the expected and the received values as evidence, and leaves the assembler's state unchanged
 *   (but for a replay in progress, which is forgotten), so the consumer may record a finding and
 *   stop, or skip the message.
 *
 * Memory: the current part's entries, at most `limits` ('assembler.too-large' beyond, which drops
 * them), and 32 bytes per entry of the last completed part; nothing of older parts. Not for concurrent use: one consumer feeds it.
 */
export class PartAssembler {
  private nextPart: number;
  private nextEntry: number;
  private last: LastPart | undefined;
  /** The part `nextPart` while its entries arrive; `bytes`: the sum of `entries`' lengths. */
  private current: (Builder & { entries: Uint8Array[]; bytes: number }) | undefined;
  /** A replay of `last` while its entries arrive again. */
  private replay: Builder | undefined;

  /** `after`: the last part already stored (undefined for a log read from its beginning). */
  constructor(
    private readonly portal: string,
    after?: AssembledSeal,
    private readonly limits: PartLimits = DEFAULT_PART_LIMITS,
  ) {
    this.nextPart = after ? after.part + 1 : 0;
    this.nextEntry = after ? after.size : 0;
    this.last = after ? { ...after, hashes: undefined } : undefined;
  }

  /** The next part index and the entry index it must start at. */
  get position(): { readonly part: number; readonly first: number } {
    return { part: this.nextPart, first: this.nextEntry };
  }

  push(message: LogMessage): AssemblerOutcome {
    if (message.portal !== this.portal) {
      fail('assembler.portal', `a message of portal ${message.portal} on the log of ${this.portal}`, {
        expected: this.portal,
        seen: message.portal,
      });
    }
    if (message.part === this.nextPart) {
      return message.type === 'seal' ? this.closeCurrent(message) : this.addCurrent(message);
    }
    if (this.last !== undefined && message.part === this.last.part) {
      return message.type === 'seal'
        ? this.closeReplay(this.last, message)
        : this.addReplay(this.last, message);
    }
    const evidence = { expectedPart: this.nextPart, seenPart: message.part, type: message.type };
    if (message.part > this.nextPart)
      fail('assembler.gap', `part ${message.part} while part ${this.nextPart} is due`, evidence);
    fail('assembler.reorder', `part ${message.part} after part ${this.nextPart - 1} was complete`, evidence);
  }

  private addCurrent(message: EntriesMessage | FragmentMessage): AssemblerOutcome {
    const current = this.current ?? {
      part: this.nextPart,
      first: this.nextEntry,
      next: this.nextEntry,
      pending: undefined,
      entries: [],
      bytes: 0,
    };
    const filledBefore = current.pending?.filled ?? 0;
    const held = (index: number): Uint8Array => current.entries[index - current.first]!;
    const added =
      message.type === 'entries'
        ? receiveEntries(current, message, held)
        : receiveFragment(current, message, held);
    this.checkLimits(current, added);
    for (const entry of added) {
      current.entries.push(entry);
      current.bytes += entry.length;
    }
    current.next += added.length;
    this.current = current;
    this.replay = undefined; // the next part has begun: a replay of the last one is over
    const progressed = added.length > 0 || (current.pending?.filled ?? 0) > filledBefore;
    return progressed ? { kind: 'pending' } : { kind: 'duplicate' };
  }

  /**
   * 'assembler.too-large' when `added` (and a fragmented entry in progress) would take the unsealed
   * part past its limits. The part received so far is dropped, freeing its memory: its later
   * messages are then gaps, each refused at the cost of one message, until a new part begins.
   */
  private checkLimits(current: Builder & { entries: Uint8Array[]; bytes: number }, added: Uint8Array[]) {
    const entries = current.entries.length + added.length + (current.pending === undefined ? 0 : 1);
    const bytes =
      current.bytes +
      added.reduce((sum, entry) => sum + entry.length, 0) +
      (current.pending?.bytes.length ?? 0);
    if (entries <= this.limits.maxEntries && bytes <= this.limits.maxBytes) return;
    this.current = undefined;
    fail(
      'assembler.too-large',
      `part ${current.part} holds ${entries} entries and ${bytes} bytes before its seal, above the limits of ${this.limits.maxEntries} entries and ${this.limits.maxBytes} bytes`,
      {
        part: current.part,
        entries,
        bytes,
        maxEntries: this.limits.maxEntries,
        maxBytes: this.limits.maxBytes,
      },
    );
  }

  private closeCurrent(seal: SealMessage): AssemblerOutcome {
    const current = this.current;
    const received = current?.next ?? this.nextEntry;
    const evidence = {
      part: seal.part,
      expectedFirst: this.nextEntry,
      seenFirst: seal.first,
      size: seal.size,
      received,
    };
    if (seal.first !== this.nextEntry) {
      fail(
        seal.first > this.nextEntry ? 'assembler.gap' : 'assembler.conflict',
        `seal of part ${seal.part} starts at ${seal.first}, not ${this.nextEntry}`,
        evidence,
      );
    }
    if (seal.size !== received || current?.pending !== undefined) {
      fail(
        'assembler.incomplete',
        `seal of part ${seal.part} covers [${seal.first}, ${seal.size}) but entries up to ${received} arrived`,
        evidence,
      );
    }
    const entries = current?.entries ?? [];
    this.last = {
      part: seal.part,
      first: seal.first,
      size: seal.size,
      note: seal.note,
      hashes: entries.map((e) => hashLeaf(e)),
    };
    this.nextPart = seal.part + 1;
    this.nextEntry = seal.size;
    this.current = undefined;
    this.replay = undefined;
    return {
      kind: 'part',
      part: {
        portal: this.portal,
        part: seal.part,
        first: seal.first,
        size: seal.size,
        entries,
        note: seal.note,
      },
    };
  }

  private addReplay(last: LastPart, message: EntriesMessage | FragmentMessage): AssemblerOutcome {
    if (this.current !== undefined) {
      fail('assembler.reorder', `part ${message.part} again after part ${this.nextPart} began`, {
        expectedPart: this.nextPart,
        seenPart: message.part,
      });
    }
    const replay = this.replay ?? {
      part: last.part,
      first: last.first,
      next: last.first,
      pending: undefined,
    };
    const limit = message.type === 'entries' ? message.first + message.entries.length : message.index + 1;
    if (limit > last.size) {
      fail(
        'assembler.conflict',
        `a replay of part ${last.part} reaches entry ${limit - 1}, beyond its size ${last.size}`,
        { part: last.part, size: last.size, seen: limit },
      );
    }
    const check = (index: number, entry: Uint8Array): void => {
      const hash = last.hashes?.[index - last.first];
      if (hash !== undefined && !equalBytes(hash, hashLeaf(entry))) {
        fail('assembler.conflict', `a replay of part ${last.part} differs at entry ${index}`, {
          part: last.part,
          index,
        });
      }
    };
    try {
      const added =
        message.type === 'entries'
          ? receiveEntries(replay, message, undefined, check)
          : receiveFragment(replay, message, undefined);
      added.forEach((entry, i) => check(replay.next + i, entry));
      replay.next += added.length;
      this.replay = replay;
    } catch (error) {
      this.replay = undefined; // a replay that failed is forgotten; the accepted part stands
      throw error;
    }
    return { kind: 'duplicate' };
  }

  private closeReplay(last: LastPart, seal: SealMessage): AssemblerOutcome {
    if (this.current !== undefined) {
      fail('assembler.reorder', `seal of part ${seal.part} again after part ${this.nextPart} began`, {
        expectedPart: this.nextPart,
        seenPart: seal.part,
      });
    }
    if (seal.first !== last.first || seal.size !== last.size || seal.note !== last.note) {
      // Possibly equivocation: the consumer verifies the second note before calling it that.
      fail('assembler.conflict', `part ${seal.part} was sealed again with a different seal`, {
        part: seal.part,
        accepted: { ...last, hashes: undefined },
        seen: seal,
      });
    }
    this.replay = undefined;
    return { kind: 'duplicate' };
  }
}

/**
 * Applies an `entries` message to `b`: entries below `b.next` are duplicates (compared with
 * `held` or `check`), entries from `b.next` on are new and returned. A gap throws. A whole entry
 * that covers a pending fragmented one must start with the bytes received so far.
 */
function receiveEntries(
  b: Builder,
  m: EntriesMessage,
  held: ((index: number) => Uint8Array) | undefined,
  check?: (index: number, entry: Uint8Array) => void,
): Uint8Array[] {
  const evidence = { part: m.part, expectedIndex: b.next, seenFirst: m.first, count: m.entries.length };
  if (m.first > b.next)
    fail('assembler.gap', `entries from ${m.first} while entry ${b.next} is due`, evidence);
  if (m.first < b.first)
    fail('assembler.conflict', `entries from ${m.first} before the part's first entry ${b.first}`, evidence);
  const added: Uint8Array[] = [];
  m.entries.forEach((entry, i) => {
    const index = m.first + i;
    if (index < b.next) {
      if (held && !equalBytes(held(index), entry))
        fail('assembler.conflict', `entry ${index} of part ${m.part} arrived twice with different bytes`, {
          part: m.part,
          index,
        });
      check?.(index, entry);
    } else {
      added.push(entry);
    }
  });
  if (added.length > 0 && b.pending !== undefined) {
    const p = b.pending;
    if (
      !equalBytes(added[0]!.subarray(0, p.filled), p.bytes.subarray(0, p.filled)) ||
      added[0]!.length !== p.bytes.length
    ) {
      fail(
        'assembler.conflict',
        `entry ${p.index} of part ${m.part} arrived whole with other bytes than its fragments`,
        { part: m.part, index: p.index },
      );
    }
    b.pending = undefined;
  }
  return added;
}

/** Applies a `fragment` message to `b`; returns the entry it completed, if any. */
function receiveFragment(
  b: Builder,
  m: FragmentMessage,
  held: ((index: number) => Uint8Array) | undefined,
): Uint8Array[] {
  const evidence = { part: m.part, expectedIndex: b.next, seenIndex: m.index, offset: m.offset };
  if (m.index > b.next)
    fail('assembler.gap', `a fragment of entry ${m.index} while entry ${b.next} is due`, evidence);
  if (m.index < b.first)
    fail(
      'assembler.conflict',
      `a fragment of entry ${m.index} before the part's first entry ${b.first}`,
      evidence,
    );
  if (m.index < b.next) {
    if (held) {
      const whole = held(m.index);
      if (
        whole.length !== m.length ||
        !equalBytes(whole.subarray(m.offset, m.offset + m.data.length), m.data)
      ) {
        fail(
          'assembler.conflict',
          `a fragment of entry ${m.index} differs from the entry received`,
          evidence,
        );
      }
    }
    // In a replay (no `held`), a fragment of an entry already replayed cannot be checked on its own.
    return [];
  }
  const p = b.pending ?? { index: m.index, bytes: new Uint8Array(m.length), filled: 0 };
  if (p.bytes.length !== m.length)
    fail(
      'assembler.conflict',
      `entry ${m.index} announced with lengths ${p.bytes.length} and ${m.length}`,
      evidence,
    );
  if (m.offset > p.filled)
    fail('assembler.gap', `a fragment of entry ${m.index} at ${m.offset} while byte ${p.filled} is due`, {
      ...evidence,
      expectedOffset: p.filled,
    });
  const overlap = Math.min(p.filled - m.offset, m.data.length);
  if (!equalBytes(p.bytes.subarray(m.offset, m.offset + overlap), m.data.subarray(0, overlap))) {
    fail('assembler.conflict', `fragments of entry ${m.index} disagree`, evidence);
  }
  if (m.offset + m.data.length > p.filled) {
    p.bytes.set(m.data.subarray(overlap), p.filled);
    p.filled = m.offset + m.data.length;
  }
  if (p.filled === p.bytes.length) {
    b.pending = undefined;
    return [p.bytes];
  }
  b.pending = p;
  return [];
}
