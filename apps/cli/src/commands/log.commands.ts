import type { Command } from 'commander';
import type { CliIo } from '../cli-io';

/** `mesh log verify`, `mesh note verify` (issue #4). */
export function registerLogCommands(_program: Command, _io: CliIo, _setStatus: (code: number) => void): void {}
