import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  proofOfWorkShows,
  envelopeText,
  envelopeWorkBody,
  parseEnvelopeText,
  verifyEnvelope,
  type InboundEnvelope,
} from '@cryptomesh/mesh';
import {
  admitInbound,
  contactRules,
  inboundRecipientHome,
  queueInboundRelay,
  type InboundLimits,
} from '@cryptomesh/persistence';
import { AUTHENTICATION, RequestAuthenticator, type Authenticated } from '../auth/request-authenticator';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { InboundMetrics } from '../inbound/inbound-metrics';
import { inboundRefusal } from '../inbound/inbound-refusal';
import type { MeshResponseFields } from '../protocol/envelope';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import { RequestFields } from '../protocol/request-fields';
import type { RequestContext, Transaction } from '../protocol/transaction';

/** The longest `ProofOfWork` nonce taken (solveProofOfWork's are 16 + a few hex digits). */
const MAX_NONCE_LENGTH = 128;
/** The nonce's alphabet: printable ASCII without space, what the relay can carry (inbound-message.ts). */
const NONCE_PATTERN = /^[\x21-\x7e]+$/;

/**
 * `InboundPost` (authenticated, NOT logged; docs/design/inbound.md "Transactions"): the sender's
 * portal takes an envelope from a device of the sender's account and delivers it to the recipient's
 * spool when the recipient lives here, or queues it for the recipient's portal (the relay). The
 * envelope must be signed by a device of the authenticated account's current Personal Profile, name
 * that account as `FromAccount` and its Master Profile as `FromMaster`, and be `Created` within
 * CLOCK_SKEW_MS; `ToAccount` with `ToMaster` finds the recipient. The recipient's portal decides
 * access (admitInbound); for a recipient elsewhere, whose catalog this portal cannot see, a contact
 * request to an account the sender's own contact catalog does not allow is a stranger's here: it must
 * carry the proof of work and counts against the sender's hourly limit, so that a flood stops at its
 * source (docs/design/gateway.md). A repeated post of the same envelope Id gets the same answer and
 * stores nothing more.
 */
