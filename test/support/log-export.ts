import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson } from '../../apps/log-signer/test/log-fixture';

/**
 * Exports a portal's log, read through its query API, in the layout of docs/log-export.md — for
 * `mesh log verify DIR`. Returns the number of parts written.
 */
export async function exportLog(
  queryUrl: string,
  dir: string,
  verifierKey: string,
  parts: number,
): Promise<number> {
  mkdirSync(join(dir, 'parts'), { recursive: true });
  writeFileSync(join(dir, 'verifier-key.txt'), `${verifierKey}\n`);
  for (let n = 0; n < parts; n++) {
    const part = await getJson<{ first: number; size: number; seal: string }>(
      `${queryUrl}/logs/self/parts/${n}`,
    );
    writeFileSync(join(dir, 'parts', `${n}.note`), part.seal);
    const lines: string[] = [];
    for (let start = part.first; start < part.size; start += 1000) {
      const end = Math.min(part.size, start + 1000);
      const page = await getJson<{ entries: string[] }>(
        `${queryUrl}/logs/self/entries?start=${start}&end=${end}`,
      );
      for (const entry of page.entries) lines.push(`${Buffer.from(entry, 'base64').toString('utf8')}\n`);
    }
    writeFileSync(join(dir, 'parts', `${n}.entries.jsonl`), lines.join(''));
  }
  return parts;
}
