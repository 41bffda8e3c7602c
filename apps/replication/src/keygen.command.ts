import { KEY_TYPE_COSIGNATURE_V1 } from '@cryptomesh/log';
import { runKeygen, type KeygenIo } from '@cryptomesh/service';

/**
 * `node dist/apps/replication/apps/replication/src/main.js keygen --name portal.example/witness [--out FILE]`
 *
 * Creates a witness key (signed-note type 0x04). With `--out`, writes the secret signer key to FILE
 * (mode 0600, never overwriting: a portal's witness key is never replaced by accident) and prints
 * only the verifier key; without it, the signer key and then the verifier key. Exit 0, or 2 for bad usage.
 */
export function runKeygenCommand(args: readonly string[], io?: KeygenIo): number {
  return runKeygen(args, { flags: ['--name'], type: KEY_TYPE_COSIGNATURE_V1 }, io);
}
