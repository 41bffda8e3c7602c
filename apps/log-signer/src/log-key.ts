import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  KEY_TYPE_ED25519,
  formatSignerKey,
  isLogError,
  parseSignerKey,
  type NoteSigner,
} from '@cryptomesh/log';
import { ConfigError, type Env } from '@cryptomesh/service';

/**
 * The portal's log key (DESIGN.md "The log": signed-note type 0x01), loaded only in the log-signer,
 * from LOG_KEY_FILE (a path) or LOG_KEY (the string itself) — exactly one of them. The string is
 * the Go `sumdb/note` signer-key format `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`;
 * its name is the checkpoint origin. Errors are one-line ConfigErrors that name the variable and
 * never echo the secret.
 */
export function loadLogKey(env: Env): NoteSigner {
  const file = env.LOG_KEY_FILE?.trim() ?? '';
  const inline = env.LOG_KEY?.trim() ?? '';
  if (file !== '' && inline !== '') throw new ConfigError('LOG_KEY', 'set LOG_KEY or LOG_KEY_FILE, not both');
  if (file === '' && inline === '') {
    throw new ConfigError(
      'LOG_KEY_FILE',
      'is required (or LOG_KEY): the log key, created with `node dist/apps/log-signer/apps/log-signer/src/main.js keygen --origin <origin>`',
    );
  }
  const variable = file !== '' ? 'LOG_KEY_FILE' : 'LOG_KEY';
  let text = inline;
  if (file !== '') {
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError('LOG_KEY_FILE', `cannot read ${JSON.stringify(file)} (${reason})`);
    }
  }
  let signer: NoteSigner;
  try {
    signer = parseSignerKey(text, nodeEd25519);
  } catch (error) {
    if (!isLogError(error)) throw error;
    throw new ConfigError(
      variable,
      `is not a signer key PRIVATE+KEY+<name>+<hex key ID>+<base64 key>: ${error.message}`,
    );
  }
  if (signer.verifierKey.type !== KEY_TYPE_ED25519) {
    throw new ConfigError(
      variable,
      'is a witness (type 0x04) key; the log key is an Ed25519 signed-note key (type 0x01)',
    );
  }
  return signer;
}

/** A new log key for `origin` (also its key name): the secret signer-key string and the public verifier key. */
export function generateLogKey(origin: string): { signerKey: string; verifierKey: string } {
  const signerKey = formatSignerKey(origin, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519);
  return { signerKey, verifierKey: parseSignerKey(signerKey, nodeEd25519).verifierKey.text };
}
