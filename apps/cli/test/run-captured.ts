import type { CliIo } from '../src/cli-io';
import type { ClientCommandHooks } from '../src/commands/client.commands';
import { runMesh } from '../src/mesh';

export interface CapturedRun {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

export interface CaptureOptions extends ClientCommandHooks {
  readonly stdin?: Uint8Array | string;
  readonly random?: CliIo['random'];
  /** The environment the command sees (default: empty — so MESH_HOME is never the user's). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Runs one `mesh` command line in-process, with `stdin` as its standard input, capturing both streams. */
export async function runCaptured(
  argv: readonly string[],
  options: CaptureOptions = {},
): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const { stdin: input, random, env, ...hooks } = options;
  const stdin = typeof input === 'string' ? new TextEncoder().encode(input) : (input ?? new Uint8Array());
  const code = await runMesh(
    argv,
    {
      stdout: (line) => out.push(line),
      stderr: (line) => err.push(line),
      readStdin: () => Promise.resolve(stdin),
      env: env ?? {},
      ...(random ? { random } : {}),
    },
    hooks,
  );
  return { code, out, err };
}
