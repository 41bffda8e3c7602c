/**
 * Checks (default) or rewrites (--write) rfc6962-vectors.json from the naive RFC 9162 reference in
 * reference-merkle.ts. The committed values were copied from the published source named in the
 * file's `source` field; this script proves the naive reading of the RFC reproduces them, and
 * --write regenerates the same bytes (the output is deterministic: fixed order, fixed layout).
 *
 *   npx tsx scripts/testdata/log-vectors.ts          # exit 0 when every vector matches
 *   npx tsx scripts/testdata/log-vectors.ts --write  # rebuild the file from the reference
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import {
  referenceConsistencyProof,
  referenceInclusionProof,
  referenceRoot,
} from '../../libs/log/testdata/reference-merkle';

interface Vectors {
  source: string;
  leaves: string[];
  roots: { size: number; root: string }[];
  inclusion: { index: number; size: number; path: string[] }[];
  consistency: { first: number; second: number; path: string[] }[];
}

const file = join(__dirname, '../../libs/log/testdata/rfc6962-vectors.json');
const committed = JSON.parse(readFileSync(file, 'utf8')) as Vectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const leaves = committed.leaves.map((h) => new Uint8Array(Buffer.from(h, 'hex')));

const rebuilt: Vectors = {
  source: committed.source,
  leaves: committed.leaves,
  roots: committed.roots.map(({ size }) => ({ size, root: hex(referenceRoot(leaves.slice(0, size))) })),
  inclusion: committed.inclusion.map(({ index, size }) => ({
    index,
    size,
    path: referenceInclusionProof(index, leaves.slice(0, size)).map(hex),
  })),
  consistency: committed.consistency.map(({ first, second }) => ({
    first,
    second,
    path: referenceConsistencyProof(first, leaves.slice(0, second)).map(hex),
  })),
};

async function render(vectors: Vectors): Promise<string> {
  // Laid out as the repository's Prettier config lays out JSON, so that --write is a fixed point.
  const options = (await resolveConfig(file)) ?? {};
  return format(JSON.stringify(vectors), { ...options, filepath: file });
}

async function main(): Promise<void> {
  const text = await render(rebuilt);
  if (process.argv.includes('--write')) {
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
    return;
  }
  const mismatches: string[] = [];
  const compare = (what: string, want: unknown, got: unknown): void => {
    if (JSON.stringify(want) !== JSON.stringify(got))
      mismatches.push(`${what}: committed ${JSON.stringify(want)}, reference ${JSON.stringify(got)}`);
  };
  committed.roots.forEach((v, i) => compare(`root of size ${v.size}`, v, rebuilt.roots[i]));
  committed.inclusion.forEach((v, i) => compare(`inclusion ${v.index}/${v.size}`, v, rebuilt.inclusion[i]));
  committed.consistency.forEach((v, i) =>
    compare(`consistency ${v.first}→${v.second}`, v, rebuilt.consistency[i]),
  );
  if (mismatches.length === 0 && text !== readFileSync(file, 'utf8'))
    mismatches.push('layout differs: run with --write');
  if (mismatches.length > 0) {
    console.error(mismatches.join('\n'));
    process.exitCode = 1;
    return;
  }
  const count = committed.roots.length + committed.inclusion.length + committed.consistency.length;
  console.log(`all ${count} vectors match the naive RFC 9162 reference`);
}

void main();
