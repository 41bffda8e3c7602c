import type { Command } from 'commander';
import { loadTrust, saveTrust } from '@cryptomesh/client';
import { KEY_TYPE_COSIGNATURE_V1, isLogError, parseVerifierKey } from '@cryptomesh/log';
import { CliUsageError } from '../cli-io';
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
        const {
          portal: home,
          closed,
          catalogs,
        } = await context.manager().switchPortal({
          gatewayUrl,
          ...(queryUrl === undefined ? {} : { queryUrl }),
        });
        context.result({ portal: home, oldAccountClosed: closed, catalogs }, [
          `home portal is now ${home.id} (${home.gatewayUrl}, query ${home.queryUrl})`,
          closed
            ? 'the account at the old portal is closed (MoveAccount)'
            : 'the account at the old portal is NOT closed (unreachable, or this device is no administrator): switch again from an administrator to close it',
          catalogs.carried
            ? `catalogs carried to the new portal: ${catalogs.objects} object(s), ${catalogs.tombstones} deletion(s)`
            : `the catalogs could NOT be read at the old portal (unreachable, or the account moved already): ${
                catalogs.lost === 0
                  ? 'the new portal lists every object this device saw'
                  : `${catalogs.lost} object(s) this device saw are not at the new portal and are LOST`
              }${catalogs.keyRestored ? '; the catalog key this device keeps was written there' : ''}`,
        ]);
      }),
    );

  portal
    .command('require-witness')
    .description(
      'pin an outside C2SP tlog-witness: every checkpoint this client accepts must carry its cosignature',
    )
    .argument('<key>', "the witness's verifier key (signed-note type 0x04)")
    .action(
      context.action(async (key: string) => {
        let name: string;
        try {
          const parsed = parseVerifierKey(key);
          if (parsed.type !== KEY_TYPE_COSIGNATURE_V1)
            throw new CliUsageError('<key> must be a witness (type 0x04) key');
          name = parsed.name;
        } catch (error) {
          if (isLogError(error)) throw new CliUsageError(`<key> is not a verifier key: ${error.message}`);
          throw error;
        }
        const store = context.store();
        const trust = await loadTrust(store);
        if (trust === undefined)
          throw new CliUsageError(
            'no portal is pinned yet: create or connect an account first',
            1,
            'usage.no-trust',
          );
        const requiredWitnesses = [...new Set([...(trust.requiredWitnesses ?? []), key])];
        await saveTrust(store, { ...trust, requiredWitnesses });
        context.result({ requiredWitnesses }, [
          `every checkpoint must now be cosigned by ${name} (${requiredWitnesses.length} required witness${requiredWitnesses.length > 1 ? 'es' : ''})`,
        ]);
      }),
    );
}
