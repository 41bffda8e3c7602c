import { ChildProcess, spawn } from 'node:child_process';

export interface ListeningProcess {
  readonly child: ChildProcess;
  /** The URL from the service's `"msg":"listening"` log line. */
  readonly url: string;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  readonly output: () => string;
}

/**
 * Starts `node <args>` with only PATH and `env` in its environment and resolves once it logs that
 * it is listening; rejects with its output if it exits first or does not listen within `timeoutMs`.
 */
export function spawnListening(
  what: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { cwd: string; timeoutMs?: number },
): Promise<ListeningProcess> {
  // Generous: a Node service starts in about a second, but a test machine under CPU contention
  // (the suite with two busy loops beside it, issue #15) can take tens of seconds.
  const timeoutMs = options.timeoutMs ?? 120_000;
  const child = spawn(process.execPath, [...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /"msg":"listening","url":"([^"]+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before listening:\n${output}`));
    });
  });
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
