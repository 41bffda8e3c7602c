import { KEY_TYPE_COSIGNATURE_V1, type NoteSigner } from '@cryptomesh/log';
import { generateSignerKey, loadSignerKey, type Env } from '@cryptomesh/service';

/**
 * This portal's witness key (docs/design/federation.md "Configuration": signed-note type 0x04, the
 * C2SP tlog-cosignature key that cosigns peers' seals and signs findings), loaded only in the
 * replication service, from WITNESS_KEY_FILE (a path) or WITNESS_KEY (the string itself) — at most
 * one of them. The string is `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 ‖ seed)>`. Returns
 * undefined when neither is set: whether the key is required (it is when there is a peer) is the
 * caller's decision. Errors are one-line ConfigErrors that name the variable and never echo the secret.
 */
export function loadWitnessKey(env: Env): NoteSigner | undefined {
  return loadSignerKey(env, {
    fileVar: 'WITNESS_KEY_FILE',
    inlineVar: 'WITNESS_KEY',
    type: KEY_TYPE_COSIGNATURE_V1,
    wrongType:
      'is a log (type 0x01) key; the witness key is a cosignature key (type 0x04), created with `main.js keygen --name <name>` of the replication service',
  });
}

/** A new witness key named `name`: the secret signer-key string and the public verifier key. */
export function generateWitnessKey(name: string): { signerKey: string; verifierKey: string } {
  return generateSignerKey(name, KEY_TYPE_COSIGNATURE_V1);
}
