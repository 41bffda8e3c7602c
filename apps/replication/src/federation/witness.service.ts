import { Inject, Injectable, Logger } from '@nestjs/common';
import { escapeControls, nodeEd25519 } from '@cryptomesh/crypto';
import {
  FINDING_DETAIL_MAX_CHARS,
  encodeWitnessMessage,
  findingFingerprint,
  signFinding,
  type FederationPeer,
  type JsonValue,
} from '@cryptomesh/intermesh';
import { cosign, formatSignatureLine, parseNote, type NoteSigner } from '@cryptomesh/log';
import type { Clock, CosignatureRecord, Finding, FindingStore, StoredFinding } from '@cryptomesh/audit';
import type { WitnessRecord } from '@cryptomesh/intermesh';
import type { LineLogger } from '@cryptomesh/service';
import { FederationMetrics } from './federation.metrics';
import { FEDERATION_CLOCK, FINDING_STORE } from './federation-tokens';

export const FEDERATION_CONTEXT = Symbol('FEDERATION_CONTEXT');

/** Who this portal is in the federation, and whom it audits. */
export interface FederationContext {
  readonly portalId: string;
  readonly peers: readonly FederationPeer[];
  /** Present whenever there is a peer (the configuration requires it). */
  readonly witnessKey: NoteSigner | undefined;
  readonly quorum: number;
}

/**
 * This portal as a witness: it cosigns peers' seals and records findings, with its witness key
 * (type 0x04, held only by the replication service: DESIGN.md "The log"). Both produce a message for
 * `intermesh.witness` that the caller stores in the witness outbox in the same transaction as what
 * made it true.
 */
@Injectable()
export class WitnessService {
  private readonly logger = new Logger('witness');
  private readonly peersById: ReadonlyMap<string, FederationPeer>;

  constructor(
    @Inject(FEDERATION_CONTEXT) readonly context: FederationContext,
    @Inject(FINDING_STORE) private readonly findings: FindingStore,
    @Inject(FEDERATION_CLOCK) private readonly clock: Clock,
    private readonly metrics: FederationMetrics,
  ) {
    this.peersById = new Map(context.peers.map((p) => [p.id, p]));
  }

  peer(id: string): FederationPeer | undefined {
    return this.peersById.get(id);
  }

  /**
   * This portal's cosignature (C2SP tlog-cosignature v1) of a peer's seal that verified — the caller
   * MUST have verified it and its consistency with everything cosigned before — with its message.
   */
  cosign(peer: string, part: number, note: string): { record: CosignatureRecord; outbox: WitnessRecord } {
    const key = this.requireKey();
    const timestamp = Math.floor(this.clock.now() / 1000);
    const signature = cosign(parseNote(note).text, key, timestamp);
    const line = formatSignatureLine(signature);
    const record = {
      subject: peer,
      part,
      witness: this.context.portalId,
      seal: note,
      line,
      cosignedAt: timestamp,
    };
    const outbox = encodeWitnessMessage({
      type: 'cosignature',
      subject: peer,
      witness: this.context.portalId,
      part,
      seal: note,
      cosignature: line,
    });
    return { record, outbox };
  }

  /**
   * Stores a finding of this portal against `subject` once (by fingerprint), signed and queued for
   * `intermesh.witness`; counts and logs it when it is new, through `log` when a request found it
   * (its lines carry the request's id: the service binds no request context). Resolves true when
   * it is new.
   */
  async recordFinding(subject: string, draft: Finding, log: LineLogger = this.logger): Promise<boolean> {
    const evidence = draft.evidence as JsonValue;
    const fingerprint = findingFingerprint({
      subject,
      kind: draft.kind,
      code: draft.code,
      part: draft.part,
      evidence,
    });
    // Stored and signed: a NUL or an unpaired surrogate quoted from a peer's data would fail both.
    const detail = shorten(escapeControls(draft.detail), FINDING_DETAIL_MAX_CHARS);
    const finding: StoredFinding = {
      fingerprint,
      subject,
      reporter: this.context.portalId,
      kind: draft.kind,
      part: draft.part,
      code: draft.code,
      detail,
      evidence,
    };
    const key = this.context.witnessKey;
    const outbox =
      key === undefined
        ? undefined
        : encodeWitnessMessage(
            signFinding(
              {
                subject,
                reporter: this.context.portalId,
                id: fingerprint,
                kind: draft.kind,
                part: draft.part,
                code: draft.code,
                detail,
                evidence,
                observedAt: this.clock.now(),
              },
              key,
            ),
          );
    const created = await this.findings.recordFinding(finding, outbox);
    if (created) {
      this.metrics.findings.inc({ subject, kind: draft.kind });
      log.warn({
        msg: 'finding',
        subject,
        kind: draft.kind,
        code: draft.code,
        part: draft.part,
        detail,
      });
    }
    return created;
  }

  private requireKey(): NoteSigner {
    const key = this.context.witnessKey;
    if (key === undefined)
      throw new Error('no witness key: the federation configuration requires one with peers');
    return key;
  }
}

/** At most `max` UTF-16 units, never splitting a surrogate pair (the decoder refuses a lone one). */
function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 3;
  if (/[\uD800-\uDBFF]/.test(text.charAt(cut - 1))) cut--;
  return `${text.slice(0, cut)}...`;
}

/** The Ed25519 implementation the servers verify with (OpenSSL through node:crypto). */
export const ED25519 = nodeEd25519;
