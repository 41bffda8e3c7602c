import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import {
  decodeInboundMessage,
  isIntermeshError,
  verifyInboundMessage,
  type FederationPeer,
  type InboundMessage,
} from '@cryptomesh/intermesh';
import {
  proofOfWorkShows,
  decodeAuditedAccount,
  envelopeWorkBody,
  isMeshError,
  parseEnvelopeText,
  readEnvelope,
  verifyEnvelope,
  type InboundEnvelope,
} from '@cryptomesh/mesh';
import type { InboundAdmission, InboundItem, InboundLimits } from '@cryptomesh/persistence';
import type { Clock, MirrorStore } from '@cryptomesh/audit';
import { LogGate, MetricsService } from '@cryptomesh/service';
import { FEDERATION_CLOCK, MIRROR_STORE } from '../federation/federation-tokens';
import { ED25519 } from '../federation/witness.service';

export const INBOUND_INTAKE_OPTIONS = Symbol('INBOUND_INTAKE_OPTIONS');
export const INBOUND_DELIVERY = Symbol('INBOUND_DELIVERY');

export interface InboundIntakeOptions {
  /** INBOUND_CONTACT_POW_LEVEL: the proof of work a stranger's contact request shows (0–4). */
  readonly contactPowLevel: number;
  /** INBOUND_MAX_ENVELOPE_BYTES: the largest envelope taken. */
  readonly maxEnvelopeBytes: number;
  /**
   * For `admitInbound`: INBOUND_CONTACT_REQUESTS_PER_HOUR, _PER_ORIGIN_PER_HOUR,
   * INBOUND_SPOOL_MAX_PER_ACCOUNT, INBOUND_STRANGER_MAX_PER_ACCOUNT, INBOUND_MAX_AGE_MS and
   * CLOCK_SKEW_MS (its `now` is the intake's clock).
   */
  readonly limits: Omit<InboundLimits, 'now'>;
}

/** This portal's accounts and spool, as the intake uses them (TypeOrmInboundDelivery). */
export interface InboundDelivery {
  /** Whether `account` (a UDF) is an account of this portal with status `active`. */
  isActiveRecipient(account: string): Promise<boolean>;
  /**
   * `admitInbound` in ONE transaction: access control from the recipient's contact catalog, the
   * hourly contact-request limit, the spool quota, and the idempotent insert keyed (recipient, Id).
   */
  admit(item: InboundItem, limits: InboundLimits): Promise<InboundAdmission>;
}

/** A refusal of one peer is logged at warn once a minute per peer and code, with a count. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A refusal: its code (the metric's outcome) and what a human needs to see why. */
class Refusal extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'Refusal';
  }
}

/**
 * The intake of the inbound messages on the peers' log topics (issue #20; docs/design/inbound.md
 * "Across the federation: the relay", docs/design/replication.md "Inbound items"). A message is kept
 * only when its `to` is an active account of this portal, and only after these checks, in order,
 * against this portal's own configuration and verified mirror — never against the message:
 *
 * 1. the form (`decodeInboundMessage`); 2. the origin is the topic's portal; 3. the origin's witness
 * key signed it; 4. the envelope is at most INBOUND_MAX_ENVELOPE_BYTES; 5. the envelope reads
 * (`readEnvelope`) and 6. is for `to`; 7. the sender's account is in the verified mirror of the
 * ORIGIN's log (its home), active, with the Master Profile `FromMaster`; 8. the envelope's signature
 * is by a device of that account's current Personal Profile (`verifyEnvelope`); 9. the proof of
 * work, at INBOUND_CONTACT_POW_LEVEL, is evaluated; 10. `admitInbound`: `Created` within
 * INBOUND_MAX_AGE_MS back and CLOCK_SKEW_MS ahead, `ToMaster` the recipient's, access control,
 * limits, the spool.
 *
 * A refusal stores nothing and is counted (`intermesh_inbound_messages_total{peer,outcome}`) and
 * logged at most once a minute per peer and code; it is never a finding — a relayed envelope proves
 * no misbehaviour of the relaying portal that a peer could show another (the sender signed it, and
 * the portal cannot check all an honest relay would need to: a Personal Profile may have changed
 * since). A replay (the consumer re-reads after a restart) is a duplicate of the spool's key.
 */
@Injectable()
export class InboundIntake {
  private readonly logger = new Logger('inbound-intake');
  private readonly messages: Counter<'peer' | 'outcome'>;
  private readonly refusals: LogGate;

  constructor(
    @Inject(INBOUND_INTAKE_OPTIONS) private readonly options: InboundIntakeOptions,
    @Inject(INBOUND_DELIVERY) private readonly delivery: InboundDelivery,
    @Inject(MIRROR_STORE) private readonly mirror: Pick<MirrorStore, 'accountState'>,
    @Inject(FEDERATION_CLOCK) private readonly clock: Clock,
    metrics: MetricsService,
  ) {
    this.refusals = new LogGate(REFUSAL_LOG_INTERVAL_MS, () => clock.now());
    this.messages = metrics.counter(
      'intermesh_inbound_messages_total',
      "Inbound messages read from peers' log topics, by what became of them (delivered, replay: held already, elsewhere: for no account here, or the refusal code)",
      ['peer', 'outcome'],
    );
  }

