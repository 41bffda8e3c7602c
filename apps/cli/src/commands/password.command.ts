import type { Command } from 'commander';
import { PasswordApp, type PasswordEntry } from '@cryptomesh/client';
import { CliUsageError } from '../cli-io';
import type { ClientCommandContext } from './client.commands';

interface AddOptions {
  readonly username: string;
  readonly password?: string;
}

/**
 * `mesh password add SITE --username U [--password P] | get SITE | list | remove SITE`: the password
 * manager (002 §4.4), an Application Profile whose entries are a JWE to every device of the profile.
 * Without `--password`, `add` reads one line from standard input (prompted for on a terminal), so
 * that the password need not appear in the shell's history or the process list.
 */
export function registerPasswordCommands(program: Command, context: ClientCommandContext): void {
  const password = program.command('password').description('the password manager shared by your devices');
  const app = () => new PasswordApp(context.manager(), { now: () => context.now() });

  password
    .command('add')
    .description('store (or replace) the password of a site')
    .argument('<site>', 'the site, e.g. example.com')
    .requiredOption('--username <name>', 'the user name at the site')
    .option('--password <password>', 'the password (default: one line read from standard input)')
    .action(
      context.action(async (site: string, options: AddOptions) => {
        if (options.username === '') throw new CliUsageError('--username must not be empty');
        const secret = options.password ?? (await readPassword(context, site));
        if (secret === '') throw new CliUsageError('the password must not be empty');
        context.progress(`storing the password of ${site} at the portal …`);
        const entry = await app().add(site, { username: options.username, password: secret });
        context.result(entryJson(entry, false), [
          `stored the password of ${entry.sites.join(', ')} for ${entry.username}`,
        ]);
      }),
    );

  password
    .command('get')
    .description('print the user name and password of a site')
    .argument('<site>', 'the site')
    .action(
      context.action(async (site: string) => {
        context.progress(`reading the password application from the portal …`);
        const entry = await app().get(site);
        context.result(entryJson(entry, true), [
          `site     ${entry.sites.join(', ')}`,
          `username ${entry.username}`,
          `password ${entry.password}`,
        ]);
      }),
    );

  password
    .command('list')
    .description('list the sites and user names (not the passwords)')
    .action(
      context.action(async () => {
        context.progress(`reading the password application from the portal …`);
        const entries = await app().list();
        context.result(
          { entries: entries.map((e) => entryJson(e, false)) },
          entries.length === 0
            ? ['no password is stored']
            : entries.map((e) => `${e.sites.join(', ')}  ${e.username}`),
        );
      }),
    );

  password
    .command('remove')
    .description('remove the password of a site')
    .argument('<site>', 'the site')
    .action(
      context.action(async (site: string) => {
        context.progress(`removing the password of ${site} at the portal …`);
        await app().remove(site);
        context.result({ removed: site }, [`removed the password of ${site}`]);
      }),
    );
}

function entryJson(entry: PasswordEntry, withPassword: boolean): Record<string, unknown> {
  return {
    site: entry.sites[0],
    sites: entry.sites,
    username: entry.username,
    ...(withPassword ? { password: entry.password } : {}),
    updated: entry.updated,
  };
}

/** One line of standard input (prompted for on a terminal); a usage error at the end of input. */
async function readPassword(context: ClientCommandContext, site: string): Promise<string> {
  const prompt = `password for ${site}: `;
  let line: string | undefined;
  if (context.io.readLine !== undefined) line = await context.io.readLine(prompt);
  else {
    const text = new TextDecoder().decode(await context.io.readStdin());
    line = text === '' ? undefined : text.split(/\r?\n/)[0];
  }
  if (line === undefined) throw new CliUsageError('no --password given and standard input is empty');
  return line;
}
