import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The version in the repository's package.json, found by walking up from this file. */
export function packageVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'cryptomesh-portal' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking up
    }
    dir = join(dir, '..');
  }
  return '0.0.0-unknown';
}
