import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  agentKey,
  escrowAgents,
  nameEscrowAgent,
  openForRequest,
  parseConsentCode,
  readAgentPublicKey,
  removeEscrowAgent,
  requestRestore,
  restoreForRequest,
} from '@cryptomesh/client';
import { randomBytes } from 'node:crypto';
import { CliUsageError } from '../cli-io';
import { urlOption, type ClientCommandContext } from './client.commands';
import { untilLogged } from './profile.command';

/** A file the user named, or a usage error naming it. */
async function readNamed(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new CliUsageError(`cannot read ${what} ${file}: ${(cause as Error).message}`);
  }
}

async function readJsonFile(file: string, what: string): Promise<unknown> {
  const text = await readNamed(file, what);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliUsageError(`${what} ${file} is not JSON`);
  }
}

const UDF = /^[A-Z2-7]{4}(-[A-Z2-7]{4})+$/i;

/**
 * `mesh escrow online …` (issue #19 item 3; docs/design/client.md, docs/decisions.md "Online
 * escrow"): the Master Profile's escrow key. The user's side: `add AGENT-KEY-FILE` (prints the
 * consent code once), `list`, `remove [AGENT-UDF]`. The agent's side: `agent-key` (its X25519 key,
 * the public JWK to hand out) and `restore REQUEST-FILE --portal URL` (the package for a new device).
 * The new device's side: `request --account --fingerprint --code` (a restore request signed with the
 * consent code) and `open PACKAGE-FILE --portal URL` (the package checked against the agent the
 * account's Master Profile names, then the application data kept under restored/).
 */
