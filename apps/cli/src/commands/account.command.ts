import type { Command } from 'commander';
import { CliUsageError } from '../cli-io';
import type { ClientCommandContext } from './client.commands';

interface DeleteOptions {
  readonly yes?: boolean;
}

/**
 * `mesh account delete --yes` (DeleteAccount, docs/PROTOCOL.md): deletes the account at its home
 * portal — logged, every profile of it ends, the address stays assigned there. An administrator
 * device only. Without `--yes` nothing is sent (exit 2): the deletion cannot be undone.
 */
export function registerAccountCommands(program: Command, context: ClientCommandContext): void {
  const account = program.command('account').description('the account of this profile at its home portal');

  account
    .command('delete')
    .description('delete the account at its home portal (cannot be undone; administrator devices only)')
    .option('--yes', 'confirm the deletion')
    .action(
      context.action(async (options: DeleteOptions) => {
        if (options.yes !== true)
          throw new CliUsageError('mesh account delete cannot be undone: confirm it with --yes');
        context.progress('deleting the account at its home portal …');
        const doc = await context.manager().deleteAccount();
        context.result({ deleted: doc.account, portal: doc.portal }, [
          `deleted account ${doc.account} at ${doc.portal.id}`,
        ]);
      }),
    );
}
