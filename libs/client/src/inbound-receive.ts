import {
  decideInbound,
  isMeshError,
  openInboundBody,
  parseEnvelopeText,
  readEnvelope,
  verifyEnvelope,
  type OpenedBody,
  type CatalogAccess,
  type InboundEnvelope,
  type InboundKind,
  type JsonObject,
} from '@cryptomesh/mesh';
import type { FlattenedJws } from '@cryptomesh/crypto/portable';
import type { OpenAccount } from './catalog-account';
import { ClientError, isClientError } from './client-error';
import { LOG_PROVER, type AccountProver, type VerifiedAccount } from './inbound-recipient';

/** Envelopes larger than this are refused before they are parsed (docs/design/inbound.md "Size"). */
const MAX_ENVELOPE_BYTES = 65_536;

/**
 * The portals' `INBOUND_MAX_AGE_MS` when Hello does not announce it (`Policy.Inbound.MaxAgeMs`):
 * a portal refuses an item whose `Created` is older (docs/design/inbound.md "Access control" 6).
 */
export const DEFAULT_INBOUND_MAX_AGE_MS = 7 * 86_400_000;
/**
 * What this device adds to the max age before it refuses an item as stale: a deleted item's
 * tombstone outlives the max age by an hour at the portal, so an item is legitimately listed at
 * most that long after its `Created`.
 */
export const INBOUND_AGE_GRACE_MS = 3_600_000;
/** How far in the future an item's `Created` may be (the sender's clock ahead of this one's). */
export const INBOUND_FUTURE_SKEW_MS = 300_000;

/** What receiveInbound takes besides the account and its rules. */
export interface ReceiveOptions {
  /** Only items of this kind (InboundList `Kind`). */
  readonly kind?: InboundKind;
  /** How the senders' profiles are proven (default: read with proof from the logs). */
  readonly prover?: AccountProver;
  /** The max age; default: the home portal's Hello `Policy.Inbound.MaxAgeMs`, else DEFAULT_INBOUND_MAX_AGE_MS. */
  readonly maxAgeMs?: number;
}

/** One received item this device accepted: verified, allowed by its own contact rules, decrypted. */
export interface InboundItem {
  readonly id: string;
  readonly kind: InboundKind;
  readonly from: string;
  readonly fromAccount: string;
  readonly fromMaster: string;
  /** The envelope as signed (an answer's `Ref` is its `envelopeDigest`). */
  readonly envelope: InboundEnvelope;
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
  readonly fromAccount?: string;
  /** The sender's address, when the Body was opened. */
  readonly from?: string;
  /** `inbound.blocked`, `inbound.not-a-contact`, `verify.envelope`, `inbound.invalid`… */
  readonly code: string;
  readonly reason: string;
}

/**
 * InboundList of the home portal, every page, `kind` only when given (docs/design/inbound.md
 * "Transactions", "What the recipient's client checks"), then for each item, whatever the portal
 * decided (it is trusted with nothing):
 *  1. the envelope's form; `ToAccount` and `ToMaster` this account's; the Id and Kind listed;
 *     `Created` within [now − max age − INBOUND_AGE_GRACE_MS, now + INBOUND_FUTURE_SKEW_MS]
 *     (`inbound.stale`); not one of the items this device deleted itself (HANDLED_DOCUMENT;
 *     `inbound.replayed`);
 *  2. the access rules again over `rules` (this device's verified copy of the contact catalog): a
 *     blocked sender's items and a stranger's items other than a contact request are refused;
 *  3. the Body decrypted with this device's key and made for this envelope (`openInboundBody`): it
 *     gives the sender's address, bound to `FromAccount`;
 *  4. the sender's Master Profile `FromMaster` and current Personal Profile read WITH PROOF from the
 *     logs (inbound-recipient.ts, via the home portal's query service), and the envelope's signature
 *     by a device of that Personal Profile (`verifyEnvelope`);
 *  5. the content of the shape its kind demands.
 * Items that fail are returned as `refused` with the code, never shown. A failure to reach a portal
 * is thrown (nothing is decided on it).
 */
export async function receiveInbound(
  open: OpenAccount,
  rules: readonly CatalogAccess[],
  options: ReceiveOptions = {},
): Promise<{ items: InboundItem[]; refused: RefusedItem[] }> {
  const items: InboundItem[] = [];
  const refused: RefusedItem[] = [];
  const context: Context = {
    senders: new Map(),
    handled: await loadHandled(open),
    prover: options.prover ?? LOG_PROVER,
    maxAgeMs: options.maxAgeMs ?? (await inboundMaxAgeMs(open)),
  };
  for (const listed of await listAll(open, options.kind)) {
    const outcome = await accept(open, rules, listed, context);
    if ('code' in outcome) refused.push(outcome);
    else items.push(outcome);
  }
  return { items, refused };
}

