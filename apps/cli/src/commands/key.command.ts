import { Command, Option } from 'commander';
import { fromUtf8, generateKeyPair, KeyAlgorithm, keyUdf, privateJwk, readJwk } from '@cryptomesh/crypto';
import { CliUsageError } from '../cli-io';
import type { CryptoCommandContext } from './crypto.commands';

const ALGORITHMS: Readonly<Record<string, KeyAlgorithm>> = {
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
};

/**
 * `mesh key generate --alg ALG`: prints a new private OKP JWK (RFC 8037), `kid` = its UDF, on one line.
 * `mesh key udf [--bits N] JWK-FILE`: prints the UDF of the key in a JWK file (public or private).
 */
export function registerKeyCommands(program: Command, context: CryptoCommandContext): void {
  const key = program.command('key').description('generate keys and compute their fingerprints');

  key
    .command('generate')
    .description('print a new private key as a JWK (keep it secret)')
    .addOption(
      new Option('--alg <alg>', 'key algorithm').choices(Object.keys(ALGORITHMS)).makeOptionMandatory(),
    )
    .action(
      context.action((options: { alg: string }) => {
        const algorithm = ALGORITHMS[options.alg] as KeyAlgorithm;
        context.io.stdout(JSON.stringify(privateJwk(generateKeyPair(algorithm, context.random))));
      }),
    );

  key
    .command('udf')
    .description("print the UDF of a key: SHA-2-512 over its SubjectPublicKeyInfo, Content-ID 'PKIXKey'")
    .argument('<jwk-file>', 'a file holding an OKP JWK, or - for standard input')
    .option('--bits <n>', 'precision in bits: a multiple of 20 from 100 to 520', '140')
    .action(
      context.action(async (file: string, options: { bits: string }) => {
        const text = fromUtf8(await context.readInput(file));
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new CliUsageError(`${file} does not hold JSON`);
        }
        const { algorithm, publicKey } = readJwk(json);
        context.io.stdout(keyUdf(algorithm, publicKey, { bits: context.count('--bits', options.bits) }));
      }),
    );
}
