import { writeFileSync } from 'node:fs';
import { isLogError } from '@cryptomesh/log';
import { generateLogKey } from './log-key';

const USAGE = 'usage: main.js keygen --origin <origin> [--out <file>]';

/**
 * `node dist/apps/log-signer/apps/log-signer/src/main.js keygen --origin portal.example/log [--out FILE]`
 *
 * Creates a log key. With `--out`, writes the secret signer key to FILE (mode 0600, refusing to
 * overwrite an existing file: a portal's log key is never replaced by accident) and prints only the
 * verifier key. Without it, prints the signer key on the first line and the verifier key on the
 * second. Exit 0, or 2 for bad usage.
 */
export function runKeygenCommand(
  args: readonly string[],
  io: { stdout(line: string): void; stderr(line: string): void } = {
    stdout: (l) => process.stdout.write(`${l}\n`),
    stderr: (l) => process.stderr.write(`${l}\n`),
  },
): number {
  let origin: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if ((arg === '--origin' || arg === '--name') && value !== undefined) {
      origin = value;
      i++;
    } else if (arg === '--out' && value !== undefined) {
      out = value;
      i++;
    } else {
      io.stderr(`keygen: unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
      return 2;
    }
  }
  if (origin === undefined) {
    io.stderr(`keygen: --origin is required; ${USAGE}`);
    return 2;
  }
  let key: { signerKey: string; verifierKey: string };
  try {
    key = generateLogKey(origin);
  } catch (error) {
    if (!isLogError(error)) throw error;
    io.stderr(`keygen: bad origin ${JSON.stringify(origin)}: ${error.message}`);
    return 2;
  }
  if (out === undefined) {
    io.stdout(key.signerKey);
    io.stdout(key.verifierKey);
    return 0;
  }
  try {
    writeFileSync(out, `${key.signerKey}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    io.stderr(`keygen: cannot create ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return 2;
  }
  io.stdout(key.verifierKey);
  return 0;
}
