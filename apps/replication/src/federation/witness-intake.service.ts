import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  decodeWitnessMessage,
  findingFingerprint,
  isIntermeshError,
  verifyFinding,
  type CosignatureMessage,
  type FindingMessage,
} from '@cryptomesh/intermesh';
import {
  findCosigners,
  findEquivocation,
  formatNote,
  isLogError,
  openSeal,
  parseNote,
  parseVerifierKey,
  verifyEquivocation,
  type VerifierKey,
} from '@cryptomesh/log';
import type { CosignatureStore, FindingStore, MirrorStore, OwnSealReader } from '@cryptomesh/audit';
import { FederationMetrics } from './federation.metrics';
import { COSIGNATURE_STORE, FINDING_STORE, MIRROR_STORE, OWN_SEAL_READER } from './federation-tokens';
import { ED25519, WitnessService } from './witness.service';

/** What became of one message of `intermesh.witness` (the `outcome` label of its metric). */
export type IntakeOutcome =
  'stored' | 'duplicate' | 'own' | 'malformed' | 'unknown-portal' | 'unknown-seal' | 'invalid' | 'conflict';

/**
 * What this portal takes from `intermesh.witness` (docs/design/federation.md "Cosignatures
 * received"): nothing there is trusted. A cosignature is stored only when its seal opens with the
 * subject's log key and its line verifies with the witness's configured witness key — for this
 * portal's own seals, only over the seal stored in `log_seals`. A finding is stored only when it is
 * signed by its reporter's witness key and its id is its fingerprint; an equivocation finding only
 * when its evidence proves the equivocation — and then the subject is no longer cosigned here.
 * Every write is idempotent (primary key, fingerprint), so a replayed message changes nothing.
 */
@Injectable()
export class WitnessIntakeService {
  private readonly logger = new Logger('witness-intake');

  constructor(
    private readonly witness: WitnessService,
    @Inject(MIRROR_STORE) private readonly mirror: Pick<MirrorStore, 'head' | 'sealNote'>,
    @Inject(OWN_SEAL_READER) private readonly ownSeals: OwnSealReader,
    @Inject(COSIGNATURE_STORE) private readonly cosignatures: CosignatureStore,
    @Inject(FINDING_STORE) private readonly findings: FindingStore,
    private readonly metrics: FederationMetrics,
  ) {}

  async receive(record: {
    key: string | undefined;
    type: string | undefined;
    value: Uint8Array;
  }): Promise<IntakeOutcome> {
    let message;
    try {
      message = decodeWitnessMessage(record);
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      return this.count(record.type ?? 'none', 'malformed', { code: error.code, err: error.message });
    }
    const outcome =
      message.type === 'cosignature' ? await this.cosignature(message) : await this.finding(message);
    return this.count(message.type, outcome, { subject: message.subject });
  }

  private async cosignature(message: CosignatureMessage): Promise<IntakeOutcome> {
    const { portalId } = this.witness.context;
    if (message.witness === portalId) return 'own';
    const witness = this.witness.peer(message.witness);
    if (witness === undefined) return 'unknown-portal';
    let seal: string;
    if (message.subject === portalId) {
      const stored = await this.ownSeals.ownSealNote(message.part);
      if (stored === undefined) return 'unknown-seal';
      if (!sameBody(stored, message.seal)) {
        this.logger.warn({
          msg: 'a peer cosigned a seal this portal never signed',
          witness: message.witness,
          part: message.part,
        });
        return 'conflict';
      }
      seal = stored;
    } else {
      const subject = this.witness.peer(message.subject);
      if (subject === undefined) return 'unknown-portal';
      // The subject's log keys as its mirror here followed them (a key transition: log-format.md),
      // else the configured one.
      const logKeys = (await this.mirror.head(message.subject))?.logKeys;
      const keys =
        logKeys === undefined
          ? [subject.verifierKey]
          : [logKeys.current, ...logKeys.retired].map((k) => parseVerifierKey(k));
      let key: VerifierKey | undefined;
      for (const candidate of keys) {
        try {
          const opened = openSeal(message.seal, candidate, ED25519, subject.origin);
          if (opened.seal.part.index !== message.part) return 'invalid';
          key = candidate;
          break;
        } catch (error) {
          if (!isLogError(error)) throw error;
        }
      }
      if (key === undefined) return 'invalid';
      // Kept as the subject signed it: its body and its log key's line, nothing a relay added.
      const parsed = parseNote(message.seal);
      seal = formatNote({
        text: parsed.text,
        signatures: parsed.signatures.filter((s) => s.name === key.name && s.keyId === key.keyId),
      });
    }
    let report;
    try {
      report = findCosigners(`${seal}${message.cosignature}\n`, [witness.witnessKey], ED25519);
    } catch (error) {
      if (isLogError(error)) return 'invalid';
      throw error;
    }
    const valid = report.valid[0];
    if (valid === undefined) return 'invalid';
    const stored = await this.cosignatures.storeCosignature({
      subject: message.subject,
      part: message.part,
      witness: message.witness,
      seal,
      line: message.cosignature,
      cosignedAt: valid.timestamp,
    });
    if (stored) this.metrics.cosignaturesReceived.inc({ subject: message.subject, witness: message.witness });
    // A peer's seal that differs from the one mirrored here for that part: the peer equivocated.
    if (message.subject !== portalId) {
      const mirrored = await this.mirror.sealNote(message.subject, message.part);
      if (mirrored !== undefined && !sameBody(mirrored, seal)) {
        await this.recordEquivocation(message.subject, message.part, mirrored, seal);
        return 'conflict';
      }
    }
    return stored ? 'stored' : 'duplicate';
  }

