import {
  CompactRange,
  LogVerifier,
  findEquivocation,
  fromBase64,
  isLogError,
  parseNote,
  toBase64,
  type Ed25519,
  type Hash,
  type LogError,
  type Seal,
  type StoredNode,
  type VerifierKey,
} from '@cryptomesh/log';
import {
  decodeLogMessage,
  isIntermeshError,
  PartAssembler,
  type IntermeshError,
} from '@cryptomesh/intermesh';
import { decodeRecord, isMeshError, recheckRecord, type TransactionRecord } from '@cryptomesh/mesh';
import type { EntryProfiles, StoredMirrorHead } from '@cryptomesh/persistence';
import { recordProfiles } from '../../../log-signer/src/profile-index';
import { AccountStates } from './account-states';

/** A configured peer, as the auditor needs it. */
export interface AuditedPeer {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: VerifierKey;
}

/** What the auditor reads of the mirror (the adapter is `TypeOrmMirrorStore`). */
export interface AuditReads {
  /** The stored seal note of mirrored part `part` of this peer, if stored. MUST read committed data. */
  sealNote(part: number): Promise<string | undefined>;
  /** Every mirrored entry of `account` of this peer, in log order. */
  accountEntries(account: string): Promise<readonly Uint8Array[]>;
}

export type FindingKind = 'equivocation' | 'bad-part' | 'gap' | 'stale' | 'rule';

/** A finding before it is fingerprinted, signed and stored. `evidence` is deterministic JSON. */
export interface FindingDraft {
  readonly kind: FindingKind;
  readonly code: string;
  readonly part: number | null;
  readonly detail: string;
  readonly evidence: Record<string, unknown>;
}

/** A part that verified completely: what the mirror tables and the cosignature need. */
export interface VerifiedPart {
  readonly seal: Seal;
  readonly note: string;
  readonly entries: readonly Uint8Array[];
  readonly leafHashes: readonly Hash[];
  readonly nodes: readonly StoredNode[];
  readonly profiles: ReadonlyArray<EntryProfiles | undefined>;
  readonly frontier: readonly string[];
}

export type AuditStep =
  /** Nothing to store: an entry of a part still arriving, a replay, a message of a stored part. */
  | { readonly kind: 'none' }
  | { readonly kind: 'part'; readonly part: VerifiedPart }
  | { readonly kind: 'finding'; readonly finding: FindingDraft };

/** A raw record of a log topic. */
export interface TopicRecord {
  readonly key: string | undefined;
  readonly type: string | undefined;
  readonly value: Uint8Array;
  readonly offset: bigint;
}

const NONE: AuditStep = { kind: 'none' };

/**
 * The audit of one peer's log (docs/design/federation.md "Mirror and audit"): messages of the
 * peer's topic in offset order, or parts fetched from its query service, go in; out come parts
 * that verified completely — seal, part digest, chain, consistency with the stored head, and every
 * entry re-checked against the profile rules — or findings with deterministic evidence.
 *
 * Determinism is what makes replays harmless: fed the same messages from the same stored head, it
 * produces the same findings (stored once, by fingerprint) and the same parts. After any finding
 * it forgets the part in progress and waits for the next part from the stored head, exactly as a
 * restarted consumer does. Nothing here writes: the caller stores a part, then calls `commit`; if
 * the store fails it calls `reset` with the stored head. Not for concurrent use.
 */
export class PeerAudit {
  private stored: StoredMirrorHead | undefined;
  private assembler: PartAssembler;
  private readonly accounts: AccountStates;
  private staged: { part: VerifiedPart } | undefined;
  /** What each entry of the part under verification does to the profile index, in order. */
  private entryProfiles: EntryProfiles[] = [];

  constructor(
    readonly peer: AuditedPeer,
    head: StoredMirrorHead | undefined,
    private readonly reads: AuditReads,
    private readonly ed25519: Ed25519,
    private readonly now: () => number,
  ) {
    this.stored = head;
    this.assembler = this.assemblerAt(head);
    this.accounts = new AccountStates((account) => reads.accountEntries(account), {
      origin: this.peer.origin,
    });
  }

  /** The last stored part. */
  get head(): StoredMirrorHead | undefined {
    return this.stored;
  }

