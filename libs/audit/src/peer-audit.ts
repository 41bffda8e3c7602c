import {
  LogVerifier,
  parseVerifierKey,
  type Ed25519,
  type LogError,
  type VerifierKey,
} from '@cryptomesh/log';
import { isIntermeshError, type IntermeshError } from '@cryptomesh/intermesh/intermesh-error';
import { decodeLogMessage } from '@cryptomesh/intermesh/log-message';
import { DEFAULT_PART_LIMITS, PartAssembler, type PartLimits } from '@cryptomesh/intermesh/part-assembler';
import { DEFAULT_MAX_SEAL_DELAY_MS, DEFAULT_MAX_SKEW_MS, type RecheckContext } from '@cryptomesh/mesh';
import { AccountStates } from './account-states';
import type { Clock } from './clock';
import { compareSeals, partViolation, ruleFinding } from './audit-findings';
import { recheckPart } from './part-recheck';
import { withBatchedSignatures, withDeferredSignatures, type VerifyBatch } from './signature-batches';
import type {
  AuditHead,
  AuditReads,
  AuditStep,
  AuditedPeer,
  SealComparison,
  TopicRecord,
  TransportError,
  VerifiedPart,
} from './audit-step';

const NONE = { kind: 'none' } as const;

export interface PeerAuditOptions {
  /** The clock window of a request either side of the seal that carries it (the gateway's). */
  readonly maxSkewMs?: number;
  /**
   * How much later than its request an honest log-signer may seal an entry: the window reaches
   * this much further into the past (docs/decisions.md "The auditor's clock window").
   */
  readonly maxSealDelayMs?: number;
  /** The most account states cached between parts (default 10,000); a miss reads the stored state. */
  readonly accountStateCapacity?: number;
  /** What one unsealed part of the peer may hold on the topic (PEER_PART_MAX_ENTRIES / _BYTES). */
  readonly partLimits?: PartLimits;
  /**
   * Where the entries' signatures are verified (worker threads, `withBatchedSignatures`); without
   * it, in this thread. The verdicts are the same either way.
   */
  readonly verifyBatch?: VerifyBatch;
  /**
   * With `verifyBatch`: a part from the topic whose re-check passed is answered before its
   * signatures are verified, which go on while the next part is re-checked (`VerifiedPart.signatures`).
   */
  readonly deferSignatures?: boolean;
}

/**
 * The audit of one peer's log (docs/design/federation.md "Mirror and audit"): messages of the
 * peer's topic in offset order, or parts fetched from its query service, go in; out come parts
 * that verified completely — seal, part digest, chain, consistency with the stored head, and every
 * entry re-checked against the profile rules — or findings with deterministic evidence.
 *
 * Determinism is what makes replays harmless: fed the same messages from the same stored head, it
 * produces the same findings (stored once, by fingerprint) and the same parts. After any finding
 * it forgets the part in progress and waits for the next part from the stored head (or from the
 * part being stored, which verified, its signatures perhaps still due), exactly as a restarted
 * consumer does. Nothing here writes: the caller stores a part, then calls `commit`; if the store
 * fails it calls `reset` with the stored head. Or the caller calls `advance` and goes on
 * verifying the next part on top of the one being stored, then `confirm` once it is stored (or
 * `reset` if it was not): only a part that verified completely is built on — or, with
 * `deferSignatures`, whose signatures are still being verified (`VerifiedPart.signatures`), which
 * the caller awaits before storing it — and nothing built on it is stored before it is. Not for
 * concurrent use.
 */
export class PeerAudit {
  private stored: AuditHead | undefined;
  /** The verified part being stored (`advance`, its signatures perhaps still due), built on next. */
  private storing: AuditHead | undefined;
  private assembler: PartAssembler;
  private readonly accounts: AccountStates;
  private staged: { part: VerifiedPart } | undefined;
  private readonly reads: AuditReads;

  private readonly maxSkewMs: number;
  private readonly maxSealDelayMs: number;
  private readonly partLimits: PartLimits;
  private readonly verifyBatch: VerifyBatch | undefined;
  private readonly deferSignatures: boolean;
  /** The part whose re-check waits for its signatures (`judgeInFull`), until it comes from the topic. */
  private inFull: number | undefined;

  constructor(
    readonly peer: AuditedPeer,
    head: AuditHead | undefined,
    reads: AuditReads,
    private readonly ed25519: Ed25519,
    private readonly clock: Clock,
    options: PeerAuditOptions = {},
  ) {
    this.reads = reads;
    this.maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    this.maxSealDelayMs = options.maxSealDelayMs ?? DEFAULT_MAX_SEAL_DELAY_MS;
    this.partLimits = options.partLimits ?? DEFAULT_PART_LIMITS;
    this.verifyBatch = options.verifyBatch;
    this.deferSignatures = options.deferSignatures === true;
    this.stored = head;
    this.assembler = this.assemblerAt(head);
    this.accounts = new AccountStates(reads, { origin: this.peer.origin }, options.accountStateCapacity);
  }

