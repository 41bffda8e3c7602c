import {
  decideInbound,
  isMeshError,
  parseEnvelopeText,
  readEnvelope,
  verifyEnvelope,
  type CatalogAccess,
  type InboundEnvelope,
  type InboundKind,
  type JsonObject,
} from '@cryptomesh/mesh';
import type { FlattenedJws } from '@cryptomesh/crypto/portable';
import { openJson, type OpenAccount } from './catalog-account';
import { ClientError, isClientError } from './client-error';
import { verifiedAccount, type VerifiedAccount } from './inbound-recipient';

/** Envelopes larger than this are refused before they are parsed (docs/design/inbound.md "Size"). */
const MAX_ENVELOPE_BYTES = 65_536;

/** One received item this device accepted: verified, allowed by its own contact rules, decrypted. */
export interface InboundItem {
  readonly id: string;
  readonly kind: InboundKind;
  readonly from: string;
  readonly fromAccount: string;
  readonly fromMaster: string;
  /** The sender's profiles, as proven from the logs. */
  readonly sender: VerifiedAccount;
  /** The device of the sender that signed it. */
  readonly device: string;
  /** The portal it came from (the home portal's `Portal`), and when it arrived there. */
  readonly portal: string;
  readonly received: string;
  /** The sender's `Created`. */
  readonly created: number;
  /** True when no allow rule of this account matched (a stranger's contact request). */
  readonly stranger: boolean;
  readonly content: JsonObject;
}

/** An item the home portal listed that this device does not accept, and why. */
export interface RefusedItem {
  readonly id: string;
  readonly kind?: string;
  readonly from?: string;
  /** `inbound.blocked`, `inbound.not-a-contact`, `verify.envelope`, `inbound.invalid`… */
  readonly code: string;
  readonly reason: string;
}

/**
 * InboundList of the home portal, every page, `kind` only when given (docs/design/inbound.md
 * "Transactions"), then for each item, whatever the portal decided (it is trusted with nothing):
 *  1. the envelope's form; addressed to this account; the Id, Kind and sender the portal listed;
 *  2. the sender's Master Profile `FromMaster` and current Personal Profile read WITH PROOF from the
 *     logs (inbound-recipient.ts, via the home portal's query service), and the envelope's signature
 *     by a device of that Personal Profile (`verifyEnvelope`);
 *  3. the access rules again over `rules` (this device's verified copy of the contact catalog:
 *     a blocked sender's items and a stranger's items other than a contact request are refused);
 *  4. the Body decrypted with this device's key and of the shape its kind demands.
 * Items that fail are returned as `refused` with the code, never shown. A failure to reach a portal
 * is thrown (nothing is decided on it).
 */
export async function receiveInbound(
  open: OpenAccount,
  rules: readonly CatalogAccess[],
  kind?: InboundKind,
): Promise<{ items: InboundItem[]; refused: RefusedItem[] }> {
  const items: InboundItem[] = [];
  const refused: RefusedItem[] = [];
  const senders = new Map<string, Promise<VerifiedAccount>>();
  for (const listed of await listAll(open, kind)) {
    const outcome = await accept(open, rules, listed, senders);
    if ('code' in outcome) refused.push(outcome);
    else items.push(outcome);
  }
  return { items, refused };
}

/** InboundDelete of `ids` (at most 100 a request); resolves with how many the portal still had. */
export async function deleteInbound(open: OpenAccount, ids: readonly string[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const answer = await open.session.authenticated('InboundDelete', { Ids: ids.slice(i, i + 100) });
    if (typeof answer.Deleted === 'number') deleted += answer.Deleted;
  }
  return deleted;
}

type Listed = Record<string, unknown>;

async function listAll(open: OpenAccount, kind?: InboundKind): Promise<Listed[]> {
  const out: Listed[] = [];
  let after: string | undefined;
  const portal = open.session.gateway.portal;
  for (;;) {
    const answer = await open.session.authenticated('InboundList', {
      ...(kind === undefined ? {} : { Kind: kind }),
      ...(after === undefined ? {} : { After: after }),
    });
    if (!Array.isArray(answer.Items))
      throw new ClientError('verify.answer', `${portal}: InboundList has no "Items" list`, {
        portal,
        check: 'InboundList answer',
      });
    for (const item of answer.Items as unknown[])
      out.push(typeof item === 'object' && item !== null ? (item as Listed) : {});
    if (typeof answer.Next !== 'string' || answer.Next === '' || answer.Next === after) break;
    after = answer.Next;
  }
  return out;
}