@Injectable()
export class InboundPostTransaction implements Transaction {
  readonly name = 'InboundPost';

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly authenticator: RequestAuthenticator,
    private readonly metrics: InboundMetrics,
  ) {}

  async handle(
    body: Readonly<Record<string, unknown>>,
    context: RequestContext,
  ): Promise<MeshResponseFields> {
    const f = new RequestFields(body, this.name).allow([
      'Account',
      'Envelope',
      'ProofOfWork',
      AUTHENTICATION,
    ]);
    const jws = await mapMeshErrors(
      () => parseEnvelopeText(JSON.stringify(f.object('Envelope')), this.config.INBOUND_MAX_ENVELOPE_BYTES),
      'the Envelope',
    );
    const pow = f.optionalString('ProofOfWork');
    if (pow !== undefined && (pow.length > MAX_NONCE_LENGTH || !NONCE_PATTERN.test(pow)))
      f.fail(`"ProofOfWork" is a nonce of 1 to ${MAX_NONCE_LENGTH} printable ASCII characters, no space`);
    const auth = await this.authenticator.authenticate(f, this.name, context);
    const { envelope, device } = await mapMeshErrors(
      () =>
        verifyEnvelope(jws, {
          account: auth.name.udf,
          master: auth.state.master.profile,
          personal: auth.state.personal.profile,
        }),
      'the Envelope',
    );
    const post: Post = {
      auth,
      envelope,
      text: envelopeText(jws),
      fromDevice: device.signature.udf,
      pow: pow ?? null,
      powOk: this.proofOfWorkOk(envelope, pow),
    };
    try {
      this.checkFresh(post, context);
      const answer = await this.dataSource.transaction((manager) => this.deliver(manager, post));
      this.metrics.items.inc({ kind: envelope.kind, outcome: answer.outcome });
      return answer.fields;
    } catch (error) {
      const outcome = error instanceof GatewayError ? (error.details.reason ?? error.code) : 'internal';
      this.metrics.items.inc({ kind: envelope.kind, outcome });
      throw error;
    }
  }

  /**
   * The envelope is fresh: within CLOCK_SKEW_MS of now, either way — narrower than a recipient's window
   * (INBOUND_MAX_AGE_MS back), since the sender's device posts what it just signed. (verifyEnvelope
   * checked that it is the authenticated account's.)
   */
  private checkFresh({ envelope }: Post, context: RequestContext): void {
    const skew = Math.abs(envelope.created - context.receivedAtMs);
    if (skew > this.config.CLOCK_SKEW_MS)
      throw new GatewayError(
        'inbound.invalid',
        `the Envelope's Created is ${skew} ms from the portal's clock; at most ${this.config.CLOCK_SKEW_MS} ms (sign a new one)`,
        { reason: 'inbound.stale' },
      );
  }

  /** Whether `pow` shows this portal's contact level for the envelope (always, at level 0). */
  private proofOfWorkOk(envelope: InboundEnvelope, pow: string | undefined): boolean {
    return proofOfWorkShows(envelopeWorkBody(envelope), pow, this.config.INBOUND_CONTACT_POW_LEVEL);
  }

  /**
   * In one transaction: find the recipient, admit or queue the item, record the nonce. A crash before
   * the commit leaves nothing (the client posts again); after it, the item is in the spool or the
   * outbox and the nonce is spent, and a post of the same envelope with a new request is answered
   * the same.
   */
  private async deliver(manager: EntityManager, post: Post): Promise<Delivery> {
    const { auth, envelope } = post;
    const home = await inboundRecipientHome(manager, envelope.toAccount, envelope.toMaster);
    if (home === undefined)
      throw inboundRefusal(
        'inbound.unknown-recipient',
        `no active account ${envelope.toAccount} with the Master Profile ${envelope.toMaster} is known here: not on this portal, nor in a verified mirror of a member`,
      );
    let delivery: Delivery;
    if (home === 'self') {
      const admission = await admitInbound(
        manager,
        {
          account: envelope.toAccount,
          toMaster: envelope.toMaster,
          id: envelope.id,
          kind: envelope.kind,
          fromAccount: envelope.fromAccount,
          fromMaster: envelope.fromMaster,
          fromDevice: post.fromDevice,
          origin: this.config.PORTAL_ID,
          envelope: post.text,
          created: envelope.created,
          proofOfWorkOk: post.powOk,
        },
        this.limits(),
      );
      if (!admission.ok) throw inboundRefusal(admission.code, admission.detail);
      delivery = answer(envelope, 'delivered', this.config.PORTAL_ID, admission.duplicate);
    } else {
      delivery = await this.relay(manager, post, home.peer);
    }
    await this.authenticator.recordNonce(manager, auth.name.udf, auth.claims);
    return delivery;
  }

  /** The spool's limits, from this portal's configuration (docs/configuration.md). */
  private limits(): InboundLimits {
    const c = this.config;
    return {
      contactRequestsPerHour: c.INBOUND_CONTACT_REQUESTS_PER_HOUR,
      contactRequestsPerOriginPerHour: c.INBOUND_CONTACT_REQUESTS_PER_ORIGIN_PER_HOUR,
      spoolMaxPerAccount: c.INBOUND_SPOOL_MAX_PER_ACCOUNT,
      strangerMaxPerAccount: c.INBOUND_STRANGER_MAX_PER_ACCOUNT,
      maxAgeMs: c.INBOUND_MAX_AGE_MS,
      clockSkewMs: c.CLOCK_SKEW_MS,
    };
  }

  /**
   * Queues the item for the recipient's portal `peer`. This portal cannot see the recipient's catalog:
   * a contact request counts as a stranger's unless the SENDER's own contact catalog allows the
   * recipient (an `allow` naming its account and Master Profile: an answer to a request, or a contact
   * already made); a stranger's must carry the proof of work, and `queueInboundRelay` holds it to the
   * sender's hourly limit. The recipient's portal applies every rule again.
   */
  private async relay(manager: EntityManager, post: Post, peer: string): Promise<Delivery> {
    const { envelope } = post;
    const rules = await contactRules(manager, envelope.fromAccount, envelope.toAccount);
    const allowed = rules.some((rule) => rule.rule === 'allow' && rule.master === envelope.toMaster);
    const stranger = envelope.kind === 'contact' && !allowed;
    // Only a contact request may go to an account the sender does not allow: anything else would be
    // refused by the recipient's portal, after every member had read it off this portal's topic.
    if (envelope.kind !== 'contact' && !allowed)
      throw inboundRefusal(
        'inbound.not-a-contact',
        `a ${envelope.kind} goes only to a contact you allow (an allow rule naming its account and Master Profile in your contact catalog); send a contact request first`,
      );
    if (stranger && !post.powOk)
      throw inboundRefusal(
        'inbound.proof-of-work',
        `a contact request to an account you have not allowed carries a proof of work at level ${this.config.INBOUND_CONTACT_POW_LEVEL} (Hello's Policy.Inbound.ContactProofOfWork)`,
      );
    const queued = await queueInboundRelay(
      manager,
      {
        id: envelope.id,
        toAccount: envelope.toAccount,
        toPortal: peer,
        fromAccount: envelope.fromAccount,
        fromMaster: envelope.fromMaster,
        kind: envelope.kind,
        stranger,
        envelope: post.text,
        // Relayed only when it is needed: the recipient's portal judges it, at its own level.
        pow: stranger ? post.pow : null,
      },
      { contactRequestsPerHour: this.config.INBOUND_CONTACT_REQUESTS_PER_HOUR },
    );
    if (!queued.ok) throw inboundRefusal(queued.code, queued.detail);
    return answer(envelope, 'relayed', peer, queued.duplicate);
  }
}

interface Post {
  readonly auth: Authenticated;
  readonly envelope: InboundEnvelope;
  /** The envelope as stored and relayed (envelopeText). */
  readonly text: string;
  readonly fromDevice: string;
  readonly pow: string | null;
  readonly powOk: boolean;
}

interface Delivery {
  readonly fields: MeshResponseFields;
  readonly outcome: 'delivered' | 'relayed' | 'duplicate';
}

function answer(
  envelope: InboundEnvelope,
  delivery: 'delivered' | 'relayed',
  portal: string,
  duplicate: boolean,
): Delivery {
  return {
    fields: { Id: envelope.id, Delivery: delivery, Portal: portal },
    outcome: duplicate ? 'duplicate' : delivery,
  };
}
