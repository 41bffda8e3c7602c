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
}

/** A failure the user can act on: printed as `mesh: <message>` and exit status `exitCode`. */
export class CliUsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliUsageError';
  }
}
