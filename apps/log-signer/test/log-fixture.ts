// Helpers shared by the log-signer and query integration tests (test/integration/log-signer*.spec.ts,
// query-log*.spec.ts): a throw-away log key, queueing entries, and the whole-log oracle that checks
// everything the query API publishes with nothing but the verifier key (STYLE.md §7).
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  encodeEntry,
  entryLeafHash,
  fromBase64,
  openSeal,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  verifyLog,
  type PartInput,
  type Seal,
} from '@cryptomesh/log';
import { enqueueEntry } from '@cryptomesh/persistence';
import { generateLogKey } from '../src/log-key';

export const ROOT = join(__dirname, '../../..');
export const BUILT_LOG_SIGNER = join(ROOT, 'dist/apps/log-signer/apps/log-signer/src/main.js');

export interface TestLogKey {
  readonly origin: string;
  readonly signerKey: string;
  readonly verifierKey: string;
}

export function testLogKey(origin = 'portal.test/log'): TestLogKey {
  return { origin, ...generateLogKey(origin) };
}

/** The entry bytes of test record `n` of run `tag`: unique per (tag, n), canonical JSON. */
export function testEntry(tag: string, n: number): Uint8Array {
  return encodeEntry({ op: 'test', tag, n });
}

/** Queues each entry in a transaction of its own, `concurrency` transactions at a time. */
export async function enqueueAll(
  dataSource: DataSource,
  entries: readonly Uint8Array[],
  concurrency = 8,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const entry = entries[next++]!;
      await dataSource.transaction((tx) => enqueueEntry(tx, entry));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The latest seal as served by `GET /logs/self/checkpoint`, verified; undefined while the log is empty. */
export async function checkpoint(queryUrl: string, key: TestLogKey): Promise<Seal | undefined> {
  const res = await fetch(`${queryUrl}/logs/self/checkpoint`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`checkpoint: ${res.status}`);
  return openSeal(await res.text(), parseVerifierKey(key.verifierKey), nodeEd25519, key.origin).seal;
}

export interface VerifiedLog {
  readonly entries: Uint8Array[];
  readonly seals: Seal[];
}

/**
 * The whole-log oracle: fetches every part and entry through the query API, verifies the log with
 * `verifyLog` and the verifier key, every entry's inclusion proof against the checkpoint, and the
 * consistency proof between each pair of successive seals. Throws on any failure.
 */
export async function fetchAndVerifyLog(queryUrl: string, key: TestLogKey): Promise<VerifiedLog> {
  const logKey = parseVerifierKey(key.verifierKey);
  const head = await checkpoint(queryUrl, key);
  if (head === undefined) throw new Error('the log has no checkpoint');
  const entries: Uint8Array[] = [];
  const seals: Seal[] = [];
  const notes: string[] = [];
  for (let n = 0; n <= head.part.index; n++) {
    const part = await getJson<{ part: number; first: number; size: number; seal: string }>(
      `${queryUrl}/logs/self/parts/${n}`,
    );
    notes.push(part.seal);
    for (let start = part.first; start < part.size; start += 1000) {
      const end = Math.min(part.size, start + 1000);
      const page = await getJson<{ entries: string[] }>(
        `${queryUrl}/logs/self/entries?start=${start}&end=${end}`,
      );
      entries.push(...page.entries.map((e) => fromBase64(e)));
    }
    seals.push(openSeal(part.seal, logKey, nodeEd25519, key.origin).seal);
  }
  const inputs: PartInput[] = seals.map((seal, i) => ({
    entries: entries.slice(seal.part.first, seal.size),
    seal: notes[i]!,
  }));
  const verdict = await verifyLog(inputs, { logKey, ed25519: nodeEd25519, origin: key.origin });
  if (!verdict.ok) throw verdict.violation;
  await inParallel(head.size, 16, async (i) => {
    const proof = await getJson<{ index: number; size: number; path: string[] }>(
      `${queryUrl}/logs/self/proofs/inclusion?index=${i}&size=${head.size}`,
    );
    verifyInclusion(
      i,
      head.size,
      entryLeafHash(entries[i]!),
      proof.path.map((p) => fromBase64(p)),
      head.root,
    );
  });
  for (let i = 1; i < seals.length; i++) {
    const from = seals[i - 1]!;
    const to = seals[i]!;
    const proof = await getJson<{ from: number; to: number; path: string[] }>(
      `${queryUrl}/logs/self/proofs/consistency?from=${from.size}&to=${to.size}`,
    );
    verifyConsistency(
      from.size,
      to.size,
      proof.path.map((p) => fromBase64(p)),
      from.root,
      to.root,
    );
  }
  return { entries, seals };
}

/** Runs `task(0 … count − 1)`, at most `concurrency` at a time; rejects with the first failure. */
async function inParallel(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export interface ChildSigner {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves once the signer logged that it leads. */
  readonly leading: Promise<void>;
  /** Resolves to the HTTP URL once the signer listens. */
  readonly url: Promise<string>;
}

/** Starts the BUILT log-signer (`nest build log-signer`) as an operator runs it. */
export function spawnSigner(env: Record<string, string>): ChildSigner {
  const child = spawn(process.execPath, [BUILT_LOG_SIGNER], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let onLeading: () => void = () => undefined;
  let onUrl: (url: string) => void = () => undefined;
  const leading = new Promise<void>((resolve) => (onLeading = resolve));
  const url = new Promise<string>((resolve) => (onUrl = resolve));
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.includes('"msg":"leading"')) onLeading();
    const match = /"msg":"listening","url":"([^"]+)"/.exec(output);
    if (match?.[1]) onUrl(match[1]);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { child, output: () => output, leading, url };
}

/** SIGKILLs a child and resolves once it is gone. */
export function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
