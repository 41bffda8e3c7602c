import type { Contact } from './catalog-contacts';
import { ClientError } from './client-error';
import type { InboundItem, RefusedItem } from './inbound-receive';
import type { SentItem } from './inbound-send';

/** The shapes MeshInbound (inbound.ts) answers with, and its small pure helpers. */

/** What a listing shows: the accepted items, and those this device refused (never shown). */
export interface Received {
  readonly items: InboundItem[];
  readonly refused: RefusedItem[];
}

/**
 * How a command names the Master Profile of the address it acts on (docs/design/client.md
 * "Contacts"): `fingerprint` (or an address written `mmm:<fingerprint>:<address>`) names it;
 * `repin` lets a contact pinned to another Master Profile be pinned to this one.
 */
export interface PinOptions {
  readonly fingerprint?: string;
  readonly repin?: boolean;
}

/** `mesh confirm status`: the request as sent, and the verified answer once one came. */
export interface ConfirmationStatus {
  readonly request: SentItem;
  readonly answer?: { readonly answer: 'yes' | 'no'; readonly device: string; readonly created: number };
}

/** `usage.invalid` when `contact` is pinned to another Master Profile than `master` and not `repin`. */
export function refuseRepin(address: string, contact: Contact, master: string, repin: boolean): void {
  if (contact.master === master || repin) return;
  throw new ClientError(
    'usage.invalid',
    `your contact ${address} is pinned to the Master Profile ${contact.master}, not ${master}: another owner of the address? Give --repin to pin ${master} instead`,
    { check: 'contact pin', evidence: { address, pinned: contact.master, offered: master } },
  );
}

export const isRequest = (i: InboundItem): boolean =>
  i.kind === 'contact' && i.content['Response'] === 'request';

export function pickDetails(contact: Contact | undefined): { name?: string; note?: string } {
  return {
    ...(contact?.name === undefined ? {} : { name: contact.name }),
    ...(contact?.note === undefined ? {} : { note: contact.note }),
  };
}
