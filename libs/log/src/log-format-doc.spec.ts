import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { findCosigners } from './cosignature';
import { openSeal } from './seal';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseVerifierKey } from './verifier-key';

/** Keeps the example of docs/design/log-format.md true: it must verify as the text says. */
const doc = readFileSync(join(__dirname, '../../../docs/design/log-format.md'), 'utf8');

function block(marker: string): string {
  const prefix = `<!-- ${marker} -->\n\`\`\`\n`;
  const start = doc.indexOf(prefix);
  expect(start).toBeGreaterThanOrEqual(0);
  const body = doc.slice(start + prefix.length);
  return body.slice(0, body.indexOf('```'));
}

describe('docs/design/log-format.md', () => {
  it('holds an example seal that verifies, with the cosignature it describes', () => {
    const [logKeyText, witnessText] = block('example-keys').trim().split('\n') as [string, string];
    const logKey = parseVerifierKey(logKeyText, KEY_TYPE_ED25519);
    const witness = parseVerifierKey(witnessText, KEY_TYPE_COSIGNATURE_V1);
    const note = block('example-seal');
    for (const ed25519 of [nodeEd25519, nobleEd25519]) {
      const { seal } = openSeal(note, logKey, ed25519);
      expect(seal).toMatchObject({ origin: 'portal-a.example/log', size: 5, part: { index: 1, first: 3 } });
      const cosigners = findCosigners(note, [witness], ed25519);
      expect(cosigners.valid.map((c) => c.timestamp)).toEqual([1795300001]);
      expect(cosigners.invalid).toEqual([]);
    }
  });
});
