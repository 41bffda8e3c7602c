/**
 * The streams and environment a `mesh` command runs against. Injected so that tests run commands
 * in-process with captured output, and the real binary passes the process's own.
 */
export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Reads all of standard input (used when a command is given `-` as its file). */
  readonly readStdin: () => Promise<Uint8Array>;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Randomness for key generation and secret splitting; the platform's CSPRNG when absent. */
  readonly random?: (length: number) => Uint8Array;
  /**
   * One line typed by the user after `prompt` (on stderr), without its line ending; undefined at the
   * end of input. The binary prompts on a terminal and otherwise reads the first line of standard
   * input; when absent, the first line of `readStdin()` is used.
   */
  readonly readLine?: (prompt: string) => Promise<string | undefined>;
}

/**
 * A failure the user can act on: printed as `mesh: <message>` and exit status `exitCode` (2: bad
 * usage; 1: the command ran and failed). `code`, when given, is stable (`--json` prints it).
 */
export class CliUsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliUsageError';
  }
}
