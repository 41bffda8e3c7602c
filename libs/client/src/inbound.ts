import { envelopeDigest, type InboundKind } from '@cryptomesh/mesh';
import { MeshCatalog } from './catalog';
import { openAccount, type OpenAccount } from './catalog-account';
import {
  contactAddress,
  getContact,
  listContacts,
  putContact,
  removeContact,
  type Contact,
} from './catalog-contacts';
import { ClientError, isClientError } from './client-error';
import { deleteInbound, receiveInbound, type InboundItem } from './inbound-receive';
import {
  LOG_PROVER,
  recipientName,
  soleOwner,
  type AccountProver,
  type VerifiedAccount,
} from './inbound-recipient';
import { contactProofOfWorkLevel, rememberSent, sendInbound, sentItem, type SentItem } from './inbound-send';
import {
  isRequest,
  pickDetails,
  refuseRepin,
  type ConfirmationStatus,
  type PinOptions,
  type Received,
} from './inbound-types';
import type { MeshProfileManager } from './profile-manager';

export type { ConfirmationStatus, PinOptions, Received } from './inbound-types';

/**
 * The inbound services of one device (000 §3.3; docs/design/inbound.md): contacts and contact
 * requests, messages, tasks, confirmation requests and their signed answers. Sending reads the
 * recipient's profiles with proof (inbound-recipient.ts) and encrypts to its devices; receiving
 * verifies every item against its sender's profiles read with proof and applies the access rules
 * again over this device's verified contact catalog (inbound-receive.ts). Contact answers
 * (`Response` accept/reject) are applied to the catalog when a listing meets them, then deleted.
 *
 * Not safe for concurrent use on one store: the CLI runs one command at a time.
 */
export class MeshInbound {
  readonly catalog: MeshCatalog;

  /** `prover`: how other accounts are found and proven (the logs; a test's fake). */
  constructor(
    readonly account: OpenAccount,
    private readonly prover: AccountProver = LOG_PROVER,
  ) {
    this.catalog = new MeshCatalog(account);
  }

  /** Opens the home's account (its profiles verified through the log) for the inbound services. */
  static async open(manager: MeshProfileManager): Promise<MeshInbound> {
    return new MeshInbound(await openAccount(manager));
  }

  // Contacts.

  /**
   * The contacts, after the contact answers waiting in the spool were applied (an accept makes a
   * requested contact `accepted`, a reject removes it).
   */
  async contacts(): Promise<Contact[]> {
    await this.receive();
    return listContacts(this.catalog);
  }

  /**
   * Adds (or updates) `address` as an accepted contact, its Master Profile proven from the logs and
   * pinned (pin() says which one). Name and note not given are kept.
   */
  async addContact(
    address: string,
    details: { name?: string; note?: string } & PinOptions = {},
  ): Promise<Contact> {
    const { name, note, ...pin } = details;
    const { to, existing } = await this.pin(address, pin);
    return putContact(this.catalog, {
      address: to.address,
      master: to.master.profile.id,
      trust: 'accepted',
      ...pickDetails(existing),
      ...(name === undefined ? {} : { name }),
      ...(note === undefined ? {} : { note }),
    });
  }

  async removeContact(address: string): Promise<boolean> {
    return removeContact(this.catalog, address);
  }

  /**
   * Sends `address` a contact request with proof of work at the home portal's level, then adds it as
   * a contact (allow, pinned to the Master Profile read with proof, Trust `requested` until its
   * accept comes). In that order: the home portal treats a contact request to an account the sender
   * does not allow yet as a stranger's — proof of work and its hourly limit at the source, so a
   * flood stops there (docs/design/inbound.md "Access control") — and a refused request adds no
   * contact. A crash between the two leaves a request whose accept this device ignores (no
   * `requested` contact): `request` again. The Master Profile is chosen as pin() says.
   */
  async requestContact(
    address: string,
    text?: string,
    pin: PinOptions = {},
  ): Promise<{ contact: Contact; sent: SentItem }> {
    const { to, existing } = await this.pin(address, pin);
    const level = await contactProofOfWorkLevel(this.account);
    const sent = await sendInbound(
      this.account,
      to,
      'contact',
      { Response: 'request', ...(text === undefined ? {} : { Text: text }) },
      level,
    );
    const contact = await putContact(this.catalog, {
      address: to.address,
      master: to.master.profile.id,
      trust: existing?.trust === 'accepted' ? 'accepted' : 'requested',
      ...pickDetails(existing),
    });
    return { contact, sent };
  }

  /** The contact requests waiting (verified, not refused by this account's rules). */
  async pendingContacts(): Promise<Received> {
    const { items, refused } = await this.receive();
    return { items: items.filter(isRequest), refused };
  }

