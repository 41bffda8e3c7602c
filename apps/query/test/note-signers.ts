import { randomBytes } from 'node:crypto';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, makeNoteSigner, type NoteSigner } from '@cryptomesh/log';

/** The signers of the query service's unit tests: a log (fresh keys each run) and its witnesses. */
export const ORIGIN = 'alpha.test/log';
export const logKey = makeNoteSigner(ORIGIN, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519);
export const witness = (name: string): NoteSigner =>
  makeNoteSigner(name, KEY_TYPE_COSIGNATURE_V1, randomBytes(32), nodeEd25519);
export const beta = witness('beta.test/witness');
export const gamma = witness('gamma.test/witness');
