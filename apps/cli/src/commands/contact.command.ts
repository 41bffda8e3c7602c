import type { Command } from 'commander';
import {
  MeshInbound,
  type Contact,
  type InboundItem,
  type RefusedItem,
  type SentItem,
} from '@cryptomesh/client';
import type { ClientCommandContext } from './client.commands';

/** The address argument of the inbound commands. */
export const ADDRESS_HELP =
  'the account address, user@domain, or mmm:<fingerprint>:user@domain to name its Master Profile';
export const FINGERPRINT_HELP =
  "the Master Profile's fingerprint, when owners at several portals hold the address (as `mesh profile` shows it)";
const REPIN_HELP = 'pin this Master Profile even though the contact is pinned to another one';

/** How an accepted inbound item prints under `--json` (the sender's profiles are not repeated). */
export function itemJson(item: InboundItem): Record<string, unknown> {
  return {
    id: item.id,
    kind: item.kind,
    from: item.from,
    fromMaster: item.fromMaster,
    device: item.device,
    created: item.created,
    received: item.received,
    portal: item.portal,
    stranger: item.stranger,
    content: item.content,
  };
}

export function sentJson(sent: SentItem): Record<string, unknown> {
  return {
    id: sent.id,
    kind: sent.kind,
    to: sent.to,
    toMaster: sent.toMaster,
    delivery: sent.delivery,
    portal: sent.portal,
    created: sent.created,
  };
}

export function contactJson(contact: Contact): Record<string, unknown> {
  return { ...contact };
}

/** One line per refused item (stderr): a portal let through what this device does not accept. */
export function reportRefused(context: ClientCommandContext, refused: readonly RefusedItem[]): void {
  for (const r of refused)
    context.progress(
      `refused item ${r.id}${r.from === undefined ? '' : ` from ${r.from}`}: ${r.code} (${r.reason})`,
    );
}

/** The inbound services of this home's account, its profiles verified through the log first. */
export async function openInbound(context: ClientCommandContext): Promise<MeshInbound> {
  context.progress('reading the account from the portal and verifying it in the log …');
  return MeshInbound.open(context.manager());
}

interface PinFlags {
  fingerprint?: string;
  repin?: boolean;
}

function contactLine(c: Contact): string {
  const name = c.name === undefined ? '' : ` (${c.name})`;
  return `${c.address}${name}  ${c.trust}  master ${c.master}`;
}

/**
 * `mesh contact add ADDRESS | list | remove ADDRESS | request ADDRESS [TEXT] | pending | accept
 * ADDRESS | reject ADDRESS | block ADDRESS` (issue #20; docs/design/inbound.md): the contact catalog,
 * whose allow and block rules the portals and this device decide inbound items by. `request` adds the
 * contact (allow, Trust requested) and sends a contact request with proof of work; `accept` adds it
 * (allow, pinned to the Master Profile the request proved) and answers; an accept that comes back
 * makes a requested contact `accepted`.
 */
export function registerContactCommands(program: Command, context: ClientCommandContext): void {
  const contact = program
    .command('contact')
    .description('your contacts: who may send you messages, tasks and requests');

  contact
    .command('add')
    .description('add an account as a contact (its Master Profile read with proof and pinned)')
    .argument('<address>', ADDRESS_HELP)
    .option('--name <name>', 'a name for it (encrypted, only your devices read it)')
    .option('--note <note>', 'a note (encrypted)')
    .option('--fingerprint <fingerprint>', FINGERPRINT_HELP)
    .option('--repin', REPIN_HELP)
    .action(
      context.action(
        async (
          address: string,
          options: { name?: string; note?: string; fingerprint?: string; repin?: boolean },
        ) => {
          const inbound = await openInbound(context);
          context.progress(`reading ${address}'s profiles with proof …`);
          const added = await inbound.addContact(address, options);
          context.result({ contact: contactJson(added) }, [`added ${contactLine(added)}`]);
        },
      ),
    );

  contact
    .command('list')
    .description('list your contacts')
    .action(
      context.action(async () => {
        const inbound = await openInbound(context);
        const contacts = await inbound.contacts();
        context.result(
          { contacts: contacts.map(contactJson) },
          contacts.length === 0 ? ['no contact'] : contacts.map(contactLine),
        );
      }),
    );

  contact
    .command('remove')
    .description('remove a contact')
    .argument('<address>', 'the account address')
    .action(
      context.action(async (address: string) => {
        const removed = await (await openInbound(context)).removeContact(address);
        context.result({ removed, address }, [removed ? `removed ${address}` : `${address} is no contact`]);
      }),
    );

  contact
    .command('request')
    .description('ask an account to become your contact (a contact request, with proof of work)')
    .argument('<address>', ADDRESS_HELP)
    .argument('[text]', 'a short text for the request')
    .option('--fingerprint <fingerprint>', FINGERPRINT_HELP)
    .option('--repin', REPIN_HELP)
    .action(
      context.action(async (address: string, text: string | undefined, options: PinFlags) => {
        const inbound = await openInbound(context);
        context.progress(`reading ${address}'s profiles with proof and solving the proof of work …`);
        const { contact: added, sent } = await inbound.requestContact(address, text, options);
        context.result({ contact: contactJson(added), sent: sentJson(sent) }, [
          `sent contact request ${sent.id} to ${sent.to} (${sent.delivery} to ${sent.portal})`,
        ]);
      }),
    );

  contact
    .command('pending')
    .description('the contact requests waiting for you (verified)')
    .action(
      context.action(async () => {
        const { items, refused } = await (await openInbound(context)).pendingContacts();
        reportRefused(context, refused);
        context.result(
          { requests: items.map(itemJson), refused },
          items.length === 0
            ? ['no contact request']
            : items.map(
                (i) =>
                  `${i.id}  ${i.from}  ${typeof i.content['Text'] === 'string' ? i.content['Text'] : ''}`,
              ),
        );
      }),
    );

  contact
    .command('accept')
    .description("accept an account's contact request")
    .argument('<address>', ADDRESS_HELP)
    .option('--fingerprint <fingerprint>', FINGERPRINT_HELP)
    .option('--repin', REPIN_HELP)
    .action(
      context.action(async (address: string, options: PinFlags) => {
        const { contact: added, sent } = await (await openInbound(context)).acceptContact(address, options);
        context.result({ contact: contactJson(added), sent: sentJson(sent) }, [
          `accepted ${contactLine(added)}`,
        ]);
      }),
    );

  contact
    .command('reject')
    .description("reject an account's contact request")
    .argument('<address>', 'the account address')
    .action(
      context.action(async (address: string) => {
        const rejected = await (await openInbound(context)).rejectContact(address);
        context.result({ address, ...rejected }, [
          `rejected ${address}${rejected.notified ? '' : ' (its portal refused the answer)'}`,
        ]);
      }),
    );

  contact
    .command('block')
    .description('block an account: the portals refuse whatever it sends you')
    .argument('<address>', 'the account address')
    .action(
      context.action(async (address: string) => {
        const { contact: blocked, deleted } = await (await openInbound(context)).blockContact(address);
        context.result({ contact: contactJson(blocked), deleted }, [`blocked ${blocked.address}`]);
      }),
    );
}
