import type { CliIo } from '../src/cli-io';
import { runMesh } from '../src/mesh';

export interface CapturedRun {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

/** Runs one `mesh` command line in-process, with `stdin` as its standard input, capturing both streams. */
export async function runCaptured(
  argv: readonly string[],
  options: { readonly stdin?: Uint8Array | string; readonly random?: CliIo['random'] } = {},
): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const stdin =
    typeof options.stdin === 'string'
      ? new TextEncoder().encode(options.stdin)
      : (options.stdin ?? new Uint8Array());
  const code = await runMesh(argv, {
    stdout: (line) => out.push(line),
    stderr: (line) => err.push(line),
    readStdin: () => Promise.resolve(stdin),
    env: {},
    ...(options.random ? { random: options.random } : {}),
  });
  return { code, out, err };
}
