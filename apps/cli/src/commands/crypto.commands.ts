import type { Command } from 'commander';
import type { CliIo } from '../cli-io';

/** `mesh udf`, `mesh key`, `mesh shamir` (issue #3). */
export function registerCryptoCommands(_program: Command, _io: CliIo, _setStatus: (code: number) => void): void {}
