import { Command, Option } from 'commander';
import { authenticatorUdf, contentDigestUdf, DigestAlgorithm } from '@cryptomesh/crypto';
import type { CryptoCommandContext } from './crypto.commands';

const ALGORITHMS: Readonly<Record<string, DigestAlgorithm>> = { sha2: 'SHA-2-512', sha3: 'SHA-3-512' };

interface UdfOptions {
  readonly alg: string;
  readonly bits: string;
  readonly contentType: string;
  readonly key?: string;
}

/**
 * `mesh udf [--alg sha2|sha3] [--bits N] [--key KEY] --content-type TYPE [FILE|-]`: prints the content
 * digest UDF of the file (draft-hallambaker-mesh-udf-13 §5.1), or with --key its authenticator UDF (§5.2).
 */
export function registerUdfCommand(program: Command, context: CryptoCommandContext): void {
  program
    .command('udf')
    .description('print the UDF fingerprint of FILE (default: standard input)')
    .argument('[file]', 'the content, or - for standard input', '-')
    .requiredOption('--content-type <type>', 'the Content-ID bound into the fingerprint, e.g. text/plain')
    .addOption(new Option('--alg <alg>', 'digest algorithm').choices(Object.keys(ALGORITHMS)).default('sha2'))
    .option('--bits <n>', 'precision in bits: a multiple of 20 from 100 to 520', '140')
    .option('--key <key>', 'print the authenticator UDF keyed with this string instead (§5.2)')
    .action(
      context.action(async (file: string, options: UdfOptions) => {
        const fingerprint = {
          algorithm: ALGORITHMS[options.alg],
          bits: context.count('--bits', options.bits),
        };
        const data = await context.readInput(file);
        context.io.stdout(
          options.key === undefined
            ? contentDigestUdf(data, options.contentType, fingerprint)
            : authenticatorUdf(options.key, data, options.contentType, fingerprint),
        );
      }),
    );
}