  /**
   * Accepts the contact request(s) of `address`: the contact is added (allow, Master Profile pinned
   * to the one the request proved), an accept is sent back, the requests are deleted.
   * `usage.invalid` when no request of `address` waits (of the Master Profile named, when one is),
   * when requests of two owners of the address wait and none is named, or when the contact is pinned
   * to another Master Profile than the request's and `repin` is not given.
   */
  async acceptContact(address: string, pin: PinOptions = {}): Promise<{ contact: Contact; sent: SentItem }> {
    const named = recipientName(address, pin.fingerprint);
    const requests = (await this.requestsFrom(named.address)).filter(
      (r) => named.master === undefined || r.fromMaster === named.master,
    );
    const first = requests[0];
    if (first === undefined)
      throw new ClientError('usage.invalid', `no contact request from ${address} is waiting`, {
        check: 'contact request',
      });
    const masters = [...new Set(requests.map((r) => r.fromMaster))];
    if (masters.length > 1)
      throw new ClientError(
        'usage.invalid',
        `requests from ${masters.length} owners of ${first.from} wait (Master Profiles ${masters.join(', ')}): name the one you accept, as mmm:<fingerprint>:${first.from} or with --fingerprint`,
        { check: 'address owner', evidence: { address: first.from, masters } },
      );
    const existing = await getContact(this.catalog, first.from);
    if (existing !== undefined) refuseRepin(first.from, existing, first.fromMaster, pin.repin === true);
    const contact = await putContact(this.catalog, {
      address: first.from,
      master: first.fromMaster,
      trust: 'accepted',
      ...pickDetails(existing),
    });
    const sent = await sendInbound(this.account, first.sender, 'contact', { Response: 'accept' });
    await deleteInbound(this.account, requests);
    return { contact, sent };
  }

  /**
   * Rejects the contact request(s) of `address`: deleted, and a reject sent back (best effort:
   * `notified` false when the requester's portal refused it).
   */
  async rejectContact(address: string): Promise<{ deleted: number; notified: boolean }> {
    const requests = await this.requestsFrom(address);
    const deleted = await deleteInbound(this.account, requests);
    try {
      // A reject goes to an account this one does not allow: a stranger's contact item at the source.
      const level = await contactProofOfWorkLevel(this.account);
      await sendInbound(this.account, requests[0]!.sender, 'contact', { Response: 'reject' }, level);
      return { deleted, notified: true };
    } catch (error) {
      if (isClientError(error, 'portal.refused')) return { deleted, notified: false };
      throw error;
    }
  }

  /**
   * Blocks `address` (any owner of it): its contact becomes Trust `blocked`, Access `block`, and what
   * it has waiting is deleted. The portals refuse its items from then on (`inbound.blocked`).
   */
  async blockContact(address: string): Promise<{ contact: Contact; deleted: number }> {
    const who = this.other(address);
    const { items } = await this.receive();
    const theirs = items.filter((i) => i.from === who);
    const existing = await getContact(this.catalog, who);
    // A block names no Master Profile (every owner of the address); the contact's Master is only kept.
    const master =
      theirs[0]?.fromMaster ?? existing?.master ?? (await this.prover.owners(this.account, who))[0]!.master;
    const contact = await putContact(this.catalog, {
      address: who,
      master,
      trust: 'blocked',
      ...pickDetails(existing),
    });
    const deleted = await deleteInbound(this.account, theirs);
    return { contact, deleted };
  }

  // Messages, tasks, confirmations.

  /**
   * Sends `kind` with `content` to `address` (its profiles read with proof). To a contact: to the
   * Master Profile pinned in it, whoever else holds the address now (`usage.invalid` for a blocked
   * contact, or for a fingerprint that is not the pinned one: `contact add --repin` first). To
   * another address: to its one owner, or to the Master Profile named (pin()).
   */
  async send(
    address: string,
    kind: 'message' | 'task' | 'confirm',
    content: Record<string, string>,
    pin: Pick<PinOptions, 'fingerprint'> = {},
  ): Promise<SentItem> {
    const { to } = await this.pin(address, { ...pin, repin: false }, true);
    return sendInbound(this.account, to, kind, content);
  }

  /** The accepted items of `kind` (every kind when absent), oldest first. */
  async list(kind?: InboundKind): Promise<Received> {
    const { items, refused } = await this.receive();
    return { items: kind === undefined ? items : items.filter((i) => i.kind === kind), refused };
  }

  /** The accepted item `id` (of `kind` when given); `usage.invalid` when there is none (or it was refused). */
  async item(id: string, kind?: InboundKind): Promise<InboundItem> {
    const { items, refused } = await this.receive();
    const found = items.find((i) => i.id === id && (kind === undefined || i.kind === kind));
    if (found !== undefined) return found;
    const why = refused.find((r) => r.id === id);
    throw new ClientError(
      'usage.invalid',
      why === undefined
        ? `no ${kind ?? 'item'} ${id} is waiting`
        : `item ${id} was refused: ${why.code} (${why.reason})`,
      { check: 'inbound item' },
    );
  }

  /** Answers confirmation request `id` with a signed `answer` item, then deletes the request. */
  async answer(id: string, answer: 'yes' | 'no'): Promise<SentItem> {
    const request = await this.item(id, 'confirm');
    const sent = await sendInbound(this.account, request.sender, 'answer', {
      Ref: envelopeDigest(request.envelope),
      Answer: answer,
    });
    await deleteInbound(this.account, [request]);
    return sent;
  }