/**
 * The home portal's max age of an inbound item: Hello `Policy.Inbound.MaxAgeMs` when it announces a
 * sane one (1 minute to 90 days, as the gateway's configuration allows), else DEFAULT_INBOUND_MAX_AGE_MS.
 */
export async function inboundMaxAgeMs(open: OpenAccount): Promise<number> {
  const hello = await open.session.gateway.send('Hello', {});
  const policy = hello.Policy as { Inbound?: { MaxAgeMs?: unknown } } | undefined;
  const age = policy?.Inbound?.MaxAgeMs;
  return typeof age === 'number' && Number.isInteger(age) && age >= 60_000 && age <= 90 * 86_400_000
    ? age
    : DEFAULT_INBOUND_MAX_AGE_MS;
}

/**
 * InboundDelete of `items` (at most 100 a request), each named by its sender's account and its Id
 * (the spool's key: another sender's item of the same Id is not touched); resolves with how many the
 * portal still had. Each is remembered as handled first, so that a portal that lists it again (a
 * replay) is caught.
 */
export async function deleteInbound(
  open: OpenAccount,
  items: ReadonlyArray<{ readonly id: string; readonly fromAccount: string }>,
): Promise<number> {
  if (items.length === 0) return 0;
  await rememberHandled(open, items);
  let deleted = 0;
  for (let i = 0; i < items.length; i += 100) {
    const answer = await open.session.authenticated('InboundDelete', {
      Items: items.slice(i, i + 100).map((item) => ({ FromAccount: item.fromAccount, Id: item.id })),
    });
    if (typeof answer.Deleted === 'number') deleted += answer.Deleted;
  }
  return deleted;
}

/**
 * Where this device remembers the items it deleted from the spool itself (deleteInbound: accepted,
 * rejected or blocked requests, answered confirmation requests, applied contact answers, collected
 * answers): `(FromAccount, Id)` of the last HANDLED_KEPT of them, in this device's store only. It
 * does not hold what was only listed or read, nor what another device of the account deleted; a
 * replay older than the age window is refused as stale whatever this memory holds.
 */
export const HANDLED_DOCUMENT = 'inbound/handled.json';
const HANDLED_KEPT = 10_000;

const handledKey = (item: { readonly id: string; readonly fromAccount: string }): string =>
  `${item.fromAccount} ${item.id}`;

async function loadHandled(open: OpenAccount): Promise<Set<string>> {
  const text = await open.store.read(HANDLED_DOCUMENT);
  if (text === undefined) return new Set();
  try {
    const parsed = JSON.parse(text) as { account?: unknown; items?: unknown };
    if (parsed.account !== open.doc.accountUdf || !Array.isArray(parsed.items)) return new Set();
    return new Set(parsed.items.filter((k): k is string => typeof k === 'string'));
  } catch (cause) {
    throw new ClientError('state.corrupt', `${HANDLED_DOCUMENT} is not JSON`, { check: 'inbound', cause });
  }
}