  /** One message of the peer's log topic. */
  async onMessage(record: TopicRecord): Promise<AuditStep> {
    let message;
    try {
      message = decodeLogMessage(record);
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      return this.reject({
        kind: 'bad-part',
        code: error.code,
        part: null,
        detail: `undecodable message at offset ${record.offset}: ${error.message}`,
        evidence: { offset: record.offset.toString(), ...error.evidence },
      });
    }
    const last = this.stored?.part ?? -1;
    if (message.part <= last) {
      // A message of a part stored already (a publisher's duplicate, a replay after a restart, the
      // topic catching up with parts fetched from the query service, or a rewrite of history): its
      // entries are ignored, its seal must be the stored one.
      if (message.type !== 'seal') return NONE;
      const stored = message.part === last ? this.stored?.note : await this.reads.sealNote(message.part);
      const finding = this.compareSeal(message.part, message.note, stored);
      return finding === undefined ? NONE : this.reject(finding);
    }
    let outcome;
    try {
      outcome = this.assembler.push(message);
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      return this.reject(this.sequenceFinding(error, record.offset));
    }
    if (outcome.kind !== 'part') return NONE;
    return this.verify(outcome.part.entries, outcome.part.note);
  }

  /**
   * Verifies the next part (from the topic's assembler or fetched from the peer's query service).
   * On success the part is staged: the caller stores it, then calls `commit()`.
   */
  async verify(entries: readonly Uint8Array[], note: string): Promise<AuditStep> {
    this.accounts.discard();
    this.entryProfiles = [];
    const verifier = new LogVerifier({
      logKey: this.peer.verifierKey,
      origin: this.peer.origin,
      ed25519: this.ed25519,
      now: this.now,
      ...(this.stored === undefined
        ? {}
        : { from: { note: this.stored.note, frontier: this.stored.frontier } }),
      onEntry: (entry) => this.recheck(entry),
    });
    const verdict = await verifier.verifyPart({ entries, seal: note });
    if (!verdict.ok) return this.reject(this.partFinding(verdict.violation, note, entries));
    const part = this.build(verdict.seal, verdict.note, entries);
    this.staged = { part };
    return { kind: 'part', part };
  }

  /** The staged part was stored: it becomes the head. */
  commit(): void {
    const staged = this.staged;
    if (staged === undefined) throw new Error('no verified part to commit');
    const { seal, note, frontier } = staged.part;
    this.stored = {
      part: seal.part.index,
      first: seal.part.first,
      size: seal.size,
      timeMs: seal.timeMs,
      note,
      frontier,
    };
    this.accounts.commit();
    this.staged = undefined;
  }

  /**
   * Starts again from a stored head (after a failed store, or when someone else moved the mirror):
   * the part in progress and the staged part are forgotten.
   */
  reset(head: StoredMirrorHead | undefined): void {
    if (head?.part !== this.stored?.part) this.accounts.clear();
    this.stored = head;
    this.assembler = this.assemblerAt(head);
    this.accounts.discard();
    this.staged = undefined;
  }

  /**
   * A seal note of this peer for a part whose stored seal is `stored`: undefined when they agree
   * (the same body), else an equivocation finding when both are validly signed, or a bad-part
   * finding when the new one is not a valid seal of this peer.
   */
  compareSeal(part: number, note: string, stored: string | undefined): FindingDraft | undefined {
    if (stored === undefined || note === stored) return undefined;
    try {
      if (parseNote(note).text === parseNote(stored).text) return undefined;
    } catch {
      // A malformed note: reported below by findEquivocation's own check.
    }
    try {
      const evidence = findEquivocation({
        logKey: this.peer.verifierKey,
        origin: this.peer.origin,
        ed25519: this.ed25519,
        notes: [stored, note],
      });
      if (evidence === undefined) return undefined;
      return {
        kind: 'equivocation',
        code: 'seal.conflict',
        part,
        detail: `${this.peer.id} signed two different seals for part ${part}`,
        evidence: { ...evidence },
      };
    } catch (error) {
      if (!isLogError(error)) throw error;
      return {
        kind: 'bad-part',
        code: error.code,
        part,
        detail: `a seal for part ${part} that is not a valid seal of ${this.peer.id}: ${error.message}`,
        evidence: { note },
      };
    }
  }

