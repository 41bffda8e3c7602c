/**
 * Micro-benchmark of the crypto library (not a test). Run: npx tsx bench/crypto.bench.ts
 *
 * Prints one line per figure: EdDSA sign and verify operations per second through node:crypto and
 * @noble/curves, for Ed25519 and Ed448, and content digest UDFs per second for SHA-2-512 and SHA-3-512.
 * Each figure runs for MEASURE_MS after a short warm-up, so the whole run stays well under 60 s.
 * Keys are reused across operations, as a server reuses its keys (the node:crypto scheme caches the
 * imported key objects). Results go to docs/benchmarks/crypto.md by hand, with the date and machine.
 */
import { cpus } from 'node:os';
import {
  contentDigestUdf,
  DigestAlgorithm,
  nobleEd25519,
  nobleEd448,
  nodeEd25519,
  nodeEd448,
} from '@cryptomesh/crypto';
import type { SignatureScheme } from '@cryptomesh/crypto';

const WARM_UP_MS = 200;
const MEASURE_MS = 1500;
const MESSAGE_BYTES = 256;
const CONTENT_BYTES = 1024;

function rate(operation: () => void): number {
  const warmUpEnd = performance.now() + WARM_UP_MS;
  while (performance.now() < warmUpEnd) operation();
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < MEASURE_MS) {
    // Batches of 8 keep the clock reads from dominating the cheap operations.
    for (let i = 0; i < 8; i++) operation();
    count += 8;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

function line(what: string, perSecond: number): void {
  console.log(`${what.padEnd(40)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} ops/s`);
}

function main(): void {
  const began = performance.now();
  console.log(`# node ${process.version}, ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}`);
  const message = new Uint8Array(MESSAGE_BYTES).map((_, i) => i);
  const schemes: [string, SignatureScheme][] = [
    ['node:crypto', nodeEd25519],
    ['@noble/curves', nobleEd25519],
    ['node:crypto', nodeEd448],
    ['@noble/curves', nobleEd448],
  ];
  for (const [library, scheme] of schemes) {
    const privateKey = new Uint8Array(scheme.privateKeyLength).fill(7);
    const publicKey = scheme.publicKeyOf(privateKey);
    const signature = scheme.sign(privateKey, message);
    if (!scheme.verify(publicKey, message, signature))
      throw new Error(`${scheme.algorithm} self-check failed`);
    line(
      `sign   ${scheme.algorithm.padEnd(8)} ${library}`,
      rate(() => scheme.sign(privateKey, message)),
    );
    line(
      `verify ${scheme.algorithm.padEnd(8)} ${library}`,
      rate(() => scheme.verify(publicKey, message, signature)),
    );
  }
  const content = new Uint8Array(CONTENT_BYTES).map((_, i) => i * 7);
  for (const algorithm of ['SHA-2-512', 'SHA-3-512'] as DigestAlgorithm[]) {
    line(
      `udf    ${algorithm} (${CONTENT_BYTES} B, 140 bits)`,
      rate(() => contentDigestUdf(content, 'text/plain', { algorithm })),
    );
  }
  console.log(`# ${((performance.now() - began) / 1000).toFixed(1)} s in all`);
}

main();
