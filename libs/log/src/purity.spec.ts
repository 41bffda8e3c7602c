import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The core stays pure and portable (STYLE.md §1; the client SDK runs it in browsers): no file of
 * libs/log/src other than tests may import Nest, TypeORM, pg, Kafka or node:fs, nor touch Buffer.
 */
const ROOT = __dirname;
const BANNED_IMPORT =
  /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](@nestjs\/[^'"]*|typeorm(?:\/[^'"]*)?|pg(?:\/[^'"]*)?|kafkajs(?:\/[^'"]*)?|(?:node:)?fs(?:\/promises)?)['"]/g;
const BUFFER = /\bBuffer\b/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.spec.ts') ? [path] : [];
  });
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

describe('libs/log purity', () => {
  const files = sourceFiles(ROOT);

  it('finds the library sources', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(files.some((f) => f.endsWith('index.ts'))).toBe(true);
  });

  it.each(sourceFiles(ROOT).map((f) => [relative(ROOT, f), f]))(
    '%s imports no Nest, TypeORM, pg, Kafka or fs, and uses no Buffer',
    (_name, file) => {
      const code = withoutComments(readFileSync(file, 'utf8'));
      expect([...code.matchAll(BANNED_IMPORT)].map((m) => m[1])).toEqual([]);
      expect(BUFFER.test(code)).toBe(false);
      // Stricter than the list above: it must also load in a browser, so no Node built-in at all.
      expect(code).not.toMatch(/['"]node:[a-z_/]+['"]/);
    },
  );

  it('would catch a violation', () => {
    const bad = withoutComments(
      "import { Injectable } from '@nestjs/common';\nimport fs from 'node:fs';\nconst x = require('pg');\nBuffer.from('');",
    );
    expect([...bad.matchAll(BANNED_IMPORT)].map((m) => m[1])).toEqual(['@nestjs/common', 'node:fs', 'pg']);
    expect(BUFFER.test(bad)).toBe(true);
    expect([...withoutComments("// from 'fs'\nimport x from 'pglite';").matchAll(BANNED_IMPORT)]).toEqual([]);
  });
});