  private async recheck(entry: Uint8Array): Promise<void> {
    let record: TransactionRecord;
    try {
      record = decodeRecord(entry);
    } catch (error) {
      if (isMeshError(error)) throw new RuleViolation(error.code, error.message);
      throw error;
    }
    // Every logged request MUST be bound to this peer's origin (issue #14, hole 2): a request signed
    // for another portal and logged here is a replay, a rule finding.
    const result = await recheckRecord(await this.accounts.get(record.account), record, {
      origin: this.peer.origin,
    });
    if (!result.ok) throw new RuleViolation(result.code, result.detail);
    this.accounts.stage(record.account, result.state);
    this.entryProfiles.push(recordProfiles(record));
  }

  /** The profile changes collected while re-checking `entries` (each entry was re-checked, in order). */
  private profilesOf(entries: readonly Uint8Array[]): EntryProfiles[] {
    if (this.entryProfiles.length !== entries.length)
      throw new Error(`${this.entryProfiles.length} entries re-checked in a part of ${entries.length}`);
    return this.entryProfiles;
  }

  private build(seal: Seal, note: string, entries: readonly Uint8Array[]): VerifiedPart {
    const tree =
      this.stored === undefined
        ? CompactRange.empty()
        : CompactRange.fromHashes(
            this.stored.size,
            this.stored.frontier.map((h) => fromBase64(h, 'frontier hash')),
          );
    const nodes: StoredNode[] = [];
    const leafHashes = entries.map((entry) =>
      tree.appendEntry(entry, (node) => {
        if (node.level > 0) nodes.push(node);
      }),
    );
    return {
      seal,
      note,
      entries,
      leafHashes,
      nodes,
      profiles: this.profilesOf(entries),
      frontier: tree.hashes().map(toBase64),
    };
  }

  private reject(finding: FindingDraft): AuditStep {
    this.reset(this.stored);
    return { kind: 'finding', finding };
  }

  private assemblerAt(head: StoredMirrorHead | undefined): PartAssembler {
    return new PartAssembler(
      this.peer.id,
      head === undefined
        ? undefined
        : { part: head.part, first: head.first, size: head.size, note: head.note },
    );
  }

  private sequenceFinding(error: IntermeshError, offset: bigint): FindingDraft {
    const expected = this.assembler.position.part;
    if (error.code === 'assembler.gap' || error.code === 'assembler.reorder') {
      // Keyed by the part expected only: every message of a skipped stretch is the same finding.
      return {
        kind: 'gap',
        code: error.code,
        part: expected,
        detail: `${this.peer.id}: ${error.message}`,
        evidence: { expectedPart: expected },
      };
    }
    return {
      kind: 'bad-part',
      code: error.code,
      part: expected,
      detail: `${this.peer.id}: ${error.message} (offset ${offset})`,
      evidence: { offset: offset.toString(), ...error.evidence },
    };
  }

  private partFinding(violation: LogError, note: string, entries: readonly Uint8Array[]): FindingDraft {
    const part = violation.part ?? this.assembler.position.part;
    const base = {
      code: violation.code,
      ...(violation.expected === undefined ? {} : { expected: violation.expected }),
      ...(violation.seen === undefined ? {} : { seen: violation.seen }),
      ...(this.stored === undefined ? {} : { previousSeal: this.stored.note }),
      seal: note,
    };
    if (violation.code === 'verify.entry-rejected') {
      const cause = violation.cause;
      const index = violation.entry ?? -1;
      const entry = entries[index - (this.stored?.size ?? 0)];
      return {
        kind: 'rule',
        code: cause instanceof RuleViolation ? cause.code : violation.code,
        part,
        detail: `${this.peer.id}: ${violation.message}`,
        evidence: { ...base, index, ...(entry === undefined ? {} : { entry: toBase64(entry) }) },
      };
    }
    return {
      kind: 'bad-part',
      code: violation.code,
      part,
      detail: `${this.peer.id}: part ${part} fails verification: ${violation.message}`,
      evidence: { ...base, ...(violation.entry === undefined ? {} : { index: violation.entry }) },
    };
  }
}

/** An entry that breaks the profile rules or the persistence model (a `rule` finding). */
class RuleViolation extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