async function accept(
  open: OpenAccount,
  rules: readonly CatalogAccess[],
  listed: Listed,
  senders: Map<string, Promise<VerifiedAccount>>,
): Promise<InboundItem | RefusedItem> {
  const id = typeof listed.Id === 'string' ? listed.Id : '';
  const refuse = (code: string, reason: string, envelope?: InboundEnvelope): RefusedItem => ({
    id,
    code,
    reason,
    ...(envelope === undefined ? {} : { kind: envelope.kind, from: envelope.from }),
  });
  // 1. Form and address.
  let jws: FlattenedJws;
  let envelope: InboundEnvelope;
  try {
    const raw = listed.Envelope;
    jws =
      typeof raw === 'string'
        ? parseEnvelopeText(raw, MAX_ENVELOPE_BYTES)
        : parseEnvelopeText(JSON.stringify(raw ?? null), MAX_ENVELOPE_BYTES);
    envelope = readEnvelope(jws).envelope;
  } catch (cause) {
    if (!isMeshError(cause)) throw cause;
    return refuse(cause.code, cause.message);
  }
  const { doc } = open;
  if (
    envelope.toAccount !== doc.accountUdf ||
    envelope.to !== doc.account ||
    envelope.toMaster !== doc.master.profile.id
  )
    return refuse(
      'verify.envelope',
      `addressed to ${envelope.to} (Master Profile ${envelope.toMaster}), not to this account`,
      envelope,
    );
  if (envelope.id !== id || envelope.kind !== listed.Kind || envelope.from !== listed.From)
    return refuse('verify.envelope', 'the portal listed it with another Id, Kind or sender', envelope);
  // 2. The sender's profiles with proof, and the signature.
  const key = `${envelope.from}\n${envelope.fromMaster}`;
  let pending = senders.get(key);
  if (pending === undefined) {
    pending = verifiedAccount(open, envelope.from, envelope.fromMaster);
    senders.set(key, pending);
  }
  let sender: VerifiedAccount;
  let device: string;
  try {
    sender = await pending;
    device = (await verifyEnvelope(jws, { master: sender.master.profile, personal: sender.personal.profile }))
      .device.id;
  } catch (cause) {
    if (isMeshError(cause)) return refuse('verify.envelope', cause.message, envelope);
    if (isClientError(cause) && (cause.code.startsWith('verify.') || cause.code === 'portal.refused'))
      return refuse('verify.envelope', `the sender's profiles are not proven: ${cause.message}`, envelope);
    throw cause;
  }
  // 3. Access control, again, over this device's own copy of the contact catalog.
  const decision = decideInbound(
    envelope.kind,
    { account: envelope.fromAccount, master: envelope.fromMaster },
    rules,
  );
  if (!decision.ok) return refuse(decision.code, decision.detail, envelope);
  // 4. The content.
  let content: JsonObject;
  try {
    content = await openJson(envelope.body, open.session, `the ${envelope.kind} ${id} from ${envelope.from}`);
  } catch (cause) {
    if (!isClientError(cause)) throw cause;
    return refuse(cause.code, cause.message, envelope);
  }
  const bad = contentProblem(envelope.kind, content);
  if (bad !== undefined) return refuse('inbound.invalid', bad, envelope);
  return {
    id,
    kind: envelope.kind,
    from: envelope.from,
    fromAccount: envelope.fromAccount,
    fromMaster: envelope.fromMaster,
    sender,
    device,
    portal: typeof listed.Portal === 'string' ? listed.Portal : '',
    received:
      typeof listed.Received === 'string' || typeof listed.Received === 'number'
        ? String(listed.Received)
        : '',
    created: envelope.created,
    stranger: decision.stranger,
    content,
  };
}

const TEXT_MAX = 16_384;
const isText = (value: unknown, max = TEXT_MAX): boolean => typeof value === 'string' && value.length <= max;
const ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * What is wrong with a decrypted Body for its kind (docs/design/inbound.md "Inbound envelopes"), or
 * undefined: `contact` {Response, Text?}; `message` {Text}; `task` {Title, Start?, End?, Text?};
 * `confirm` {Text}; `answer` {Ref, Answer}. Other members are refused too (a sender cannot smuggle
 * what a later version might read differently).
 */
export function contentProblem(kind: InboundKind, content: JsonObject): string | undefined {
  const allowed: Record<InboundKind, readonly string[]> = {
    contact: ['Response', 'Text'],
    message: ['Text'],
    task: ['Title', 'Start', 'End', 'Text'],
    confirm: ['Text'],
    answer: ['Ref', 'Answer'],
  };
  const extra = Object.keys(content).find((k) => !allowed[kind].includes(k));
  if (extra !== undefined) return `a ${kind} has no member ${JSON.stringify(extra)}`;
  const optionalText = (name: string) => content[name] === undefined || isText(content[name]);
  switch (kind) {
    case 'contact':
      if (!['request', 'accept', 'reject'].includes(content['Response'] as string))
        return "a contact item's Response is request, accept or reject";
      return optionalText('Text') ? undefined : "a contact item's Text is a string";
    case 'message':
    case 'confirm':
      return isText(content['Text']) ? undefined : `a ${kind}'s Text is a string`;
    case 'task':
      if (!isText(content['Title'], 1000) || content['Title'] === '')
        return "a task's Title is a non-empty string";
      return optionalText('Start') && optionalText('End') && optionalText('Text')
        ? undefined
        : "a task's Start, End and Text are strings";
    case 'answer':
      if (typeof content['Ref'] !== 'string' || !ID.test(content['Ref']))
        return "an answer's Ref is an item Id";
      return content['Answer'] === 'yes' || content['Answer'] === 'no'
        ? undefined
        : "an answer's Answer is yes or no";
  }
}
