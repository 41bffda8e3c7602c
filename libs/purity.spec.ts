import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * STYLE.md §1: the protocol core — libs/crypto, libs/log, libs/mesh, and the auditor libs/audit — is plain TypeScript with no
 * Nest, TypeORM, pg, Kafka or file system. libs/log, libs/mesh and the client SDK libs/client run in
 * browsers, so they use no Node built-in and no Buffer at all; libs/crypto may use node:crypto only in
 * its server-side schemes, never on the path from its browser entry `portable.ts`. Like tessera's
 * storage_test.go, this reads the source rather than trusting review.
 */
const LIBS = __dirname;
const FRAMEWORKS = [/^@nestjs\//, /^typeorm(\/|$)/, /^pg(\/|$)/, /^kafkajs(\/|$)/, /^(node:)?fs(\/|$)/];
const NODE_BUILTINS = [/^node:/, /^(fs|path|os|crypto|buffer|child_process|net)(\/|$)/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Every module specifier a source text imports, re-exports or requires. */
function importsOf(text: string): string[] {
  const patterns = [
    /\bfrom\s+['"]([^'"]+)['"]/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!));
}

const withoutComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`])\/\/.*$/gm, '$1');
const usesBuffer = (text: string): boolean => /\bBuffer\b/.test(withoutComments(text));
const banned = (text: string, rules: RegExp[]): string[] =>
  importsOf(text).filter((specifier) => rules.some((rule) => rule.test(specifier)));

describe.each([
  { lib: 'crypto', browser: false, minFiles: 10 },
  { lib: 'log', browser: true, minFiles: 10 },
  { lib: 'mesh', browser: true, minFiles: 10 },
  { lib: 'client', browser: true, minFiles: 10 },
  { lib: 'audit', browser: false, minFiles: 4 },
])('libs/$lib is a pure library', ({ lib, browser, minFiles }) => {
  const src = join(LIBS, lib, 'src');
  const files = sourceFiles(src);

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(minFiles);
  });

  it.each(files.map((file) => [relative(src, file), file]))(
    '%s imports no framework or I/O module',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      expect(banned(text, FRAMEWORKS)).toEqual([]);
      if (browser) {
        expect(banned(text, NODE_BUILTINS)).toEqual([]);
        expect(usesBuffer(text)).toBe(false);
      }
    },
  );

  // Test data and fixtures beside the sources belong to the library too: scripts that need the file
  // system live under scripts/ (e.g. scripts/testdata/*-vectors.ts), not here.
  it.each(
    sourceFiles(join(LIBS, lib))
      .filter((file) => !file.startsWith(src))
      .map((file) => [relative(LIBS, file), file]),
  )('%s (beside the sources) imports no framework or I/O module', (_name, file) => {
    expect(banned(readFileSync(file, 'utf8'), FRAMEWORKS)).toEqual([]);
  });

  it('names its exports one by one and keeps every file under 400 lines (STYLE.md §2)', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect([relative(src, file), /export\s+\*/.test(text), text.split('\n').length < 400]).toEqual([
        relative(src, file),
        false,
        true,
      ]);
    }
  });
});

describe('libs/crypto/src/portable.ts, the browser entry', () => {
  it('reaches no Node built-in and no Buffer', () => {
    const seen = new Set<string>();
    const offences: string[] = [];
    const visit = (path: string): void => {
      if (seen.has(path)) return;
      seen.add(path);
      const text = readFileSync(path, 'utf8');
      if (usesBuffer(text)) offences.push(`${relative(LIBS, path)} uses Buffer`);
      for (const specifier of importsOf(text)) {
        if (NODE_BUILTINS.some((rule) => rule.test(specifier)))
          offences.push(`${relative(LIBS, path)} imports ${specifier}`);
        else if (specifier.startsWith('.')) visit(`${resolve(dirname(path), specifier)}.ts`);
      }
    };
    visit(join(LIBS, 'crypto/src/portable.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect(offences).toEqual([]);
  });

  it.each(['mesh', 'client'])('is the only way libs/%s reaches the crypto library', (lib) => {
    for (const file of sourceFiles(join(LIBS, lib, 'src')))
      for (const specifier of importsOf(readFileSync(file, 'utf8')))
        if (specifier.startsWith('@cryptomesh/crypto')) expect(specifier).toBe('@cryptomesh/crypto/portable');
  });
});

describe('libs/client, the browser SDK', () => {
  // The server-side libraries (persistence, intermesh, service) are Node-only: the SDK reaches the
  // protocol through the portable core alone.
  it('imports no server-side library of the workspace', () => {
    const offences: string[] = [];
    for (const file of sourceFiles(join(LIBS, 'client/src')))
      for (const specifier of importsOf(readFileSync(file, 'utf8')))
        if (
          /^@cryptomesh\//.test(specifier) &&
          !/^@cryptomesh\/(crypto\/portable|log|mesh)(\/|$)/.test(specifier)
        )
          offences.push(`${relative(LIBS, file)} imports ${specifier}`);
    expect(offences).toEqual([]);
  });
});

describe('the purity checks themselves', () => {
  it('would catch each kind of offence', () => {
    expect(banned(`import { Injectable } from '@nestjs/common';`, FRAMEWORKS)).toEqual(['@nestjs/common']);
    expect(banned(`const fs = require('node:fs');`, FRAMEWORKS)).toEqual(['node:fs']);
    expect(banned(`export { x } from 'typeorm';`, FRAMEWORKS)).toEqual(['typeorm']);
    expect(banned(`import { createHash } from 'node:crypto';`, NODE_BUILTINS)).toEqual(['node:crypto']);
    expect(banned(`import x from 'pglite';`, FRAMEWORKS)).toEqual([]);
    expect(usesBuffer('const b = Buffer.from("x");')).toBe(true);
    expect(usesBuffer('// no Buffer here\n/* nor Buffer here */')).toBe(false);
  });
});