  /** The last stored part. */
  get head(): AuditHead | undefined {
    return this.stored;
  }

  /** The part the next one follows: the one being stored, else the last stored one. */
  private get current(): AuditHead | undefined {
    return this.storing ?? this.stored;
  }

  /**
   * The log key that signs the peer's next seal: the pinned one (federation.json) until a key
   * transition the audit verified named another (docs/design/log-format.md "Key transitions").
   */
  get logKey(): VerifierKey {
    const current = this.current?.logKeys?.current;
    return current === undefined ? this.peer.verifierKey : parseVerifierKey(current);
  }

  /** Every log key the peer has signed seals with, the current one first. */
  get knownKeys(): VerifierKey[] {
    const retired = (this.current?.logKeys?.retired ?? []).map((k) => parseVerifierKey(k));
    return [this.logKey, ...retired];
  }

  /** One message of the peer's log topic. */
  async onMessage(record: TopicRecord): Promise<AuditStep> {
    let message;
    try {
      message = decodeLogMessage(record);
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      return this.transport({
        code: error.code,
        part: null,
        detail: `undecodable message at offset ${record.offset}: ${error.message}`,
      });
    }
    const last = this.current?.part ?? -1;
    if (message.part <= last) {
      // A message of a part stored already (a publisher's duplicate, a replay after a restart, the
      // topic catching up with parts fetched from the query service, or a rewrite of history): its
      // entries are ignored, its seal must be the stored one.
      if (message.type !== 'seal') return NONE;
      // Only the last part can be the one being stored: the others are in the store.
      const stored = message.part === last ? this.current?.note : await this.reads.sealNote(message.part);
      const step = this.compareSeal(message.part, message.note, stored);
      return step.kind === 'none' ? NONE : this.reject(step);
    }
    let outcome;
    try {
      outcome = this.assembler.push(message);
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      return this.transport(this.sequenceError(error, record.offset));
    }
    if (outcome.kind !== 'part') return NONE;
    return this.verify(outcome.part.entries, outcome.part.note, this.deferSignatures);
  }

  /**
   * Part `part`, when it comes again from the topic, waits for its signatures' verdicts: after a
   * deferred part's `signatures` rejected, the caller resets to its stored head and reads the part
   * again. (A catch-up that judges the part first does not use the flag up: only the topic defers.)
   */
  judgeInFull(part: number): void {
    this.inFull = part;
  }

  /**
   * Verifies the next part (from the topic's assembler or fetched from the peer's query service).
   * On success the part is staged: the caller stores it, then calls `commit()`. With `defer` (and
   * `verifyBatch`), see PeerAuditOptions.deferSignatures.
   */
  async verify(entries: readonly Uint8Array[], note: string, defer = false): Promise<AuditStep> {
    this.accounts.discard();
    this.staged = undefined;
    const from = this.current;
    // 1. The seal first (DESIGN.md invariant 7): signature, part, size, part digest, root, chain, time.
    // Nothing about the entries is judged before a valid seal of the peer is known to cover them.
    const verifier = new LogVerifier({
      logKey: this.peer.verifierKey,
      origin: this.peer.origin,
      ed25519: this.ed25519,
      now: () => this.clock.now(),
      checkEntryEncoding: false,
      keepHashes: true,
      ...(from === undefined
        ? {}
        : {
            from: {
              note: from.note,
              frontier: from.frontier,
              ...(from.logKeys === undefined ? {} : { keys: from.logKeys }),
            },
          }),
    });
    const verdict = await verifier.verifyPart({ entries, seal: note });
    if (!verdict.ok) return this.rejectPart(verdict.violation, note);
    // 2. Every entry is now the peer's, signed for by the seal: each is re-checked against the rules,
    // freshness included, with the seal's time (DESIGN.md invariant 6). Every logged request MUST be
    // bound to this peer's origin (issue #14, hole 2): a request signed for another portal and logged
    // here is a replay, a rule finding.
    const context: RecheckContext = {
      origin: this.peer.origin,
      sealTimeMs: verdict.seal.timeMs,
      maxSkewMs: this.maxSkewMs,
      maxSealDelayMs: this.maxSealDelayMs,
    };
    const first = verdict.seal.part.first;
    const verifyBatch = this.verifyBatch;
    const run = (signatures?: RecheckContext['signatures']) =>
      recheckPart(
        this.accounts,
        entries,
        first,
        signatures === undefined ? context : { ...context, signatures },
      );
    const restart = () => this.accounts.discard();
    // Judged in full once it comes again from the topic (a catch-up's verify never defers anyway).
    const index = verdict.seal.part.index;
    const deferred = defer && this.inFull !== index;
    if (defer && this.inFull !== undefined && index >= this.inFull) this.inFull = undefined;
    const { result: checked, signatures } =
      verifyBatch === undefined
        ? { result: await run(), signatures: undefined }
        : deferred
          ? await withDeferredSignatures(verifyBatch, run, restart, (r) => r.ok)
          : { result: await withBatchedSignatures(verifyBatch, run, restart), signatures: undefined };
    if (!checked.ok) {
      const offset = checked.offset;
      return this.reject({
        kind: 'finding',
        finding: ruleFinding(
          this.peer.id,
          checked.violation,
          verdict.seal,
          note,
          first + offset,
          entries[offset]!,
          from?.note,
        ),
      });
    }
    const state = verifier.state();
    if (verdict.hashes === undefined || state === undefined) throw new Error('the verifier kept no hashes');
    const part: VerifiedPart = {
      seal: verdict.seal,
      note: verdict.note,
      entries,
      leafHashes: verdict.hashes.leaves,
      nodes: verdict.hashes.nodes,
      profiles: checked.profiles,
      frontier: state.frontier,
      ...(state.keys === undefined ? {} : { logKeys: state.keys }),
      accountStates: this.accounts.staged(),
      ...(signatures === undefined ? {} : { signatures }),
    };
    this.staged = { part };
    return { kind: 'part', part };
  }

