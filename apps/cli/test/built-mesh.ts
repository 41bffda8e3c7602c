import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The built `mesh` binary (`package.json` bin.mesh, built by `nest build --all`) run as a user runs
 * it, for the integration tests: `node dist/apps/cli/apps/cli/src/main.js …` with only PATH and
 * MESH_HOME in its environment, so that nothing of the developer's `~/.mesh` is ever touched.
 */
export const MESH_BIN = join(__dirname, '../../../dist/apps/cli/apps/cli/src/main.js');

export interface MeshRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A run in progress: `done` settles when it exits; `stderr()` is what it wrote so far. */
export interface RunningMesh {
  readonly child: ChildProcess;
  readonly done: Promise<MeshRun>;
  stderr(): string;
}

/** Starts `mesh args…` with MESH_HOME = `home`; `input` is written to its stdin (then closed). */
export function startMesh(
  home: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): RunningMesh {
  const child = spawn(process.execPath, [MESH_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', MESH_HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A run that exits before reading its input closes the pipe first; the EPIPE of that write is not
  // the test's failure (the exit code and output are what it asserts).
  child.stdin.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  child.stdin.end(options.input ?? '');
  const timeoutMs = options.timeoutMs ?? 90_000;
  const done = new Promise<MeshRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mesh ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done, stderr: () => stderr };
}

/** Runs `mesh args…` to completion. */
export function mesh(
  home: string,
  args: readonly string[],
  input?: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<MeshRun> {
  return startMesh(home, args, { ...(input === undefined ? {} : { input }), ...options }).done;
}

/**
 * Runs `mesh --json args…`, expects exit 0, one JSON object on stdout; resolves with it. Fails with
 * the command's stderr otherwise, so that a failing step says why.
 */
export async function meshJson<T = Record<string, unknown>>(
  home: string,
  args: readonly string[],
  input?: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<T> {
  const run = await mesh(home, ['--json', ...args], input, options);
  if (run.code !== 0)
    throw new Error(`mesh --json ${args.join(' ')} exited ${run.code}:\n${run.stderr}${run.stdout}`);
  const lines = run.stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`mesh --json ${args.join(' ')} printed ${lines.length} lines`);
  return JSON.parse(lines[0]!) as T;
}

/** A fresh, empty MESH_HOME under the system's temp directory. */
export function freshHome(label: string): string {
  return mkdtempSync(join(tmpdir(), `mesh-${label}-`));
}

/** The stable error code `--json` printed, or undefined. */
export function jsonError(
  run: MeshRun,
): { code: string; message: string; portal?: string; check?: string } | undefined {
  try {
    return (JSON.parse(run.stdout.trim()) as { error?: { code: string; message: string } }).error;
  } catch {
    return undefined;
  }
}