export function registerEscrowOnlineCommands(escrow: Command, context: ClientCommandContext): void {
  const online = escrow
    .command('online')
    .description("online escrow: an escrow agent's key in the Master Profile (000 §6.5.2)");

  online
    .command('agent-key')
    .description("the escrow agent's key (drawn once in this home): print its public JWK to hand to users")
    .option('--out <file>', 'also write the public JWK to this file')
    .action(
      context.action(async (options: { out?: string }) => {
        const jwk = await agentKey(context.store());
        if (options.out !== undefined) await writeFile(options.out, `${JSON.stringify(jwk, null, 2)}\n`);
        context.result({ agent: jwk.kid, key: jwk }, [JSON.stringify(jwk)]);
      }),
    );

  online
    .command('add')
    .description('name an escrow agent (its public JWK file): applications are then encrypted to it too')
    .argument('<agent-key-file>', "the agent's public X25519 JWK, as `mesh escrow online agent-key` wrote it")
    .action(
      context.action(async (file: string) => {
        const agent = readAgentPublicKey(await readJsonFile(file, 'agent key'));
        context.progress('publishing the Master Profile and re-encrypting the applications …');
        const named = await nameEscrowAgent(context.manager(), agent);
        context.result({ ...named }, [
          `escrow agent ${named.agent}`,
          `account      ${named.account}`,
          `fingerprint  ${named.fingerprint}`,
          `consent code ${named.code}`,
        ]);
        context.io.stderr(
          'write the consent code, the account and the fingerprint on paper: without them the agent restores nothing (mesh escrow online request)',
        );
      }),
    );

  online
    .command('list')
    .description("the account's escrow agent, as the Master Profile names it")
    .action(
      context.action(async () => {
        const agents = await escrowAgents(context.manager());
        context.result(
          { agents },
          agents.length === 0
            ? ['no escrow agent']
            : agents.map((a) => `escrow agent ${a.agent} (consent key ${a.consent})`),
        );
      }),
    );

  online
    .command('remove')
    .description('name no escrow agent any more: applications are re-encrypted without it')
    .argument('[agent-udf]', 'the agent to remove (checked against the one named)')
    .action(
      context.action(async (agent?: string) => {
        if (agent !== undefined && !UDF.test(agent))
          throw new CliUsageError(`${JSON.stringify(agent)} is not a key UDF`);
        const removed = await removeEscrowAgent(context.manager(), agent?.toUpperCase());
        context.result({ removed }, [`removed escrow agent ${removed}`]);
      }),
    );

  online
    .command('request')
    .description('on a new device: a restore request signed with the consent code, for the escrow agent')
    .requiredOption('--account <address>', 'the account to restore')
    .requiredOption('--fingerprint <udf>', 'its profile fingerprint, as `escrow online add` printed it')
    .requiredOption('--code <code>', 'the consent code, as `escrow online add` printed it')
    .option('--out <file>', 'write the request to this file (default: print it)')
    .action(
      context.action(
        async (options: { account: string; fingerprint: string; code: string; out?: string }) => {
          if (!UDF.test(options.fingerprint))
            throw new CliUsageError(`--fingerprint ${JSON.stringify(options.fingerprint)} is not a UDF`);
          const seed = parseConsentCode(options.code);
          const made = await requestRestore(
            context.store(),
            { account: options.account, fingerprint: options.fingerprint.toUpperCase(), seed },
            { now: context.now(), random: context.io.random ?? ((n) => new Uint8Array(randomBytes(n))) },
          );
          const text = JSON.stringify(made.request);
          if (options.out !== undefined) await writeFile(options.out, `${text}\n`);
          context.result({ request: made.request, deviceKey: made.deviceKey }, [text]);
        },
      ),
    );

  online
    .command('restore')
    .description("the escrow agent: check a restore request's consent and make the new device's package")
    .argument('<request-file>', 'the request `mesh escrow online request` wrote')
    .requiredOption('--portal <url>', "the account's portal (gateway URL)")
    .option('--query <url>', "the portal's query service (default: what the portal announces)")
    .option('--out <file>', 'write the package to this file (default: print it)')
    .action(
      context.action(async (file: string, options: { portal: string; query?: string; out?: string }) => {
        const request = await readJsonFile(file, 'restore request');
        const gatewayUrl = urlOption('--portal', options.portal);
        const queryUrl = options.query === undefined ? undefined : urlOption('--query', options.query);
        context.progress(`reading the account from the log at ${gatewayUrl} …`);
        const made = await untilLogged(context, () =>
          restoreForRequest(context.manager(), request, {
            gatewayUrl,
            ...(queryUrl === undefined ? {} : { queryUrl }),
            now: context.now(),
          }),
        );
        if (options.out !== undefined) await writeFile(options.out, `${made.package}\n`);
        context.result(made, [
          `restored ${made.applications.length} application(s) of ${made.account}: ${made.applications.join(', ') || 'none'}`,
          ...(made.unreadable.length === 0
            ? []
            : [`not encrypted to this agent: ${made.unreadable.join(', ')}`]),
          ...(options.out === undefined ? [made.package] : []),
        ]);
      }),
    );

  online
    .command('open')
    .description(
      "on the new device: check the agent's package against the account's Master Profile and keep its application data",
    )
    .argument('<package-file>', 'the package `mesh escrow online restore` wrote')
    .requiredOption(
      '--portal <url>',
      "the account's portal (gateway URL): the Master Profile names the agent",
    )
    .option('--query <url>', "the portal's query service (default: what the portal announces)")
    .action(
      context.action(async (file: string, options: { portal: string; query?: string }) => {
        const text = await readNamed(file, 'restore package');
        const gatewayUrl = urlOption('--portal', options.portal);
        const queryUrl = options.query === undefined ? undefined : urlOption('--query', options.query);
        context.progress(`reading the account's Master Profile from the log at ${gatewayUrl} …`);
        const opened = await openForRequest(context.manager(), text, {
          gatewayUrl,
          ...(queryUrl === undefined ? {} : { queryUrl }),
        });
        context.result(
          {
            account: opened.account,
            fingerprint: opened.fingerprint,
            agent: opened.agent,
            applications: opened.applications,
          },
          [
            `restored the application data of ${opened.account} (${opened.fingerprint}), made by escrow agent ${opened.agent}`,
            ...opened.applications.map((a) => `${a.type}/${a.name}: ${JSON.stringify(a.private ?? {})}`),
          ],
        );
      }),
    );
}