  /** The staged part was stored: it becomes the head. Throws while a part is being stored. */
  commit(): void {
    this.advance();
    this.confirm();
  }

  /**
   * The staged part is being stored: the next part is verified on top of it. Throws when no part is
   * staged, or while another is being stored (one at a time).
   */
  advance(): void {
    const staged = this.staged;
    if (staged === undefined) throw new Error('no verified part to store');
    if (this.storing !== undefined) throw new Error(`part ${this.storing.part} is being stored already`);
    const { seal, note, frontier, logKeys } = staged.part;
    this.storing = {
      part: seal.part.index,
      first: seal.part.first,
      size: seal.size,
      timeMs: seal.timeMs,
      note,
      frontier,
      ...(logKeys === undefined ? {} : { logKeys }),
    };
    this.accounts.advance();
    this.staged = undefined;
  }

  /** The part being stored (`advance`) was stored: it becomes the head. */
  confirm(): void {
    if (this.storing === undefined) throw new Error('no part is being stored');
    this.stored = this.storing;
    this.storing = undefined;
    this.accounts.confirm();
  }

  /**
   * Starts again from a stored head (after a failed store, or when someone else moved the mirror):
   * the part in progress, the staged part and the part being stored are forgotten.
   */
  reset(head: AuditHead | undefined): void {
    if (head?.part !== this.stored?.part) this.accounts.clear();
    else this.accounts.drop();
    this.stored = head;
    this.storing = undefined;
    this.assembler = this.assemblerAt(head);
    this.staged = undefined;
  }

  /**
   * A seal note of this peer for a part whose stored seal is `stored`: undefined when they agree
   * (the same body), else an equivocation finding when both are validly signed, or a bad-part
   * finding when the new one is not a valid seal of this peer.
   */
  compareSeal(part: number, note: string, stored: string | undefined): SealComparison {
    return compareSeals(this.peer, this.logKey, this.ed25519, part, note, stored);
  }

  /**
   * A finding or a transport error: the part in progress is forgotten (see the class comment), not
   * the part being stored (the caller judges it: stored, or reset to the stored head).
   */
  private reject(step: Extract<AuditStep, { kind: 'finding' | 'transport' }>): AuditStep {
    this.assembler = this.assemblerAt(this.current);
    this.accounts.discard();
    this.staged = undefined;
    return step;
  }

  private transport(error: TransportError): AuditStep {
    return this.reject({ kind: 'transport', error });
  }

  private assemblerAt(head: AuditHead | undefined): PartAssembler {
    return new PartAssembler(
      this.peer.id,
      head === undefined
        ? undefined
        : { part: head.part, first: head.first, size: head.size, note: head.note },
      this.partLimits,
    );
  }

  /** A message out of sequence: a lost, reordered or forged message, repaired by catch-up. */
  private sequenceError(error: IntermeshError, offset: bigint): TransportError {
    return {
      code: error.code,
      part: this.assembler.position.part,
      detail: `${this.peer.id}: ${error.message} (offset ${offset})`,
    };
  }

  /** A part the verifier refused: a finding only when the peer's valid seal proves it. */
  private rejectPart(violation: LogError, note: string): AuditStep {
    const part = violation.part ?? this.assembler.position.part;
    const judged = partViolation(this.peer.id, violation, part, note, this.current?.note);
    return judged.kind === 'finding' ? this.reject(judged) : this.transport(judged.error);
  }
}
