/**
 * Benchmark of the log verifier (issue #4) — not a test. Run: npx tsx bench/log.bench.ts
 *   [--parts 1000] [--per-part 1000] [--budget-s 300]
 *
 * Prints, on this machine: raw SHA-256 rates (node:crypto and @noble/hashes) for a node-sized
 * (65-byte) and an entry-sized input; then entries verified per second by LogVerifier over a
 * generated log (parts generated one at a time, only verification timed), with and without the
 * per-entry canonical-JSON check; and the peak memory of the process. Every loop is bounded in time.
 */
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { sha256 } from '@noble/hashes/sha2';
import { nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogVerifier } from '@cryptomesh/log';
import { LogFixture, sampleEntry } from '../libs/log/testdata/log-fixture';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const PARTS = arg('parts', 1000);
const PER_PART = arg('per-part', 1000);
const BUDGET_MS = arg('budget-s', 300) * 1000;
let peakRss = 0;
const sample = (): void => void (peakRss = Math.max(peakRss, process.memoryUsage().rss));

function rate(label: string, run: () => void, ms = 2000): number {
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 1000; i++) run();
    n += 1000;
  }
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(`${label.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} /s`);
  return perSecond;
}

async function verifierRun(checkEntryEncoding: boolean): Promise<void> {
  const fixture = new LogFixture('bench.example/log', nodeEd25519, { keepTree: false });
  const verifier = new LogVerifier({
    logKey: fixture.signer.verifierKey,
    ed25519: nodeEd25519,
    checkEntryEncoding,
  });
  const wall = performance.now();
  let verifyMs = 0;
  let parts = 0;
  for (const part of fixture.generate(PARTS, PER_PART)) {
    const start = performance.now();
    const verdict = await verifier.verifyPart(part);
    verifyMs += performance.now() - start;
    if (!verdict.ok) throw verdict.violation;
    parts++;
    if (parts % 50 === 0) sample();
    if (performance.now() - wall > BUDGET_MS) break;
  }
  sample();
  const entries = verifier.lastSeal?.size ?? 0;
  const label = `LogVerifier, canonical-JSON check ${checkEntryEncoding ? 'on' : 'off'}`;
  console.log(
    `${label.padEnd(44)} ${Math.round(entries / (verifyMs / 1000))
      .toLocaleString('en-US')
      .padStart(12)} entries/s` +
      `  (${entries.toLocaleString('en-US')} entries in ${parts} parts, ${(verifyMs / 1000).toFixed(1)} s verifying,` +
      ` ${((performance.now() - wall) / 1000).toFixed(1)} s with generation)`,
  );
}

async function main(): Promise<void> {
  console.log(
    `date ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs: ${cpus()[0]?.model ?? '?'}`,
  );
  const node65 = new Uint8Array(65);
  const entry = sampleEntry(123_456);
  console.log(`\nraw SHA-256 (entry-sized input = ${entry.length} bytes)`);
  rate('node:crypto, 65 bytes', () => createHash('sha256').update(node65).digest());
  rate('@noble/hashes, 65 bytes', () => sha256(node65));
  rate(`node:crypto, ${entry.length} bytes`, () => createHash('sha256').update(entry).digest());
  rate(`@noble/hashes, ${entry.length} bytes`, () => sha256(entry));
  console.log(`\nlog verifier: ${PARTS} parts × ${PER_PART} entries, budget ${BUDGET_MS / 1000} s per run`);
  await verifierRun(true);
  await verifierRun(false);
  sample();
  const maxRssKb = process.resourceUsage().maxRSS;
  console.log(
    `\npeak memory: rss ${(peakRss / 2 ** 20).toFixed(0)} MiB sampled, maxRSS ${(maxRssKb / 1024).toFixed(0)} MiB (resourceUsage)`,
  );
  console.log(`heap used at the end: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
}

void main();
