import type { Command } from 'commander';
import type { InboundItem } from '@cryptomesh/client';
import type { InboundKind } from '@cryptomesh/mesh';
import { CliUsageError } from '../cli-io';
import type { ClientCommandContext } from './client.commands';
import {
  ADDRESS_HELP,
  FINGERPRINT_HELP,
  itemJson,
  openInbound,
  reportRefused,
  sentJson,
} from './contact.command';

const ID = /^[A-Za-z0-9_-]{22}$/;

/** A member of a verified item's content as text (the content's shape was checked on receipt). */
export const textOf = (value: unknown): string => (typeof value === 'string' ? value : '');

function itemId(id: string): string {
  if (!ID.test(id))
    throw new CliUsageError(`${JSON.stringify(id)} is not an item id (22 base64url characters)`);
  return id;
}

/** A date or date-time option, kept as the ISO 8601 text given. */
function when(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (
    !/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ||
    Number.isNaN(Date.parse(value))
  )
    throw new CliUsageError(`${name} must be an ISO 8601 date or date-time, got ${JSON.stringify(value)}`);
  return value;
}

function summary(item: InboundItem): string {
  const c = item.content;
  const text = item.kind === 'task' ? textOf(c['Title']) : textOf(c['Text']);
  const first = text.split('\n')[0] ?? '';
  return `${item.id}  ${new Date(item.created).toISOString()}  ${item.from}  ${first.slice(0, 80)}`;
}

function details(item: InboundItem): string[] {
  const c = item.content;
  return [
    `id       ${item.id}`,
    `kind     ${item.kind}`,
    `from     ${item.from} (master ${item.fromMaster}, device ${item.device})`,
    `created  ${new Date(item.created).toISOString()}`,
    ...(item.kind === 'task'
      ? [
          `title    ${textOf(c['Title'])}`,
          ...(c['Start'] === undefined ? [] : [`start    ${textOf(c['Start'])}`]),
          ...(c['End'] === undefined ? [] : [`end      ${textOf(c['End'])}`]),
        ]
      : []),
    ...(c['Text'] === undefined ? [] : ['', textOf(c['Text'])]),
  ];
}

/** `list` and `read ID` of one kind, shared by `mesh message|task|confirm`. */
function listing(group: Command, context: ClientCommandContext, kind: InboundKind, what: string): void {
  group
    .command(kind === 'confirm' ? 'pending' : 'list')
    .description(`the ${what}s waiting for you (verified, from your contacts)`)
    .action(
      context.action(async () => {
        const { items, refused } = await (await openInbound(context)).list(kind);
        reportRefused(context, refused);
        context.result(
          { items: items.map(itemJson), refused },
          items.length === 0 ? [`no ${what}`] : items.map(summary),
        );
      }),
    );
  group
    .command('read')
    .description(`show one ${what}`)
    .argument('<id>', 'its id, as the list shows it')
    .action(
      context.action(async (id: string) => {
        const wanted = itemId(id);
        const item = await (await openInbound(context)).item(wanted, kind);
        context.result({ item: itemJson(item) }, details(item));
      }),
    );
}

/**
 * `mesh message send ADDRESS TEXT | list | read ID`, `mesh task send ADDRESS TITLE [--start T] [--end
 * T] | list | read ID`, `mesh confirm request ADDRESS TEXT | pending | read ID | answer ID yes|no |
 * status ID` (issue #20; docs/design/inbound.md): items to and from contacts, each encrypted to the
 * recipient's devices and signed by the sender's, verified on receipt against the sender's profiles
 * read with proof.
 */
