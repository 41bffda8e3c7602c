import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { defaultRandom, isCryptoError, RandomSource } from '@cryptomesh/crypto';
import { CliIo, CliUsageError } from '../cli-io';
import { registerKeyCommands } from './key.command';
import { registerShamirCommands } from './shamir.command';
import { registerUdfCommand } from './udf.command';

/** What the crypto commands share: the streams, the random source, and the error convention. */
export interface CryptoCommandContext {
  readonly io: CliIo;
  readonly random: RandomSource;
  /** The bytes of FILE, or of standard input when FILE is '-'. A file that cannot be read is a usage error. */
  readInput(file: string): Promise<Uint8Array>;
  /**
   * Wraps a command's action: a CryptoError becomes a CliUsageError (exit 2) whose message ends with the
   * error's stable code in brackets, e.g. "mesh: … [shamir.too-few-shares]".
   */
  action<A extends unknown[]>(body: (...args: A) => void | Promise<void>): (...args: A) => Promise<void>;
  /** Parses a whole decimal number given to option `name`, or throws a usage error naming it. */
  count(name: string, value: string): number;
}

/**
 * `mesh udf`, `mesh key`, `mesh shamir` (issue #3). `random` is injectable so that tests can reproduce
 * the draft's Shamir example through the CLI; the binary always uses the platform CSPRNG.
 */
export function registerCryptoCommands(
  program: Command,
  io: CliIo,
  _setStatus: (code: number) => void,
  random: RandomSource = defaultRandom,
): void {
  const context: CryptoCommandContext = {
    io,
    random,
    async readInput(file) {
      if (file === '-') return io.readStdin();
      try {
        return new Uint8Array(await readFile(file));
      } catch (error) {
        throw new CliUsageError(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
    },
    count: parseCount,
    action(body) {
      return async (...args) => {
        try {
          await body(...args);
        } catch (error) {
          if (isCryptoError(error)) throw new CliUsageError(`${error.message} [${error.code}]`);
          throw error;
        }
      };
    },
  };
  registerUdfCommand(program, context);
  registerKeyCommands(program, context);
  registerShamirCommands(program, context);
}

function parseCount(name: string, value: string): number {
  if (!/^\d{1,4}$/.test(value))
    throw new CliUsageError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}
