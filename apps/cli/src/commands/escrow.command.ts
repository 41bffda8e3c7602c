import type { Command } from 'commander';
import { createEscrow, recoverEscrow } from '@cryptomesh/client';
import { CliUsageError } from '../cli-io';
import { urlOption, type ClientCommandContext } from './client.commands';

interface CreateOptions {
  readonly threshold: string;
  readonly shares: string;
}

interface RecoverOptions {
  readonly portal: string;
  readonly account?: string;
  readonly query?: string;
  readonly description?: string;
}

/** A share as printed: a type-144 share UDF (UDF draft §4.5), `S` then base32 groups. */
const SHARE = /^S[A-Z2-7]{3}(-[A-Z2-7]{1,4})+$/i;

/**
 * `mesh escrow create --threshold K --shares N` (offline escrow, 002 §2.1.1): the master keys
 * encrypted under a random key stored at the portal under its UDF, the key split into N type-144
 * shares printed one per line for paper, any K of which recover the profile.
 * `mesh escrow recover SHARE… --portal URL [--account ADDRESS]`: rebuilds the profile on a fresh home.
 */
export function registerEscrowCommands(program: Command, context: ClientCommandContext): void {
  const escrow = program.command('escrow').description('offline escrow of the master keys, and recovery');

  escrow
    .command('create')
    .description('escrow the master keys at the portal and print N shares, any K of which recover them')
    .requiredOption('--threshold <k>', 'shares needed to recover (2–15)')
    .requiredOption('--shares <n>', 'shares to print (K–16)')
    .action(
      context.action(async (options: CreateOptions) => {
        const threshold = context.count('--threshold', options.threshold, 2, 15);
        const shares = context.count('--shares', options.shares, 2, 16);
        if (shares < threshold)
          throw new CliUsageError(`--shares (${shares}) must be at least --threshold (${threshold})`);
        context.progress('storing the escrow at the portal …');
        const made = await createEscrow(context.manager(), { threshold, shares });
        context.result(
          { key: made.key, threshold: made.threshold, shares: made.shares, deviceId: made.deviceId },
          made.shares,
        );
        context.io.stderr(
          `print these ${made.shares.length} shares on paper and keep them apart: any ${made.threshold} recover the profile (mesh escrow recover)`,
        );
      }),
    );

  escrow
    .command('recover')
    .description('rebuild the profile on this fresh home from K shares')
    .argument('<share...>', 'share UDFs (S…), as `mesh escrow create` printed them')
    .requiredOption('--portal <url>', 'the home portal or any member of its federation (gateway URL)')
    .option('--account <address>', 'the account the shares must escrow')
    .option('--query <url>', "the portal's query service (default: what the portal announces)")
    .option('--description <text>', 'what this device is called')
    .action(
      context.action(async (shares: string[], options: RecoverOptions) => {
        const malformed = shares.find((share) => !SHARE.test(share));
        if (malformed !== undefined)
          throw new CliUsageError(`${JSON.stringify(malformed)} is not a share (S…-…)`);
        const gatewayUrl = urlOption('--portal', options.portal);
        const queryUrl = options.query === undefined ? undefined : urlOption('--query', options.query);
        context.progress(`contacting portal ${gatewayUrl} …`);
        const recovered = await recoverEscrow(context.manager(), shares, {
          gatewayUrl,
          ...(queryUrl === undefined ? {} : { queryUrl }),
          ...(options.account === undefined ? {} : { account: options.account }),
          ...(options.description === undefined ? {} : { description: options.description }),
        });
        context.result(recovered, [
          `recovered the profile of ${recovered.account}`,
          `fingerprint ${recovered.fingerprint}`,
          `device      ${recovered.deviceId}`,
        ]);
      }),
    );
}