export function registerMessageCommands(program: Command, context: ClientCommandContext): void {
  const message = program.command('message').description('messages to and from your contacts');
  message
    .command('send')
    .description('send a message to a contact')
    .argument('<address>', ADDRESS_HELP)
    .argument('<text>', 'the message')
    .option('--fingerprint <fingerprint>', FINGERPRINT_HELP)
    .action(
      context.action(async (address: string, text: string, options: { fingerprint?: string }) => {
        const inbound = await openInbound(context);
        context.progress(`reading ${address}'s profiles with proof …`);
        const sent = await inbound.send(address, 'message', { Text: text }, options);
        context.result({ sent: sentJson(sent) }, [
          `sent message ${sent.id} to ${sent.to} (${sent.delivery})`,
        ]);
      }),
    );
  listing(message, context, 'message', 'message');

  const task = program.command('task').description('tasks to and from your contacts');
  task
    .command('send')
    .description('send a task to a contact')
    .argument('<address>', ADDRESS_HELP)
    .argument('<title>', 'the task')
    .option('--fingerprint <fingerprint>', FINGERPRINT_HELP)
    .option('--start <time>', 'when it starts (ISO 8601)')
    .option('--end <time>', 'when it is due (ISO 8601)')
    .option('--text <text>', 'a longer description')
    .action(
      context.action(
        async (
          address: string,
          title: string,
          options: { start?: string; end?: string; text?: string; fingerprint?: string },
        ) => {
          if (title === '') throw new CliUsageError('the title must not be empty');
          const start = when('--start', options.start);
          const end = when('--end', options.end);
          const inbound = await openInbound(context);
          const sent = await inbound.send(
            address,
            'task',
            {
              Title: title,
              ...(start === undefined ? {} : { Start: start }),
              ...(end === undefined ? {} : { End: end }),
              ...(options.text === undefined ? {} : { Text: options.text }),
            },
            options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint },
          );
          context.result({ sent: sentJson(sent) }, [`sent task ${sent.id} to ${sent.to} (${sent.delivery})`]);
        },
      ),
    );
  listing(task, context, 'task', 'task');

  const confirm = program.command('confirm').description('confirmation requests and their signed answers');
  confirm
    .command('request')
    .description('ask a contact to confirm something (yes or no)')
    .argument('<address>', ADDRESS_HELP)
    .argument('<text>', 'what to confirm')
    .option('--fingerprint <fingerprint>', FINGERPRINT_HELP)
    .action(
      context.action(async (address: string, text: string, options: { fingerprint?: string }) => {
        const sent = await (await openInbound(context)).send(address, 'confirm', { Text: text }, options);
        context.result({ sent: sentJson(sent) }, [
          `sent confirmation request ${sent.id} to ${sent.to}: see \`mesh confirm status ${sent.id}\``,
        ]);
      }),
    );
  listing(confirm, context, 'confirm', 'confirmation request');
  confirm
    .command('answer')
    .description('answer a confirmation request (the answer is signed by this device)')
    .argument('<id>', 'the request id, as `mesh confirm pending` shows it')
    .argument('<answer>', 'yes or no')
    .action(
      context.action(async (id: string, answer: string) => {
        if (answer !== 'yes' && answer !== 'no')
          throw new CliUsageError(`the answer is yes or no, got ${JSON.stringify(answer)}`);
        const wanted = itemId(id);
        const sent = await (await openInbound(context)).answer(wanted, answer);
        context.result({ sent: sentJson(sent), ref: id, answer }, [`answered ${id}: ${answer}`]);
      }),
    );
  confirm
    .command('status')
    .description('the verified answer to a confirmation request you sent')
    .argument('<id>', 'the request id, as `mesh confirm request` printed it')
    .action(
      context.action(async (id: string) => {
        const wanted = itemId(id);
        const status = await (await openInbound(context)).confirmationStatus(wanted);
        const { request, answer } = status;
        context.result(
          {
            id,
            to: request.to,
            text: request.content['Text'],
            status: answer === undefined ? 'pending' : 'answered',
            ...(answer === undefined
              ? {}
              : { answer: answer.answer, device: answer.device, answered: answer.created }),
          },
          [
            answer === undefined
              ? `${id} to ${request.to}: no answer yet`
              : `${id} to ${request.to}: ${answer.answer} (signed by device ${answer.device} at ${new Date(answer.created).toISOString()})`,
          ],
        );
      }),
    );
}
