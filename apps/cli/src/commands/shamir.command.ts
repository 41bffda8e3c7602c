import { Command } from 'commander';
import { fromHex, recoverSecret, splitSecret, toHex } from '@cryptomesh/crypto';
import { CliUsageError } from '../cli-io';
import type { CryptoCommandContext } from './crypto.commands';

/**
 * `mesh shamir split --threshold K --shares N SECRET-HEX`: prints N share UDFs, one per line
 * (draft-hallambaker-mesh-udf-13 §4.5). `mesh shamir recover SHARE…`: prints the secret in hex.
 */
export function registerShamirCommands(program: Command, context: CryptoCommandContext): void {
  const shamir = program
    .command('shamir')
    .description('split a secret into shares for offline escrow, and recover it');

  shamir
    .command('split')
    .description('split a secret (hex, a multiple of 32 bits) into N shares, any K of which recover it')
    .argument('<secret-hex>', 'the secret in hexadecimal')
    .requiredOption('--threshold <k>', 'shares needed to recover (2–15)')
    .requiredOption('--shares <n>', 'shares to print (K–16)')
    .action(
      context.action((secretHex: string, options: { threshold: string; shares: string }) => {
        const secret = fromHex(secretHex);
        if (secret === undefined)
          throw new CliUsageError('the secret must be hexadecimal with an even number of digits');
        const parameters = {
          threshold: context.count('--threshold', options.threshold),
          shares: context.count('--shares', options.shares),
        };
        for (const share of splitSecret(secret, parameters, context.random)) context.io.stdout(share);
      }),
    );

  shamir
    .command('recover')
    .description('recover a secret from at least K of its shares')
    .argument('<share...>', 'share UDFs (S…)')
    .action(
      context.action((shares: string[]) => {
        context.io.stdout(toHex(recoverSecret(shares)));
      }),
    );
}
