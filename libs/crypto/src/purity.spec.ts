import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Guards the layering of STYLE.md §1: the crypto library is pure. Like tessera's storage_test.go, this
 * reads the source rather than trusting review.
 */

const SRC = __dirname;
const BANNED = [
  /^@nestjs\//,
  /^typeorm(\/|$)/,
  /^pg(\/|$)/,
  /^kafkajs(\/|$)/,
  /^(node:)?fs(\/|$)/,
  /^(node:)?fs\/promises$/,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports, re-exports or requires. */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const specifiers: string[] = [];
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns)
    for (const match of text.matchAll(pattern)) specifiers.push(match[1] as string);
  return specifiers;
}

const files = sourceFiles(SRC);

describe('libs/crypto is a pure library', () => {
  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [relative(SRC, f), f]))(
    '%s imports no Nest, TypeORM, pg, kafkajs or fs',
    (_name, path) => {
      const banned = importsOf(path).filter((specifier) => BANNED.some((pattern) => pattern.test(specifier)));
      expect(banned).toEqual([]);
    },
  );

  it('names its exports one by one (no export *)', () => {
    for (const path of files) expect(readFileSync(path, 'utf8')).not.toMatch(/export\s+\*/);
  });

  it('keeps every file well under 400 lines (STYLE.md §2)', () => {
    for (const path of files)
      expect([relative(SRC, path), readFileSync(path, 'utf8').split('\n').length < 400]).toEqual([
        relative(SRC, path),
        true,
      ]);
  });

  it('reaches no node: module and no Buffer from portable.ts (the browser entry)', () => {
    const seen = new Set<string>();
    const offences: string[] = [];
    const visit = (path: string): void => {
      if (seen.has(path)) return;
      seen.add(path);
      const text = readFileSync(path, 'utf8');
      if (/\bBuffer\b/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
        offences.push(`${relative(SRC, path)} uses Buffer`);
      for (const specifier of importsOf(path)) {
        if (specifier.startsWith('node:') || ['crypto', 'buffer', 'path', 'os'].includes(specifier)) {
          offences.push(`${relative(SRC, path)} imports ${specifier}`);
        } else if (specifier.startsWith('.')) {
          visit(`${resolve(dirname(path), specifier)}.ts`);
        }
      }
    };
    visit(join(SRC, 'portable.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect(offences).toEqual([]);
  });
});
