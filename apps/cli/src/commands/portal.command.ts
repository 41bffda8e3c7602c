import type { Command } from 'commander';
import { urlOption, type ClientCommandContext } from './client.commands';

interface SwitchOptions {
  readonly query?: string;
}

/**
 * `mesh portal switch URL [--query URL]` (002 §7.8): re-registers this profile at another portal of
 * the federation and makes it home, without losing data — even when the old home portal is gone
 * (the profiles then come from this home's own copies).
 */
export function registerPortalCommands(program: Command, context: ClientCommandContext): void {
  const portal = program.command('portal').description('the home portal of this profile');

  portal
    .command('switch')
    .description('move this profile to another portal of the federation and make it home')
    .argument('<url>', "the new portal's gateway URL")
    .option('--query <url>', "the new portal's query service (default: what it announces)")
    .action(
      context.action(async (url: string, options: SwitchOptions) => {
        const gatewayUrl = urlOption('<url>', url);
        const queryUrl = options.query === undefined ? undefined : urlOption('--query', options.query);
        context.progress(`contacting portal ${gatewayUrl} …`);
        const { portal: home, closed } = await context.manager().switchPortal({
          gatewayUrl,
          ...(queryUrl === undefined ? {} : { queryUrl }),
        });
        context.result({ portal: home, oldAccountClosed: closed }, [
          `home portal is now ${home.id} (${home.gatewayUrl}, query ${home.queryUrl})`,
          closed
            ? 'the account at the old portal is closed (MoveAccount)'
            : 'the account at the old portal is NOT closed (unreachable, or this device is no administrator): switch again from an administrator to close it',
        ]);
      }),
    );
}