async function rememberHandled(
  open: OpenAccount,
  items: ReadonlyArray<{ readonly id: string; readonly fromAccount: string }>,
): Promise<void> {
  const handled = [...(await loadHandled(open)), ...items.map(handledKey)];
  await open.store.write(
    HANDLED_DOCUMENT,
    JSON.stringify({ account: open.doc.accountUdf, items: [...new Set(handled)].slice(-HANDLED_KEPT) }),
  );
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

/** What one listing's items share. */
interface Context {
  /** The senders proven so far, by account and Master Profile. */
  readonly senders: Map<string, Promise<VerifiedAccount>>;
  readonly handled: ReadonlySet<string>;
  readonly prover: AccountProver;
  readonly maxAgeMs: number;
}

async function accept(
  open: OpenAccount,
  rules: readonly CatalogAccess[],
  listed: Listed,
  { senders, handled, prover, maxAgeMs }: Context,
): Promise<InboundItem | RefusedItem> {
  const id = typeof listed.Id === 'string' ? listed.Id : '';
  /** The sender's address, once the Body is open (refusals name it from then on). */
  const known: { from?: string } = {};
  const refuse = (code: string, reason: string, envelope?: InboundEnvelope): RefusedItem => ({
    id,
    code,
    reason,
    ...(envelope === undefined ? {} : { kind: envelope.kind, fromAccount: envelope.fromAccount }),
    ...(known.from === undefined ? {} : { from: known.from }),
  });
  // 1. Form, and addressed to this account (and Master Profile); the Id and Kind the portal listed.
  let jws: FlattenedJws;
  let envelope: InboundEnvelope;
  try {
    const raw = listed.Envelope;
    jws = parseEnvelopeText(typeof raw === 'string' ? raw : JSON.stringify(raw ?? null), MAX_ENVELOPE_BYTES);
    envelope = readEnvelope(jws).envelope;
  } catch (cause) {
    if (!isMeshError(cause)) throw cause;
    return refuse(cause.code, cause.message);
  }
  const { doc } = open;
  if (envelope.toAccount !== doc.accountUdf || envelope.toMaster !== doc.master.profile.id)
    return refuse(
      'verify.envelope',
      `addressed to another account or Master Profile than this one's`,
      envelope,
    );
  if (envelope.id !== id || envelope.kind !== listed.Kind)
    return refuse('verify.envelope', 'the portal listed it with another Id or Kind', envelope);
  const now = open.session.now();
  if (
    envelope.created < now - maxAgeMs - INBOUND_AGE_GRACE_MS ||
    envelope.created > now + INBOUND_FUTURE_SKEW_MS
  )
    return refuse(
      'inbound.stale',
      `created ${new Date(envelope.created).toISOString()}, outside the ${maxAgeMs} ms age window (+1 h) or more than 5 minutes ahead`,
      envelope,
    );
  if (handled.has(handledKey(envelope)))
    return refuse('inbound.replayed', 'this device handled (and deleted) this item before', envelope);
  // 2. Access control, again, over this device's own copy of the contact catalog.
  const decision = decideInbound(
    envelope.kind,
    { account: envelope.fromAccount, master: envelope.fromMaster },
    rules,
  );
  if (!decision.ok) return refuse(decision.code, decision.detail, envelope);
  // 3. The Body: made for this envelope (openInboundBody), the sender's address inside.
  let opened: OpenedBody;
  try {
    opened = await openInboundBody(envelope, open.session.keys.encryption);
  } catch (cause) {
    if (!isMeshError(cause)) throw cause;
    return refuse(cause.code, cause.message, envelope);
  }
  known.from = opened.from;
  if (opened.to !== doc.account)
    return refuse('verify.envelope', `the body names ${opened.to} as recipient`, envelope);
  // 4. The sender's Master and Personal Profiles WITH PROOF, and the envelope's signature by one of
  //    its devices.
  const key = `${envelope.fromAccount}\n${envelope.fromMaster}`;
  let pending = senders.get(key);
  if (pending === undefined) {
    pending = prover.verifiedAccount(open, opened.from, envelope.fromMaster);
    senders.set(key, pending);
  }
  let sender: VerifiedAccount;
  let device: string;
  try {
    sender = await pending;
    const verified = await verifyEnvelope(jws, {
      account: sender.account,
      master: sender.master.profile,
      personal: sender.personal.profile,
    });
    device = verified.device.id;
  } catch (cause) {
    if (isMeshError(cause)) return refuse('verify.envelope', cause.message, envelope);
    if (isClientError(cause) && (cause.code.startsWith('verify.') || cause.code === 'portal.refused'))
      return refuse('verify.envelope', `the sender's profiles are not proven: ${cause.message}`, envelope);
    throw cause;
  }
  // 5. The content's shape for its kind.
  const bad = contentProblem(envelope.kind, opened.content);
  if (bad !== undefined) return refuse('inbound.invalid', bad, envelope);
  return {
    id,
    kind: envelope.kind,
    from: opened.from,
    fromAccount: envelope.fromAccount,
    fromMaster: envelope.fromMaster,
    envelope,
    sender,
    device,
    portal: typeof listed.Portal === 'string' ? listed.Portal : '',
    received:
      typeof listed.Received === 'string' || typeof listed.Received === 'number'
        ? String(listed.Received)
        : '',
    created: envelope.created,
    stranger: decision.stranger,
    content: opened.content,
  };
}

const TEXT_MAX = 16_384;
const isText = (value: unknown, max = TEXT_MAX): boolean => typeof value === 'string' && value.length <= max;
/** A content digest UDF (`envelopeDigest`), in its dashed presentation. */
const DIGEST = /^[A-Z2-7]{4}(-[A-Z2-7]{1,4}){1,40}$/;

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
      if (typeof content['Ref'] !== 'string' || !DIGEST.test(content['Ref']))
        return "an answer's Ref is the digest of the confirmation request";
      return content['Answer'] === 'yes' || content['Answer'] === 'no'
        ? undefined
        : "an answer's Answer is yes or no";
  }
}