  /** Handles one inbound message of `peer`'s topic. Rejects only on a transient (database) failure. */
  async receive(peer: FederationPeer, record: { key?: string; value: Uint8Array }): Promise<void> {
    let message: InboundMessage;
    try {
      message = decodeInboundMessage(record);
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      this.refuse(peer, error.code, error.message);
      return;
    }
    // Every member reads every member's topic: most messages are for another portal's accounts.
    if (!(await this.delivery.isActiveRecipient(message.to))) {
      this.messages.inc({ peer: peer.id, outcome: 'elsewhere' });
      return;
    }
    let item: InboundItem;
    try {
      item = await this.check(peer, message);
    } catch (error) {
      if (error instanceof Refusal) {
        this.refuse(peer, error.code, error.detail);
        return;
      }
      throw error;
    }
    const admitted = await this.delivery.admit(item, { ...this.options.limits, now: () => this.clock.now() });
    if (!admitted.ok) {
      this.refuse(peer, admitted.code, admitted.detail);
      return;
    }
    this.messages.inc({ peer: peer.id, outcome: admitted.duplicate ? 'replay' : 'delivered' });
    if (!admitted.duplicate)
      this.logger.debug({ msg: 'inbound item delivered', peer: peer.id, to: item.account, kind: item.kind });
  }

  /** Checks 2–9 of the class comment; throws a Refusal, or a transient error from the mirror store. */
  private async check(peer: FederationPeer, message: InboundMessage): Promise<InboundItem> {
    try {
      verifyInboundMessage(
        message,
        {
          topicPortal: peer.id,
          witnessKey: peer.witnessKey,
          maxEnvelopeBytes: this.options.maxEnvelopeBytes,
        },
        ED25519,
      );
    } catch (error) {
      if (isIntermeshError(error)) throw new Refusal(error.code, error.message);
      throw error;
    }
    const text = meshCheck(() => strictUtf8.decode(message.envelope), 'inbound.invalid');
    const jws = meshCheck(() => parseEnvelopeText(text, this.options.maxEnvelopeBytes));
    const { envelope } = meshCheck(() => readEnvelope(jws));
    if (envelope.toAccount !== message.to)
      throw new Refusal(
        'inbound.wrong-recipient',
        `the envelope is for ${envelope.toAccount}, the message for ${message.to}`,
      );
    const sender = await this.sender(peer, envelope);
    const { device } = await meshCheckAsync(() =>
      verifyEnvelope(jws, { account: envelope.fromAccount, ...sender }),
    );
    return {
      account: envelope.toAccount,
      toMaster: envelope.toMaster,
      id: envelope.id,
      kind: envelope.kind,
      fromAccount: envelope.fromAccount,
      fromMaster: envelope.fromMaster,
      fromDevice: device.id,
      origin: peer.id,
      envelope: text,
      created: envelope.created,
      proofOfWorkOk: this.proofOfWorkOk(envelope, message.pow),
    };
  }

  /**
   * The sender as this portal's VERIFIED mirror of the origin's log has it: the sender's home is the
   * origin (a portal relays only its own accounts' posts), and every part up to the message was read
   * before it on the same topic (the origin publishes it after the parts of its time).
   */
  private async sender(peer: FederationPeer, envelope: InboundEnvelope) {
    const stored = await this.mirror.accountState(peer.id, envelope.fromAccount);
    if (stored === undefined)
      throw new Refusal(
        'inbound.unknown-sender',
        `the sender ${envelope.fromAccount} is not in this portal's mirror of ${peer.id}'s log`,
      );
    const { state } = decodeAuditedAccount(stored.state, []);
    if (state.status !== 'active')
      throw new Refusal(
        'inbound.sender-inactive',
        `the sender ${envelope.fromAccount} is ${state.status} in ${peer.id}'s log`,
      );
    if (state.master.profile.id !== envelope.fromMaster)
      throw new Refusal(
        'inbound.wrong-sender',
        `the sender ${envelope.fromAccount}'s Master Profile in ${peer.id}'s log is ${state.master.profile.id}, not ${envelope.fromMaster}`,
      );
    return { master: state.master.profile, personal: state.personal.profile };
  }

  /** Whether the nonce shows this portal's level for the envelope (what a stranger's request needs). */
  private proofOfWorkOk(envelope: InboundEnvelope, pow: string | null): boolean {
    return proofOfWorkShows(envelopeWorkBody(envelope), pow, this.options.contactPowLevel);
  }

  private refuse(peer: FederationPeer, code: string, detail: string): void {
    this.messages.inc({ peer: peer.id, outcome: code.slice(0, 40) });
    const held = this.refusals.pass(`${peer.id}:${code}`);
    if (held === undefined) return;
    this.logger.warn({
      msg: 'inbound message refused: nothing stored',
      peer: peer.id,
      code,
      detail,
      ...(held > 0 ? { repeatedSinceLastLog: held } : {}),
    });
  }
}

/** `read()`, with a MeshError (or a parse error, as `code`) turned into a Refusal. */
function meshCheck<T>(read: () => T, code?: string): T {
  try {
    return read();
  } catch (error) {
    if (isMeshError(error)) throw new Refusal(error.code, error.message);
    if (code !== undefined && error instanceof Error) throw new Refusal(code, error.message);
    throw error;
  }
}

async function meshCheckAsync<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isMeshError(error)) throw new Refusal(error.code, error.message);
    throw error;
  }
}
