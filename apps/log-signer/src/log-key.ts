import { KEY_TYPE_ED25519, type NoteSigner } from '@cryptomesh/log';
import { ConfigError, generateSignerKey, loadSignerKey, type Env } from '@cryptomesh/service';

/**
 * The portal's log key (DESIGN.md "The log": signed-note type 0x01), loaded only in the log-signer,
 * from LOG_KEY_FILE (a path) or LOG_KEY (the string itself) — exactly one of them. The string is
 * the Go `sumdb/note` signer-key format `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`;
 * its name is the checkpoint origin. Errors are one-line ConfigErrors that name the variable and
 * never echo the secret.
 */
export function loadLogKey(env: Env): NoteSigner {
  const signer = loadSignerKey(env, {
    fileVar: 'LOG_KEY_FILE',
    inlineVar: 'LOG_KEY',
    type: KEY_TYPE_ED25519,
    wrongType: 'is a witness (type 0x04) key; the log key is an Ed25519 signed-note key (type 0x01)',
  });
  if (signer === undefined) {
    throw new ConfigError(
      'LOG_KEY_FILE',
      'is required (or LOG_KEY): the log key, created with `node dist/apps/log-signer/apps/log-signer/src/main.js keygen --origin <origin>`',
    );
  }
  return signer;
}

/** A new log key for `origin` (also its key name): the secret signer-key string and the public verifier key. */
export function generateLogKey(origin: string): { signerKey: string; verifierKey: string } {
  return generateSignerKey(origin, KEY_TYPE_ED25519);
}
