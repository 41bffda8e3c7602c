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

/**
 * The next log key (LOG_KEY_NEXT_FILE or LOG_KEY_NEXT), for a key rotation (docs/design/log-format.md
 * "Key transitions"), or undefined. It MUST be a log key (type 0x01) of the same name as `current`
 * — the origin stays the log's identity — and not `current` itself.
 */
export function loadNextLogKey(env: Env, current: NoteSigner): NoteSigner | undefined {
  const next = loadSignerKey(env, {
    fileVar: 'LOG_KEY_NEXT_FILE',
    inlineVar: 'LOG_KEY_NEXT',
    type: KEY_TYPE_ED25519,
    wrongType: 'is a witness (type 0x04) key; the next log key is an Ed25519 signed-note key (type 0x01)',
  });
  if (next === undefined) return undefined;
  const variable =
    env.LOG_KEY_NEXT_FILE !== undefined && env.LOG_KEY_NEXT_FILE !== ''
      ? 'LOG_KEY_NEXT_FILE'
      : 'LOG_KEY_NEXT';
  if (next.verifierKey.name !== current.verifierKey.name)
    throw new ConfigError(
      variable,
      `is a key named ${JSON.stringify(next.verifierKey.name)}; the next log key keeps the log's origin ${JSON.stringify(current.verifierKey.name)} (keygen --origin ${current.verifierKey.name})`,
    );
  if (next.verifierKey.text === current.verifierKey.text)
    throw new ConfigError(variable, 'is the current log key (LOG_KEY): create a new one with keygen');
  return next;
}
