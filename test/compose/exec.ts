import { spawn } from 'node:child_process';

/**
 * TEST SCAFFOLDING for `npm run test:compose`: running a command with a deadline. Output is captured
 * and, with `echo`, also streamed (prefixed) to stderr so that a slow build shows progress.
 */
export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly input?: string;
  /** Stream each output line to stderr with this prefix. */
  readonly echo?: string;
  /** Throw (with the output's tail) unless it exits 0; default true. */
  readonly check?: boolean;
}

export async function exec(
  command: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const { timeoutMs = 600_000, check = true } = options;
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const echo = (chunk: Buffer) => {
    if (options.echo === undefined) return;
    for (const line of chunk.toString().split('\n'))
      if (line.trim() !== '') process.stderr.write(`${options.echo}${line}\n`);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    echo(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    echo(chunk);
  });
  // A command that exits without reading its input (`docker ps`) closes the pipe first: the write
  // then fails with EPIPE, which must not crash the runner; the exit code says how the command went.
  child.stdin.on('error', ignoreClosedPipe);
  child.stdin.end(options.input ?? '');
  const result = await new Promise<ExecResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: not finished within ${timeoutMs} ms\n${tail(stderr)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  if (check && result.code !== 0)
    throw new Error(
      `${command} ${args.join(' ').slice(0, 300)} exited ${result.code}\n${tail(result.stderr || result.stdout)}`,
    );
  return result;
}

/** Swallows EPIPE (the child closed its stdin or exited first); anything else is thrown. */
export function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

/** The last lines of `text`. */
export function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Whether `command` runs at all (exit code ignored). */
export async function runs(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await exec(command, args, { check: false, timeoutMs: 30_000 });
    return true;
  } catch {
    return false;
  }
}
