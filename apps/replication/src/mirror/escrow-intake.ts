import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import {
  decodeEscrowMessage,
  escrowDigestStatement,
  escrowStatement,
  isIntermeshError,
  verifyEscrowMessage,
  type FederationPeer,
} from '@cryptomesh/intermesh';
import { toBase64 } from '@cryptomesh/log';
import type { MirrorEscrowOutcome } from '@cryptomesh/persistence';
import type { Clock } from '@cryptomesh/audit';
import { LogGate, MetricsService } from '@cryptomesh/service';
import { FEDERATION_CLOCK } from '../federation/federation-tokens';
import { ED25519, WitnessService } from '../federation/witness.service';

export const ESCROW_INTAKE_OPTIONS = Symbol('ESCROW_INTAKE_OPTIONS');
export const MIRROR_ESCROW_STORE = Symbol('MIRROR_ESCROW_STORE');

export interface EscrowIntakeOptions {
  /** MIRROR_ESCROW_MAX_BYTES: the largest blob kept. */
  readonly maxBlobBytes: number;
  /** MIRROR_ESCROW_MAX_PER_PEER: the most blobs one peer may have stored here. */
  readonly maxPerPeer: number;
  /** MIRROR_ESCROW_MAX_BYTES_PER_PEER: the most bytes of blobs one peer may have stored here. */
  readonly maxBytesPerPeer: number;
}

/** `mirror_escrow_blobs` as the intake uses it (TypeOrmMirrorEscrowStore). */
export interface MirrorEscrowStore {
  usage(peer: string): Promise<{ count: number; bytes: number }>;
  store(
    peer: string,
    key: string,
    blob: Uint8Array,
    digest: Uint8Array,
    signature: Uint8Array,
  ): Promise<MirrorEscrowOutcome>;
}

/** A refusal of one peer is logged at warn once a minute per peer and reason, with a count. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * The intake of the escrow messages on the peers' log topics (issue #19 item 2;
 * docs/design/replication.md "Escrow blobs"). Each message is decoded and verified against this
 * portal's own configuration — the origin is the topic's portal, its witness key signed the
 * statement, the blob is a JWE whose single `kid` is the key, within MIRROR_ESCROW_MAX_BYTES — then
 * bounded per peer (MIRROR_ESCROW_MAX_PER_PEER, _BYTES_PER_PEER) and stored, first copy wins. A
 * refusal stores nothing and is counted and logged, never a finding (nothing the origin signed, or
 * a full quota, which proves no misbehaviour). The one finding: a key already held with other
 * bytes, under a valid signature of the topic's portal — `escrow-conflict` against that portal,
 * with both signed statements as its evidence; the held copy stays.
 */
@Injectable()
export class EscrowIntake {
  private readonly logger = new Logger('escrow-intake');
  private readonly messages: Counter<'peer' | 'outcome'>;
  private readonly refusals: LogGate;

  constructor(
    @Inject(ESCROW_INTAKE_OPTIONS) private readonly options: EscrowIntakeOptions,
    @Inject(MIRROR_ESCROW_STORE) private readonly store: MirrorEscrowStore,
    @Inject(FEDERATION_CLOCK) clock: Clock,
    private readonly witness: WitnessService,
    metrics: MetricsService,
  ) {
    this.refusals = new LogGate(REFUSAL_LOG_INTERVAL_MS, () => clock.now());
    this.messages = metrics.counter(
      'intermesh_mirror_escrow_messages_total',
      "Escrow messages read from peers' log topics, by what became of them (stored, same, conflict, or the refusal code)",
      ['peer', 'outcome'],
    );
  }

  /** Handles one escrow message of `peer`'s topic. Rejects only on a transient (database) failure. */
  async receive(peer: FederationPeer, record: { key?: string; value: Uint8Array }): Promise<void> {
    let message;
    let digest: Uint8Array;
    try {
      message = decodeEscrowMessage(record);
      digest = verifyEscrowMessage(
        message,
        { topicPortal: peer.id, witnessKey: peer.witnessKey, maxBlobBytes: this.options.maxBlobBytes },
        ED25519,
      );
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      this.refuse(peer, error.code, error.message);
      return;
    }
    const usage = await this.store.usage(peer.id);
    if (
      usage.count + 1 > this.options.maxPerPeer ||
      usage.bytes + message.blob.length > this.options.maxBytesPerPeer
    ) {
      this.refuse(
        peer,
        'escrow.quota',
        `${peer.id} has stored ${usage.count} escrow blobs (${usage.bytes} bytes) here; the limits are ${this.options.maxPerPeer} and ${this.options.maxBytesPerPeer} bytes`,
      );
      return;
    }
    const outcome = await this.store.store(peer.id, message.key, message.blob, digest, message.signature);
    this.messages.inc({ peer: peer.id, outcome: outcome.kind });
    if (outcome.kind !== 'conflict') return;
    await this.witness.recordFinding(peer.id, {
      kind: 'escrow-conflict',
      code: 'escrow.conflict',
      part: null,
      detail: `${peer.id} signed an escrow blob for ${message.key} that is not the one ${outcome.peer} signed and this portal holds; the held copy stays`,
      evidence: {
        key: message.key,
        held: {
          portal: outcome.peer,
          statement: new TextDecoder().decode(
            escrowDigestStatement(outcome.peer, message.key, outcome.digest),
          ),
          signature: toBase64(outcome.signature),
        },
        received: {
          portal: message.portal,
          statement: new TextDecoder().decode(escrowStatement(message.portal, message.key, message.blob)),
          signature: toBase64(message.signature),
        },
      },
    });
  }

  private refuse(peer: FederationPeer, code: string, detail: string): void {
    this.messages.inc({ peer: peer.id, outcome: code.slice(0, 40) });
    const held = this.refusals.pass(`${peer.id}:${code}`);
    if (held === undefined) return;
    this.logger.warn({
      msg: 'escrow message refused: nothing stored',
      peer: peer.id,
      code,
      detail,
      ...(held > 0 ? { repeatedSinceLastLog: held } : {}),
    });
  }
}