  private async finding(message: FindingMessage): Promise<IntakeOutcome> {
    const { portalId } = this.witness.context;
    if (message.reporter === portalId) return 'own';
    const reporter = this.witness.peer(message.reporter);
    if (reporter === undefined) return 'unknown-portal';
    try {
      verifyFinding(message, reporter.witnessKey, ED25519);
    } catch (error) {
      if (isIntermeshError(error)) return 'invalid';
      throw error;
    }
    const { subject, kind, code, part, evidence } = message;
    if (findingFingerprint({ subject, kind, code, part, evidence }) !== message.id) return 'invalid';
    if (kind === 'equivocation') {
      const key = subject === portalId ? undefined : this.witness.peer(subject)?.verifierKey;
      if (subject !== portalId && key === undefined) return 'unknown-portal';
      try {
        // Self-verifying: only a proof that holds is adopted. (About this portal itself: recorded as a claim.)
        if (key !== undefined) verifyEquivocation(evidence, ED25519, key);
      } catch (error) {
        if (isLogError(error)) return 'invalid';
        throw error;
      }
    }
    // Only an equivocation proves itself (two seals the subject signed, verified above). Any other
    // finding of a peer is its claim until this portal's own audit reaches the same finding (same
    // fingerprint: the same sealed data, the same violation), which marks it verified: a claim is
    // shown on /findings but counted nowhere (DESIGN.md invariant 7).
    const verified = kind === 'equivocation' && subject !== portalId;
    const created = await this.findings.recordFinding({
      verified,
      status: (await this.superseded(message)) ? 'resolved' : 'open',
      fingerprint: message.id,
      subject,
      reporter: message.reporter,
      kind,
      part,
      code,
      detail: message.detail,
      evidence,
    });
    if (created) {
      this.metrics.findings.inc({ subject, kind });
      this.logger.warn({
        msg: verified ? 'finding reported by a peer' : 'a peer claims a finding (not verified here)',
        reporter: message.reporter,
        subject,
        kind,
        code,
      });
    }
    return created ? 'stored' : 'duplicate';
  }

  /**
   * A peer's `stale` report about a seal older than one mirrored here is over already: the subject
   * sealed since (the report may also be old news, replayed or delayed by a broker outage).
   */
  private async superseded(message: FindingMessage): Promise<boolean> {
    if (message.kind !== 'stale') return false;
    const evidence = message.evidence as { timeMs?: unknown } | null;
    const reported = typeof evidence?.timeMs === 'number' ? evidence.timeMs : undefined;
    if (reported === undefined) return false;
    // About this portal itself: its own newest seal says whether it is (still) stale.
    const newest =
      message.subject === this.witness.context.portalId
        ? await this.ownSeals.ownNewestSealTime()
        : (await this.mirror.head(message.subject))?.timeMs;
    return newest !== undefined && newest > reported;
  }

  private async recordEquivocation(
    subject: string,
    part: number,
    mirrored: string,
    other: string,
  ): Promise<void> {
    const peer = this.witness.peer(subject);
    if (peer === undefined) return;
    const evidence = findEquivocation({
      logKey: peer.verifierKey,
      origin: peer.origin,
      ed25519: ED25519,
      notes: [mirrored, other],
    });
    if (evidence === undefined) return;
    await this.witness.recordFinding(subject, {
      kind: 'equivocation',
      code: 'cosignature.conflict',
      part,
      detail: `${subject} signed two different seals for part ${part}: one mirrored here, one cosigned by another witness`,
      evidence: { ...evidence },
    });
  }

  private count(type: string, outcome: IntakeOutcome, details: Record<string, unknown>): IntakeOutcome {
    this.metrics.witnessMessages.inc({ type: type.slice(0, 20), outcome });
    if (outcome !== 'stored' && outcome !== 'duplicate' && outcome !== 'own')
      this.logger.debug({ msg: 'witness message not stored', type, outcome, ...details });
    return outcome;
  }
}

function sameBody(a: string, b: string): boolean {
  try {
    return parseNote(a).text === parseNote(b).text;
  } catch {
    return false;
  }
}
