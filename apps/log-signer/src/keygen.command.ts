import { KEY_TYPE_ED25519 } from '@cryptomesh/log';
import { runKeygen, type KeygenIo } from '@cryptomesh/service';

/**
 * `node dist/apps/log-signer/apps/log-signer/src/main.js keygen --origin portal.example/log [--out FILE]`
 *
 * Creates a log key (signed-note type 0x01) named after the checkpoint origin (`--name` is accepted
 * too). With `--out`, writes the secret signer key to FILE (mode 0600, never overwriting) and prints
 * only the verifier key; without it, the signer key and then the verifier key. Exit 0, or 2 for bad usage.
 */
export function runKeygenCommand(args: readonly string[], io?: KeygenIo): number {
  return runKeygen(args, { flags: ['--origin', '--name'], type: KEY_TYPE_ED25519 }, io);
}
