import { Command, CommanderError } from 'commander';
import { CliIo, CliUsageError } from './cli-io';
import { registerClientCommands, type ClientCommandHooks } from './commands/client.commands';
import { registerCryptoCommands } from './commands/crypto.commands';
import { registerLogCommands } from './commands/log.commands';
import { terminalOutput } from './terminal-text';

/**
 * Runs one `mesh` command line and resolves to its exit status. Never calls process.exit and
 * never writes to the process's streams directly: everything goes through `io`.
 * Exit status: 0 success, 1 the command ran and its verdict is negative (e.g. a signature that
 * does not verify, a portal that refused or failed a check), 2 bad usage or bad input. `hooks`
 * replace the network and the clock of the profile-manager commands in tests. Every line printed
 * has its control characters escaped (terminal-text.ts) except the line breaks the command made.
 */
export async function runMesh(
  argv: readonly string[],
  terminal: CliIo,
  hooks: ClientCommandHooks = {},
): Promise<number> {
  // Everything printed passes through terminalOutput: no control character that a portal or a
  // stranger sent reaches the terminal raw, whichever command prints it (issue #16).
  const io: CliIo = {
    ...terminal,
    stdout: (line) => terminal.stdout(terminalOutput(line)),
    stderr: (line) => terminal.stderr(terminalOutput(line)),
  };
  const program = new Command('mesh')
    .description('Mathematical Mesh tools: the profile manager, fingerprints, keys, escrow, logs')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s.replace(/\n$/, '')),
      writeErr: (s) => io.stderr(s.replace(/\n$/, '')),
    });
  let status = 0;
  const setStatus = (code: number): void => {
    status = code;
  };
  registerCryptoCommands(program, io, setStatus, io.random);
  registerLogCommands(program, io, setStatus);
  registerClientCommands(program, io, setStatus, hooks);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.unknownOption') hintIdLikeOption(argv, io);
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliUsageError) {
      io.stderr(`mesh: ${error.message}`);
      return error.exitCode;
    }
    io.stderr(`mesh: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

/**
 * An id that another party chose (an envelope's, a request's) may start with '-', which the parser
 * takes for an option. The ids this project draws never do; for the others, say how to pass one.
 */
function hintIdLikeOption(argv: readonly string[], io: CliIo): void {
  const end = argv.indexOf('--');
  const id = argv.slice(0, end < 0 ? argv.length : end).find((arg) => /^-[A-Za-z0-9_-]{21}$/.test(arg));
  if (id === undefined) return;
  io.stderr(`mesh: if ${id} is an id, put -- before it: mesh … -- ${id} …`);
}