  /**
   * The status of confirmation request `id` this device sent: its verified answer once one came —
   * an `answer` item whose Ref is `id`, from the address it was sent to, of the Master Profile proven
   * then, signed by one of that account's devices. The answer is kept with the request and deleted
   * from the spool. `usage.invalid` for an id this device did not send as a confirmation request.
   */
  async confirmationStatus(id: string): Promise<ConfirmationStatus> {
    const request = await sentItem(this.account, id);
    if (request?.kind !== 'confirm')
      throw new ClientError('usage.invalid', `this device sent no confirmation request ${id}`, {
        check: 'confirmation request',
      });
    if (request.answer !== undefined) return { request, answer: request.answer };
    const { items } = await this.receive();
    const answers = items.filter(
      (i) =>
        i.kind === 'answer' &&
        i.content['Ref'] === request.digest &&
        i.from === request.to &&
        i.fromMaster === request.toMaster,
    );
    const first = answers[0];
    if (first === undefined) return { request };
    const answer = {
      answer: first.content['Answer'] as 'yes' | 'no',
      device: first.device,
      created: first.created,
    };
    await rememberSent(this.account, { ...request, answer });
    await deleteInbound(this.account, answers);
    return { request: { ...request, answer }, answer };
  }

  /** Every item, verified, with contact answers applied to the catalog (and deleted). */
  private async receive(): Promise<Received> {
    const rules = await this.catalog.contactRules();
    const got = await receiveInbound(this.account, rules, { prover: this.prover });
    const items: InboundItem[] = [];
    const applied: InboundItem[] = [];
    for (const item of got.items) {
      if (item.kind === 'contact' && item.content['Response'] !== 'request') {
        await this.applyResponse(item);
        applied.push(item);
      } else items.push(item);
    }
    if (applied.length > 0) await deleteInbound(this.account, applied);
    return { items, refused: got.refused };
  }

  /**
   * A contact's answer to this account's request: accept makes it `accepted`, pinned to the Master
   * Profile the answer proved; reject removes the requested contact. An answer to no pending request
   * of this account, or from another owner of the address than the one requested, changes nothing.
   */
  private async applyResponse(item: InboundItem): Promise<void> {
    const contact = await getContact(this.catalog, item.from);
    if (contact?.trust !== 'requested' || contact.master !== item.fromMaster) return;
    if (item.content['Response'] === 'accept')
      await putContact(this.catalog, {
        address: item.from,
        master: item.fromMaster,
        trust: 'accepted',
        ...pickDetails(contact),
      });
    else await removeContact(this.catalog, item.from);
  }

  private async requestsFrom(address: string): Promise<InboundItem[]> {
    const who = this.other(address);
    const { items } = await this.receive();
    const requests = items.filter((i) => isRequest(i) && i.from === who);
    if (requests.length === 0)
      throw new ClientError('usage.invalid', `no contact request from ${who} is waiting`, {
        check: 'contact request',
      });
    return requests;
  }

  /**
   * The account `text` names (`ADDRESS` or `mmm:<fingerprint>:ADDRESS`), proven from the logs, and
   * its contact if there is one. Which Master Profile (docs/design/client.md "Contacts"):
   *  - the one named (fingerprint), else
   *  - the contact's pinned one (unless `repin`), else
   *  - the address's one owner as the query service lists them (`soleOwner`: `usage.invalid` when
   *    owners with different Master Profiles hold the address — a squatter at another member).
   * A contact pinned to another Master Profile than the one chosen is refused (`usage.invalid`, both
   * fingerprints in the message) unless `repin`: an address's new owner never inherits a contact.
   * `sending`: a blocked contact is refused (`usage.invalid`) before anything is read.
   */
  private async pin(
    text: string,
    options: PinOptions,
    sending = false,
  ): Promise<{ to: VerifiedAccount; existing: Contact | undefined }> {
    const named = recipientName(text, options.fingerprint);
    const who = this.other(named.address);
    const repin = options.repin === true;
    const existing = await getContact(this.catalog, who);
    if (sending && existing?.trust === 'blocked')
      throw new ClientError('usage.invalid', `${who} is a blocked contact: nothing is sent to it`, {
        check: 'contact',
      });
    const master =
      named.master ??
      (existing !== undefined && !repin
        ? existing.master
        : soleOwner(who, await this.prover.owners(this.account, who)));
    if (existing !== undefined) refuseRepin(who, existing, master, repin);
    return { to: await this.prover.verifiedAccount(this.account, who, master), existing };
  }

  /** `address` normalised; `usage.invalid` for a bad one or this account's own. */
  private other(address: string): string {
    const who = contactAddress(address);
    if (who === this.account.doc.account)
      throw new ClientError('usage.invalid', `${who} is this account`, { check: 'address' });
    return who;
  }
}
