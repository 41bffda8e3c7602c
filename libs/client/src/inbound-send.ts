import {
  envelopeDigest,
  envelopeWorkBody,
  isMeshError,
  newEnvelopeId,
  readEnvelope,
  sealInboundBody,
  signEnvelope,
  solveProofOfWorkAsync,
  type InboundKind,
  type JsonObject,
} from '@cryptomesh/mesh';
import { jweRecipients, type OpenAccount } from './catalog-account';
import { ClientError } from './client-error';
import type { VerifiedAccount } from './inbound-recipient';
import { flatJws } from './profile-document';

/** The proof-of-work level assumed when Hello does not announce `Policy.Inbound.ContactProofOfWork`. */
export const DEFAULT_CONTACT_POW_LEVEL = 1;

/** Where sent items are remembered (`inbound/sent/<Id>.json`): `mesh confirm status` reads them. */
export const SENT_PREFIX = 'inbound/sent/';

/** An item this device sent, as it remembers it (its own store only). */
export interface SentItem {
  readonly id: string;
  readonly kind: InboundKind;
  readonly to: string;
  /** The recipient's Master Profile, as this device proved it when it sent. */
  readonly toMaster: string;
  readonly created: number;
  readonly content: JsonObject;
  /** `envelopeDigest` of the envelope sent: what an answer to a confirmation request names as `Ref`. */
  readonly digest: string;
  /** `delivered` (the recipient is at the home portal) or `relayed` (queued for its portal). */
  readonly delivery: string;
  /** The recipient's portal, as the home portal answered. */
  readonly portal: string;
  /** For a confirmation request: the verified answer, once `mesh confirm status` saw it. */
  readonly answer?: { readonly answer: 'yes' | 'no'; readonly device: string; readonly created: number };
}

/**
 * The contact-request proof-of-work level of the home portal (Hello `Policy.Inbound.ContactProofOfWork`;
 * docs/design/inbound.md "Proof of work"), DEFAULT_CONTACT_POW_LEVEL when it does not say.
 */
export async function contactProofOfWorkLevel(open: OpenAccount): Promise<number> {
  const hello = await open.session.gateway.send('Hello', {});
  const policy = hello.Policy as { Inbound?: { ContactProofOfWork?: unknown } } | undefined;
  const level = policy?.Inbound?.ContactProofOfWork;
  return typeof level === 'number' && Number.isInteger(level) && level >= 0 && level <= 4
    ? level
    : DEFAULT_CONTACT_POW_LEVEL;
}

/**
 * Sends one inbound item (docs/design/inbound.md "Inbound envelopes"): `content` encrypted to the
 * devices of `to`'s Personal Profile as read with proof (inbound-recipient.ts), the envelope signed
 * by this device, posted with InboundPost to the home portal, which delivers or relays it.
 * `proofOfWork`: the level to solve (a contact request: the recipient has not allowed the sender
 * yet, as far as this device knows). The item is remembered under `inbound/sent/`. `usage.invalid`
 * for an envelope to the sender's own account; `portal.refused` as the portal refuses (its code:
 * `inbound.blocked`, `inbound.not-a-contact`, `inbound.rate-limited`, `inbound.unknown-recipient`…).
 */
export async function sendInbound(
  open: OpenAccount,
  to: VerifiedAccount,
  kind: InboundKind,
  content: JsonObject,
  proofOfWork?: number,
): Promise<SentItem> {
  const { doc, session } = open;
  const recipients = jweRecipients(to.personal.profile.devices.map((d) => d.encryption));
  if (recipients.length === 0)
    throw new ClientError('usage.invalid', `${to.address} has no device to encrypt to`, {
      check: 'recipient',
    });
  const created = session.now();
  const id = newEnvelopeId(session.random);
  let jws;
  try {
    // The Body binds the envelope it travels in (inbound-body.ts): Id, Kind, both accounts.
    const body = await sealInboundBody({ id, kind, from: doc.account, to: to.address }, content, recipients);
    jws = await signEnvelope(
      {
        kind,
        id,
        from: doc.account,
        fromMaster: doc.master.profile.id,
        to: to.address,
        toMaster: to.master.profile.id,
        created,
        body,
      },
      session.keys.signature,
    );
  } catch (cause) {
    if (!isMeshError(cause)) throw cause;
    throw new ClientError('usage.invalid', `cannot send to ${to.address}: ${cause.message}`, {
      check: 'envelope',
      cause,
    });
  }
  const { envelope } = readEnvelope(jws);
  const nonce =
    proofOfWork === undefined
      ? undefined
      : await solveProofOfWorkAsync(envelopeWorkBody(envelope), proofOfWork, { random: session.random });
  const answer = await session.authenticated('InboundPost', {
    Envelope: flatJws(jws),
    ...(nonce === undefined ? {} : { ProofOfWork: nonce }),
  });
  if (answer.Id !== envelope.id)
    throw new ClientError('verify.answer', `${session.gateway.portal}: InboundPost answered another Id`, {
      portal: session.gateway.portal,
      check: 'InboundPost answer',
      evidence: { sent: envelope.id, answered: String(answer.Id) },
    });
  const sent: SentItem = {
    id: envelope.id,
    kind,
    to: to.address,
    toMaster: to.master.profile.id,
    created,
    content,
    digest: envelopeDigest(envelope),
    delivery: typeof answer.Delivery === 'string' ? answer.Delivery : 'unknown',
    portal: typeof answer.Portal === 'string' ? answer.Portal : 'unknown',
  };
  await rememberSent(open, sent);
  return sent;
}

export async function rememberSent(open: OpenAccount, sent: SentItem): Promise<void> {
  await open.store.write(`${SENT_PREFIX}${sent.id}.json`, JSON.stringify(sent));
}

/** The item this device sent with `id`, or undefined. */
export async function sentItem(open: OpenAccount, id: string): Promise<SentItem | undefined> {
  if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
  const text = await open.store.read(`${SENT_PREFIX}${id}.json`);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as SentItem;
  } catch (cause) {
    throw new ClientError('state.corrupt', `${SENT_PREFIX}${id}.json is not JSON`, {
      check: 'sent item',
      cause,
    });
  }
}
