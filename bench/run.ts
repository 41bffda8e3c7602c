/**
 * `npm run bench [-- --quick] [--profile [--profile-services gateway,…] [--profile-interval-us N] [--profile-keep DIR]] [--scenarios limits,embedded,ingest,query,tiles,scaling,federation,catchup]` (docs/BENCHMARKS.md).
 *
 * Starts what it needs itself — the local Kafka broker, PostgreSQL databases, one portal or the
 * three-portal federation as built services (deploy/federation) — runs each scenario for a
 * bounded time with the load generator in a process of its own (bench/load.ts), prints a table
 * beside the machine's own limits measured in the same run, writes the raw results as JSON under
 * bench/results/, and stops everything, also on failure and Ctrl-C.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { generateKeyPair, nodeEd25519 } from '@cryptomesh/crypto';
import { TiledLog, verifyTiledLog } from '@cryptomesh/client';
import { formatTilePath, hashLeaf, parseVerifierKey } from '@cryptomesh/log';
import type { LoadPlan, LoadResult } from './load';

/* eslint-disable @typescript-eslint/no-require-imports */
const { startFederation, SERVICES, SERVICE_NODE_FLAGS } = require('../deploy/federation/federation') as {
  startFederation: (o: Record<string, unknown>) => Promise<FederationHandle>;
  SERVICES: readonly string[];
  SERVICE_NODE_FLAGS: Readonly<Record<string, readonly string[]>>;
};
const { ensureBroker } = require('../deploy/kafka/kafka-broker') as {
  ensureBroker: (o: { log: (m: string) => void }) => Promise<{ brokers: string; stop: () => Promise<void> }>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

interface PortalView {
  id: string;
  /** Its log verifier key (portals.json). */
  verifierKey: string;
  urls: Record<string, string>;
  pids: Record<string, number>;
  logs: Record<string, string>;
}
interface FederationHandle {
  portals: PortalView[];
  stop: () => Promise<unknown>;
}

const ROOT = resolve(__dirname, '..');
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string', default: 'limits,embedded,ingest,query,tiles,scaling,federation,catchup' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    'catchup-entries': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'profile-services': { type: 'string', default: 'gateway,query,replication,log-signer' },
    'profile-interval-us': { type: 'string', default: '1000' },
    'profile-keep': { type: 'string' },
  },
});
const QUICK = args.quick;
/** With --profile, every service writes a V8 CPU profile, summarised in the results (docs/BENCHMARKS.md). */
const PROFILE_DIR = args.profile ? mkdtempSync(join(tmpdir(), 'cmp-bench-prof-')) : undefined;
/** With --profile-keep <dir>, the raw .cpuprofile files are kept there for a profiler's own view. */
const PROFILE_KEEP = args['profile-keep'];
const SCENARIOS = new Set(args.scenarios.split(','));
for (const s of SCENARIOS)
  if (!['limits', 'embedded', 'ingest', 'query', 'tiles', 'scaling', 'federation', 'catchup'].includes(s))
    throw new Error(`unknown scenario ${s}`);

/** Sizes: --quick for a smoke check (under two minutes), else the figures docs/BENCHMARKS.md records. */
const SIZES = QUICK
  ? {
      limitS: 1,
      catchup: 6_000,
      catchupS: 60,
      accounts: 16,
      perAccount: 60,
      concurrency: 32,
      loadS: 6,
      queryS: 4,
      fedRate: 300,
      fedS: 6,
      embeddedAccounts: 8,
      embeddedPerAccount: 40,
      embeddedLoadS: 6,
      embeddedQueryS: 4,
    }
  : {
      limitS: 3,
      catchup: 1_000_000,
      catchupS: 600,
      accounts: 64,
      perAccount: 700,
      concurrency: 64,
      loadS: 30,
      queryS: 20,
      fedRate: 1000,
      fedS: 30,
      embeddedAccounts: 16,
      embeddedPerAccount: 300,
      embeddedLoadS: 30,
      embeddedQueryS: 20,
    };

const SIZE = {
  ...SIZES,
  catchup: args['catchup-entries'] === undefined ? SIZES.catchup : Number(args['catchup-entries']),
};
if (!Number.isSafeInteger(SIZE.catchup) || SIZE.catchup < 1000)
  throw new Error('--catchup-entries: an integer ≥ 1000');

// ------------------------------------------------------------------------------------------------
// figures
// ------------------------------------------------------------------------------------------------

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function perSecond(operation: () => void, seconds: number): number {
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 16; i++) operation();
    count += 16;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

/** Peak RSS (VmHWM) in MB and CPU seconds (user + system) of one process, from /proc. */
function ownUsage(pid: number): { peakRssMb: number; cpuS: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime, and cutime + cstime: the workers of a WORKERS > 1 service that exited
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return { peakRssMb: hwm, cpuS: ticks / 100 };
  } catch {
    return { peakRssMb: NaN, cpuS: NaN };
  }
}

/** The live child processes of `pid` (the workers of a service run with WORKERS > 1). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((c) => c !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * A service's usage: its process and its live children (its workers). CPU is their sum; the peak
 * RSS is the largest of one process (what the per-process limit of issue #17 is about).
 */
function usage(pid: number): { peakRssMb: number; cpuS: number } {
  const own = ownUsage(pid);
  let { peakRssMb, cpuS } = own;
  for (const child of childrenOf(pid)) {
    const c = ownUsage(child);
    if (Number.isFinite(c.cpuS)) cpuS += c.cpuS;
    if (Number.isFinite(c.peakRssMb)) peakRssMb = Math.max(peakRssMb, c.peakRssMb);
  }
  return { peakRssMb, cpuS };
}

type Resources = Record<string, { peakRssMb: number; cpuS: number; cpuPercent: number }>;

function resourcesOf(federation: FederationHandle, before: Map<string, number>, wallS: number): Resources {
  return resourcesBetween(federation, { ms: Date.now() - wallS * 1000, cpu: before }, mark(federation));
}

/** A moment of a scenario: the time and every process's CPU seconds so far. */
interface Mark {
  ms: number;
  cpu: Map<string, number>;
}

function mark(federation: FederationHandle): Mark {
  return { ms: Date.now(), cpu: cpuBaseline(federation) };
}

/** CPU % of one core of each process between two marks; peak RSS so far. */
function resourcesBetween(federation: FederationHandle, from: Mark, to: Mark): Resources {
  const wallS = (to.ms - from.ms) / 1000;
  const out: Resources = {};
  for (const p of federation.portals)
    for (const [service, pid] of Object.entries(p.pids)) {
      const name = `${p.id}/${service}`;
      const cpuS = (to.cpu.get(name) ?? NaN) - (from.cpu.get(name) ?? 0);
      out[name] = { peakRssMb: usage(pid).peakRssMb, cpuS, cpuPercent: (100 * cpuS) / wallS };
    }
  const pg = (to.cpu.get('postgres') ?? NaN) - (from.cpu.get('postgres') ?? 0);
  out['postgres (all processes)'] = { peakRssMb: NaN, cpuS: pg, cpuPercent: (100 * pg) / wallS };
  return out;
}

/**
 * CPU seconds of every PostgreSQL process (the server is shared: its background work counts too),
 * the exited ones included: a backend's time goes to the postmaster's children's time (cutime,
 * cstime) when it is reaped, so the sum never goes back when connections close between two marks.
 */
function postgresCpuS(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

function cpuBaseline(federation: FederationHandle): Map<string, number> {
  const m = new Map<string, number>([['postgres', postgresCpuS()]]);
  for (const p of federation.portals)
    for (const [service, pid] of Object.entries(p.pids)) m.set(`${p.id}/${service}`, usage(pid).cpuS);
  return m;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Where a V8 profile's frame belongs: one of our libraries or apps, a package, or Node itself. */
function ownerOf(url: string): string {
  if (url === '') return '(native, GC, idle)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/(libs|apps)\/([^/]+)\//.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url.startsWith('node:') ? 'node' : url;
}

export type ProfileSummary = Record<
  string,
  { samples: number; byOwner: Array<[string, number]>; byFunction: Array<[string, number]> }
>;

/**
 * The CPU profiles the services wrote at exit (--profile), summarised per service: the share of
 * busy samples (idle and "(program)" left out) by owner and by function, self time.
 */
function summariseProfiles(services: Map<number, string>): ProfileSummary {
  const out: ProfileSummary = {};
  if (!PROFILE_DIR) return out;
  const tallies = new Map<
    string,
    { owners: Map<string, number>; functions: Map<string, number>; busy: number }
  >();
  for (const file of readdirSync(PROFILE_DIR)) {
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread; a
    // service's worker threads (SIGNATURE_WORKERS) are summarised together as "<service> workers".
    const [, pidText, threadText] = /^CPU\.[^.]+\.[^.]+\.(\d+)\.(\d+)\./.exec(file) ?? [];
    const main = services.get(Number(pidText));
    if (!main) continue;
    const service = threadText === '0' ? main : `${main} workers`;
    const profile = JSON.parse(readFileSync(join(PROFILE_DIR, file), 'utf8')) as { nodes: ProfileNode[] };
    const tally = tallies.get(service) ?? { owners: new Map(), functions: new Map(), busy: 0 };
    tallies.set(service, tally);
    const { owners, functions } = tally;
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      if (hits === 0 || functionName === '(idle)' || functionName === '(program)') continue;
      tally.busy += hits;
      const owner = functionName === '(garbage collector)' ? '(garbage collector)' : ownerOf(url);
      owners.set(owner, (owners.get(owner) ?? 0) + hits);
      const where =
        url === ''
          ? functionName
          : `${functionName || '(anonymous)'} ${url.replace(/^.*?\/(node_modules|libs|apps)\//, '$1/')}:${lineNumber + 1}`;
      functions.set(where, (functions.get(where) ?? 0) + hits);
    }
  }
  for (const [service, { owners, functions, busy }] of tallies) {
    const top = (m: Map<string, number>, n: number): Array<[string, number]> =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([k, v]) => [k, Math.round((1000 * v) / busy) / 10]);
    out[service] = { samples: busy, byOwner: top(owners, 10), byFunction: top(functions, 15) };
  }
  return out;
}

const PROFILES: ProfileSummary = {};

function pidsOf(federation: FederationHandle): Map<number, string> {
  const m = new Map<number, string>();
  for (const p of federation.portals)
    for (const [service, pid] of Object.entries(p.pids)) m.set(pid, `${p.id}/${service}`);
  return m;
}

// ------------------------------------------------------------------------------------------------
// the machine's limits
// ------------------------------------------------------------------------------------------------

async function withDatabase<T>(name: string, fn: (url: string) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Native (OpenSSL) Ed25519 verifications per second on one core, over `seconds`. */
function nativeVerifyRate(seconds: number): number {
  const key = generateKeyPair('Ed25519');
  const message = new Uint8Array(256).fill(7);
  const signature = nodeEd25519.sign(key.privateKey, message);
  const publicKey = createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, key.publicKey]),
    format: 'der',
    type: 'spki',
  });
  return perSecond(() => {
    if (!verify(null, message, publicKey, signature)) throw new Error('verify');
  }, seconds);
}

async function limits(brokers: string) {
  const seconds = SIZE.limitS;
  log('limits: Ed25519 verifications, SHA-256 leaf hashes (one core)');
  const key = generateKeyPair('Ed25519');
  const message = new Uint8Array(256).fill(7);
  const signature = nodeEd25519.sign(key.privateKey, message);
  const ed25519VerifyPerS = perSecond(() => {
    if (!nodeEd25519.verify(key.publicKey, message, signature)) throw new Error('verify');
  }, seconds);
  const nativeVerifyPerS = nativeVerifyRate(seconds);
  const entry = new Uint8Array(600).fill(3); // about a Publish entry's size
  const leafHashPerS = perSecond(() => hashLeaf(entry), seconds);
  const nodeLeafHashPerS = perSecond(
    () =>
      createHash('sha256')
        .update(new Uint8Array([0]))
        .update(entry)
        .digest(),
    seconds,
  );

  log('limits: batched PostgreSQL inserts');
  const pgInsertPerS = await withDatabase('cmp_bench_limits', async (url) => {
    const c = new Client({ connectionString: url });
    await c.connect();
    await c.query('CREATE TABLE t (id bigserial PRIMARY KEY, entry bytea NOT NULL)');
    const batch = Array.from({ length: 500 }, () => Buffer.from(entry));
    let rows = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      await c.query('INSERT INTO t (entry) SELECT unnest($1::bytea[])', [batch]);
      rows += batch.length;
    }
    const rate = (rows * 1000) / (performance.now() - start);
    await c.end();
    return rate;
  });

  log('limits: kafkajs produce and consume on the same broker');
  const kafka = new Kafka({
    clientId: 'bench-limits',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const topic = `bench.limits.${process.pid}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const value = Buffer.from(entry);
  let produced = 0;
  const p0 = performance.now();
  while (performance.now() - p0 < seconds * 1000) {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 500 }, () => ({ value })) });
    produced += 500;
  }
  const kafkaProducePerS = (produced * 1000) / (performance.now() - p0);
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `bench-limits-${process.pid}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let consumed = 0;
  let c0 = 0;
  const kafkaConsumePerS = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error('consume did not finish in 120 s')), 120_000);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (c0 === 0) c0 = performance.now();
        consumed += batch.messages.length;
        if (consumed >= produced) {
          clearTimeout(timer);
          done((consumed * 1000) / (performance.now() - c0));
        }
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  return {
    nativeVerifyPerS,
    ed25519VerifyPerS,
    leafHashPerS,
    nodeLeafHashPerS,
    pgInsertPerS,
    kafkaProducePerS,
    kafkaConsumePerS,
  };
}

// ------------------------------------------------------------------------------------------------
// scenarios
// ------------------------------------------------------------------------------------------------

/**
 * Runs the load generator; `onPhase` is called as it starts sending load ("load"), queries ("query")
 * and as it finishes ("done"), so that CPU is measured over each phase, not over the signing before.
 */
async function runLoad(
  plan: Omit<LoadPlan, 'out'>,
  onPhase: (phase: string) => void = () => undefined,
): Promise<LoadResult> {
  const out = join(mkdtempSync(join(tmpdir(), 'cmp-bench-')), 'load.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'load.ts'), JSON.stringify({ ...plan, out })],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let newline;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (line.startsWith('phase ')) onPhase(line.slice('phase '.length));
    }
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  return JSON.parse(readFileSync(out, 'utf8')) as LoadResult;
}

/** A checkpoint's tree size and the number of cosignatures (signature lines after the first). */
function parseCheckpoint(text: string): { size: number; cosignatures: number } {
  const [, sizeLine] = text.split('\n');
  const signatures = text.split('\n').filter((l) => l.startsWith('\u2014 ')).length;
  return { size: Number(sizeLine), cosignatures: Math.max(0, signatures - 1) };
}

/** Polls checkpoints every `everyMs`: for each (url, size), the first time it was seen. */
class CheckpointWatch {
  readonly firstSeen = new Map<string, Array<{ size: number; ms: number; cosignatures: number }>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  constructor(
    private readonly urls: string[],
    private readonly everyMs: number,
  ) {}

  start(): void {
    const tick = async () => {
      await Promise.all(
        this.urls.map(async (url) => {
          try {
            const res = await fetch(url);
            if (!res.ok) return;
            const c = parseCheckpoint(await res.text());
            const seen = this.firstSeen.get(url) ?? [];
            const last = seen[seen.length - 1];
            if (!last || c.size > last.size || c.cosignatures > last.cosignatures)
              seen.push({ size: c.size, ms: Date.now(), cosignatures: c.cosignatures });
            this.firstSeen.set(url, seen);
          } catch {
            /* a poll that fails is retried at the next tick */
          }
        }),
      );
      // a poll in flight when stop() is called must not schedule another
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.everyMs);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The first time `url` showed a size ≥ `size`. */
  timeOf(url: string, size: number): number | undefined {
    return this.firstSeen.get(url)?.find((s) => s.size >= size)?.ms;
  }

  size(url: string): number {
    const seen = this.firstSeen.get(url);
    return seen?.[seen.length - 1]?.size ?? 0;
  }
}

/** Index of every entry of the log at `prefix` below `size`, by its Authorisation signature. */
async function entryIndexes(prefix: string, size: number): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (let start = 0; start < size; start += 1000) {
    const end = Math.min(size, start + 1000);
    const res = await fetch(`${prefix}/entries?start=${start}&end=${end}`);
    if (!res.ok) throw new Error(`entries [${start}, ${end}): ${res.status}`);
    const { entries } = (await res.json()) as { entries: string[] };
    entries.forEach((entry, i) => {
      const record = JSON.parse(Buffer.from(entry, 'base64').toString('utf8')) as {
        Authorisation?: { signature?: unknown };
      };
      const signature = record.Authorisation?.signature;
      if (typeof signature === 'string') found.set(signature, start + i);
    });
  }
  return found;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`${what}: not reached within ${timeoutMs / 1000} s`);
  return false;
}

/** Quantiles of a histogram of a service's /metrics (linear within the bucket). */
async function histogramQuantiles(url: string, name: string, qs: number[]): Promise<number[]> {
  const text = await (await fetch(url)).text();
  const buckets = [
    ...text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*\\ble="([^"]+)"[^}]*\\} (\\S+)$`, 'gm')),
  ].map((m) => ({
    le: m[1] === '+Inf' ? Infinity : Number(m[1]),
    count: Number(m[2]),
  }));
  const total = buckets[buckets.length - 1]?.count ?? 0;
  return qs.map((q) => {
    const rank = q * total;
    let previous = { le: 0, count: 0 };
    for (const b of buckets) {
      if (b.count >= rank) {
        if (b.le === Infinity) return previous.le;
        return (
          previous.le +
          ((b.le - previous.le) * (rank - previous.count)) / Math.max(1, b.count - previous.count)
        );
      }
      previous = b;
    }
    return NaN;
  });
}

/**
 * Sums of counters at a service's /metrics, each by the value of one of its labels
 * (`gateway_commits_total{path="fast"} 12` gives `{ gateway_commits_total: { fast: 12 } }`). What a
 * service did under the load is stored with the result, so that a reader can check a slice's claims
 * against the run that made them.
 */
async function counters(
  url: string,
  specs: ReadonlyArray<readonly [name: string, label: string]>,
): Promise<Record<string, Record<string, number>>> {
  const text = await (await fetch(url)).text();
  const found: Record<string, Record<string, number>> = {};
  for (const [name, label] of specs) {
    const byLabel: Record<string, number> = {};
    for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
      const value = new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(m[1]!)?.[1];
      if (value !== undefined) byLabel[value] = (byLabel[value] ?? 0) + Number(m[2]);
    }
    found[name] = byLabel;
  }
  return found;
}

/** The gateway's counters a bench result keeps (over the whole scenario, its setup included). */
const GATEWAY_COUNTERS = [
  ['gateway_commits_total', 'path'],
  ['gateway_account_states_total', 'result'],
  ['gateway_group_rewrites_total', 'reason'],
  ['gateway_group_size_sum', 'kind'],
  ['gateway_group_size_count', 'kind'],
] as const;

/** One line of what the gateway did: its commit paths, its kept states, its groups. */
function describeGateway(c: Record<string, Record<string, number>>): string {
  const list = (name: string) =>
    Object.entries(c[name] ?? {})
      .map(([label, n]) => `${label} ${fmt(n)}`)
      .join(', ') || 'none';
  const mean = (kind: string) =>
    fmt((c['gateway_group_size_sum']?.[kind] ?? NaN) / (c['gateway_group_size_count']?.[kind] ?? NaN), 1);
  return (
    `commits: ${list('gateway_commits_total')}; states: ${list('gateway_account_states_total')}; ` +
    `groups written again: ${list('gateway_group_rewrites_total')}; mean group: peek ${mean('peek')}, commit ${mean('commit')}`
  );
}

/**
 * With --profile, the node arguments of the services named by --profile-services (all by default),
 * sampling every --profile-interval-us microseconds. Eighteen threads sampling every millisecond on
 * two cores took the federation from about 150 to 30 accepted/s (docs/BENCHMARKS.md "Results,
 * 2026-12-05, night"): there, profile one kind of service every 10 ms.
 */
const PROFILED = new Set(args['profile-services'].split(',').map((s) => s.trim()));
for (const s of PROFILED)
  if (!['gateway', 'query', 'replication', 'log-signer'].includes(s))
    throw new Error(`--profile-services: ${s} is not gateway, query, replication or log-signer`);
const PROFILE_INTERVAL_US = Number(args['profile-interval-us']);
if (!Number.isSafeInteger(PROFILE_INTERVAL_US) || PROFILE_INTERVAL_US < 100)
  throw new Error('--profile-interval-us: an integer ≥ 100');
const NODE_ARGS = (service: string): string[] =>
  PROFILE_DIR && PROFILED.has(service)
    ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-interval=${PROFILE_INTERVAL_US}`]
    : [];

/**
 * The services' environment: their defaults, except rate limits (off: the load comes from one
 * address) and logging (warnings only). `BENCH_SERVICE_<NAME>=value` in the bench's own environment
 * sets `<NAME>` for every service, to measure another configuration (docs/BENCHMARKS.md).
 */
const BENCH_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  RATE_LIMIT_ADDRESS_PER_MINUTE: '0',
  RATE_LIMIT_ACCOUNT_PER_MINUTE: '0',
  ...Object.fromEntries(
    Object.entries(process.env)
      .filter(([name]) => name.startsWith('BENCH_SERVICE_'))
      .map(([name, value]) => [name.slice('BENCH_SERVICE_'.length), value ?? '']),
  ),
};

/**
 * Starts portals as built services (deploy/federation) with the bench's environment, runs `scenario`
 * on them, and stops them, also on failure; with --profile, summarises their CPU profiles.
 */
async function withPortals<T>(
  label: string,
  brokers: string,
  options: { dir: string; portals?: string[]; extraPeers?: unknown[]; env?: Record<string, string> },
  scenario: (federation: FederationHandle) => Promise<T>,
): Promise<T> {
  const federation = await startFederation({
    kafkaBrokers: brokers,
    databaseUrl: ADMIN_URL,
    prefix: 'cmp_bench',
    nodeArgs: NODE_ARGS,
    stopWithProcess: true,
    log: (m: string) => log(`${label}: ${m}`),
    ...options,
    env: { ...BENCH_ENV, ...options.env },
  });
  try {
    return await scenario(federation);
  } finally {
    const pids = pidsOf(federation);
    await federation.stop();
    Object.assign(PROFILES, summariseProfiles(pids));
  }
}

async function portalScenario(brokers: string, dir: string, workers = 1) {
  log(`ingest and query: one portal, four services${workers > 1 ? `, WORKERS=${workers}` : ''}`);
  return withPortals(
    workers > 1 ? `portal-w${workers}` : 'portal',
    brokers,
    {
      dir: join(dir, workers > 1 ? `single-w${workers}` : 'single'),
      portals: ['bench'],
      ...(workers > 1 ? { env: { WORKERS: String(workers) } } : {}),
    },
    async (federation) => {
      const [portal] = federation.portals;
      const checkpointUrl = `${portal!.urls['query']}/logs/self/checkpoint`;
      const watch = new CheckpointWatch([checkpointUrl], 25);
      watch.start();
      const marks = new Map<string, Mark>();
      const result = await runLoad(
        {
          label: 'ingest',
          gateways: [portal!.urls['gateway']!],
          queries: SCENARIOS.has('query') ? [portal!.urls['query']!] : [],
          accounts: SIZE.accounts,
          perAccount: SIZE.perAccount,
          concurrency: SIZE.concurrency,
          durationS: SIZE.loadS,
          ...(SCENARIOS.has('query')
            ? {
                query: { durationS: SIZE.queryS, concurrency: 32 },
                reads: { durationS: SIZE.queryS, concurrency: 32 },
              }
            : {}),
        },
        (phase) => marks.set(phase, mark(federation)),
      );
      const setupEntries = SIZE.accounts * 3;
      const accepted = result.samples.filter((s) => s.ok).sort((a, b) => a.ackMs - b.ackMs);
      await until(
        'every accepted entry sealed',
        () => watch.size(checkpointUrl) >= setupEntries + accepted.length,
        60_000,
      );
      watch.stop();
      // A scrape that fails costs its counters, not the scenario's figures.
      const gateway = await counters(`${portal!.urls['gateway']}/metrics`, GATEWAY_COUNTERS).catch(
        (error: unknown) => {
          log(`ingest: the gateway's counters were not read: ${String(error)}`);
          return undefined;
        },
      );
      if (gateway)
        log(`ingest, ${workers} gateway process${workers > 1 ? 'es' : ''}: ${describeGateway(gateway)}`);
      const end = marks.get('done') ?? mark(federation);
      const resources = resourcesBetween(federation, marks.get('load')!, marks.get('query') ?? end);
      const queryResources = marks.has('query')
        ? resourcesBetween(federation, marks.get('query')!, marks.get('reads') ?? end)
        : undefined;
      const readsResources = marks.has('reads')
        ? resourcesBetween(federation, marks.get('reads')!, end)
        : undefined;
      const first = Math.min(...result.samples.map((s) => s.sentMs));
      const last = Math.max(...result.samples.map((s) => s.ackMs));
      const latencies = accepted.map((s) => s.ackMs - s.sentMs);
      // Each acknowledged request's own entry, found in the log by its Authorisation signature: its
      // integration is the first checkpoint that covers that entry. (Taking the k-th acknowledgement
      // for the k-th entry queued credited an entry acknowledged with its group commit, near a
      // part's boundary, to the next part.)
      const indexOf = await entryIndexes(`${portal!.urls['query']}/logs/self`, watch.size(checkpointUrl));
      const integration = accepted
        .map((s) => {
          const index = s.signature === undefined ? undefined : indexOf.get(s.signature);
          return index === undefined ? NaN : (watch.timeOf(checkpointUrl, index + 1) ?? NaN) - s.ackMs;
        })
        .filter((x) => Number.isFinite(x));
      const [serverP50, serverP99] = await histogramQuantiles(
        `${portal!.urls['log-signer']}/metrics`,
        'log_integration_latency_seconds',
        [0.5, 0.99],
      );
      const query = result.query;
      const queryOk = query?.samples.filter((s) => s.ok) ?? [];
      const tiles =
        SCENARIOS.has('tiles') && workers === 1
          ? await tileReads(`${portal!.urls['query']}/logs/self`, portal!.verifierKey)
          : undefined;
      return {
        tiles,
        ingest: {
          presignS: result.presignS,
          accepted: accepted.length,
          refused: result.samples.length - accepted.length,
          errors: result.errors,
          durationS: (last - first) / 1000,
          perS: accepted.length / ((last - first) / 1000),
          latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
          integrationMs: {
            p50: quantile(integration, 0.5),
            p99: quantile(integration, 0.99),
            measured: integration.length,
          },
          integrationServerMs: { p50: serverP50! * 1000, p99: serverP99! * 1000 },
          loadGeneratorCpuPercent: result.ownCpuPercent.load,
          gateway,
        },
        query: query && {
          loadGeneratorCpuPercent: result.ownCpuPercent.query ?? NaN,
          answered: query.samples.length,
          ok: queryOk.length,
          perS: query.samples.length / query.durationS,
          latencyMs: {
            p50: quantile(
              queryOk.map((s) => s.ms),
              0.5,
            ),
            p99: quantile(
              queryOk.map((s) => s.ms),
              0.99,
            ),
          },
        },
        reads: result.reads && {
          loadGeneratorCpuPercent: result.ownCpuPercent.reads ?? NaN,
          checkpoints: result.reads.checkpoints,
          proofs: result.reads.proofs,
          failed: result.reads.failed,
          perS: (result.reads.checkpoints + result.reads.proofs) / result.reads.durationS,
          latencyMs: { p50: quantile(result.reads.ms, 0.5), p99: quantile(result.reads.ms, 0.99) },
        },
        resources,
        queryResources,
        readsResources,
      };
    },
  );
}

async function federationScenario(brokers: string, dir: string) {
  log('federation: three portals, twelve services');
  return withPortals('federation', brokers, { dir: join(dir, 'federation') }, async (federation) => {
    const { portals } = federation;
    const self = (p: PortalView) => `${p.urls['query']}/logs/self/checkpoint`;
    const mirror = (at: PortalView, of: PortalView) => `${at.urls['query']}/logs/${of.id}/checkpoint`;
    const urls = portals.flatMap((p) => [
      self(p),
      ...portals.filter((q) => q !== p).map((q) => mirror(q, p)),
    ]);
    const watch = new CheckpointWatch(urls, 50);
    watch.start();
    const marks = new Map<string, Mark>();
    const t0 = Date.now();
    const perPortal = Math.ceil((SIZE.fedRate * SIZE.fedS) / (SIZE.accounts * 1.0));
    const result = await runLoad(
      {
        label: 'federation',
        gateways: portals.map((p) => p.urls['gateway']!),
        accounts: SIZE.accounts,
        perAccount: perPortal,
        concurrency: 256,
        rate: SIZE.fedRate,
        durationS: SIZE.fedS,
      },
      (phase) => marks.set(phase, mark(federation)),
    );
    const loadEnd = Date.now();
    await until(
      'every mirror at its origin head',
      () =>
        portals.every((p) =>
          portals.filter((q) => q !== p).every((q) => watch.size(mirror(q, p)) >= watch.size(self(p))),
        ),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 3000)); // the last cosignatures
    watch.stop();
    // from the first request to the last cosignature: the replication's work outlasts the load
    const resources = resourcesBetween(federation, marks.get('load')!, mark(federation));
    const lag: number[] = [];
    const cosign: number[] = [];
    for (const p of portals) {
      const seals = (watch.firstSeen.get(self(p)) ?? []).filter((s) => s.ms >= t0 && s.ms <= loadEnd);
      for (const seal of seals) {
        if (seal.cosignatures !== 0 && seals.some((s) => s.size === seal.size && s.ms < seal.ms)) continue;
        for (const q of portals.filter((x) => x !== p)) {
          const at = watch.timeOf(mirror(q, p), seal.size);
          if (at !== undefined) lag.push(at - seal.ms);
        }
        const cosigned = (watch.firstSeen.get(self(p)) ?? []).find(
          (s) => s.size === seal.size && s.cosignatures >= 2,
        );
        if (cosigned) cosign.push(cosigned.ms - seal.ms);
      }
    }
    const accepted = result.samples.filter((s) => s.ok);
    const first = Math.min(...result.samples.map((s) => s.sentMs));
    const last = Math.max(...result.samples.map((s) => s.ackMs));
    return {
      federation: {
        offeredPerS: SIZE.fedRate,
        loadGeneratorCpuPercent: result.ownCpuPercent.load,
        acceptedPerS: accepted.length / ((last - first) / 1000),
        accepted: accepted.length,
        refused: result.samples.length - accepted.length,
        errors: result.errors,
        latencyMs: {
          p50: quantile(
            accepted.map((s) => s.ackMs - s.sentMs),
            0.5,
          ),
          p99: quantile(
            accepted.map((s) => s.ackMs - s.sentMs),
            0.99,
          ),
        },
        replicationLagMs: { p50: quantile(lag, 0.5), p99: quantile(lag, 0.99), seals: lag.length },
        cosignatureLatencyMs: {
          p50: quantile(cosign, 0.5),
          p99: quantile(cosign, 0.99),
          seals: cosign.length,
        },
      },
      resources,
    };
  });
}

async function catchupScenario(brokers: string, dir: string) {
  log(`catch-up: a peer's log of ${fmt(SIZE.catchup)} entries, then a portal that joins late`);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'catchup-log.ts'),
      JSON.stringify({ brokers, id: 'early', entries: SIZE.catchup, perPart: 1000 }),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`the catch-up peer exited with ${code}`);
  const peer = JSON.parse(stdout) as { id: string; size: number };
  // The bound the catch-up is judged against, measured again on the quiet machine just before it
  // (the higher of the two counts): one measure at the run's start may fall in a busy moment.
  const machineVerifyPerS = nativeVerifyRate(SIZE.limitS);
  const options = {
    dir: join(dir, 'catchup'),
    portals: ['late'],
    extraPeers: [peer],
    env: { COSIGNATURE_QUORUM: '0' },
  };
  return withPortals('late portal', brokers, options, async (federation) => {
    const [portal] = federation.portals;
    const url = `${portal!.urls['query']}/logs/${peer.id}/checkpoint`;
    const before = cpuBaseline(federation);
    const t0 = Date.now();
    const watch = new CheckpointWatch([url], 250);
    watch.start();
    const timeoutMs = SIZE.catchupS * 1000;
    const ticker = setInterval(() => {
      const size = watch.size(url);
      const s = (Date.now() - t0) / 1000;
      process.stderr.write(
        `\r[catch-up] ${s.toFixed(0)} s: ${size}/${peer.size} entries mirrored (${Math.round(size / s)}/s)   `,
      );
    }, 2000);
    const done = await until("the mirror at the peer's head", () => watch.size(url) >= peer.size, timeoutMs);
    clearInterval(ticker);
    process.stderr.write('\n');
    watch.stop();
    const seen = watch.firstSeen.get(url) ?? [];
    const first = seen.find((x) => x.size > 0);
    const last = seen[seen.length - 1];
    const perS =
      first && last && last.ms > first.ms ? ((last.size - first.size) * 1000) / (last.ms - first.ms) : NaN;
    return {
      catchup: {
        entries: peer.size,
        mirrored: last?.size ?? 0,
        complete: done,
        perS,
        durationS: (Date.now() - t0) / 1000,
        /** Native Ed25519 verifications/s on one core, measured just before the catch-up. */
        machineVerifyPerS,
      },
      resources: resourcesOf(federation, before, (Date.now() - t0) / 1000),
    };
  });
}

// ------------------------------------------------------------------------------------------------

/** The single-portal mode's memory limit (issue #16), for the first start's peak and at rest. */
const EMBEDDED_RSS_LIMIT_MB = 250;

/**
 * The single-portal mode's memory (issue #16, target < 250 MB): `npm start`'s portal process on a
 * fresh DATA_DIR — its peak over the first start (the cluster is created in a child process, whose
 * own peak is not the portal's) — then at rest, after `restS` seconds of heartbeats; then a short
 * load (Publish, then queries with proofs) to show what the memory settings cost in throughput and
 * that the portal stays up under load. `BENCH_SERVICE_EMBEDDED_WASM_OPTIMISE=true` measures V8's
 * optimising tier for PGlite instead, for comparison.
 */
async function embeddedScenario(dir: string) {
  const dataDir = join(dir, 'embedded');
  const restS = QUICK ? 5 : 30;
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/portal/apps/portal/src/main.js')], {
    // The services' environment (rate limits off, BENCH_SERVICE_*), on a fresh DATA_DIR.
    env: { PATH: process.env.PATH ?? '', ...BENCH_ENV, DATA_DIR: dataDir, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  let exited: number | null | undefined;
  child.on('exit', (code, signal) => (exited = code ?? (signal ? -1 : null)));
  const started = Date.now();
  try {
    if (!(await until('the embedded portal', () => output.includes('verifier key'), 120_000)))
      throw new Error(`the embedded portal did not start:\n${output}`);
    const startS = (Date.now() - started) / 1000;
    const firstStartPeakMb = usage(child.pid!).peakRssMb;
    const url = /URL\s+(http:\/\/\S+)/.exec(output)?.[1];
    if (!url) throw new Error(`no URL in the embedded portal's banner:\n${output}`);
    await new Promise((r) => setTimeout(r, restS * 1000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const restRssMb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
    log(`embedded portal: first start ${fmt(firstStartPeakMb)} MB peak, ${fmt(restRssMb)} MB at rest; load`);
    const result = await runLoad({
      label: 'embedded',
      gateways: [url],
      queries: [url],
      accounts: SIZE.embeddedAccounts,
      perAccount: SIZE.embeddedPerAccount,
      concurrency: 8,
      durationS: SIZE.embeddedLoadS,
      query: { durationS: SIZE.embeddedQueryS, concurrency: 8 },
    });
    if (exited !== undefined)
      throw new Error(`the embedded portal exited (${exited}) under load:\n${output}`);
    const accepted = result.samples.filter((s) => s.ok);
    const first = Math.min(...result.samples.map((s) => s.sentMs));
    const last = Math.max(...result.samples.map((s) => s.ackMs));
    const queries = result.query?.samples ?? [];
    const queryOk = queries.filter((s) => s.ok);
    return {
      embedded: {
        wasmOptimised: BENCH_ENV['EMBEDDED_WASM_OPTIMISE'] === 'true',
        startS,
        firstStartPeakMb,
        restRssMb,
        restS,
        limitMb: EMBEDDED_RSS_LIMIT_MB,
        load: {
          accepted: accepted.length,
          refused: result.samples.length - accepted.length,
          errors: result.errors,
          publishPerS: accepted.length / ((last - first) / 1000),
          publishLatencyMs: {
            p50: quantile(
              accepted.map((s) => s.ackMs - s.sentMs),
              0.5,
            ),
            p99: quantile(
              accepted.map((s) => s.ackMs - s.sentMs),
              0.99,
            ),
          },
          queryPerS: queries.length / (result.query?.durationS ?? NaN),
          queryOk: queryOk.length,
          queryP99Ms: quantile(
            queryOk.map((s) => s.ms),
            0.99,
          ),
          // Over the whole run: the first start, rest and the load.
          peakRssMb: usage(child.pid!).peakRssMb,
        },
      },
    };
  } finally {
    child.kill('SIGTERM');
  }
}

/** The embedded figures above EMBEDDED_RSS_LIMIT_MB (the bench then exits with 1). */
function embeddedOverLimit(e: BenchResults['embedded']): string[] {
  if (!e) return [];
  return [
    ...(e.firstStartPeakMb < e.limitMb ? [] : [`first-start peak ${fmt(e.firstStartPeakMb)} MB`]),
    ...(e.restRssMb < e.limitMb ? [] : [`at rest ${fmt(e.restRssMb)} MB`]),
  ];
}

const fmt = (x: number | undefined, digits = 0) =>
  x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits });

type Limits = Awaited<ReturnType<typeof limits>>;
type PortalFigures = Awaited<ReturnType<typeof portalScenario>>;
type FederationFigures = Awaited<ReturnType<typeof federationScenario>>;
type CatchupFigures = Awaited<ReturnType<typeof catchupScenario>>;
type EmbeddedFigures = Awaited<ReturnType<typeof embeddedScenario>>;
/** The commit the bench runs from, so that a results file names the code it measured. */
function measuredCommit(): string | undefined {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], {
      cwd: __dirname,
      encoding: 'utf8',
    }).trim();
  } catch {
    return undefined; // not a git checkout (an unpacked release)
  }
}

interface BenchResults {
  machine: { cpus: number; cpu: string | undefined; memGb: number; node: string };
  quick: boolean;
  date: string;
  /** The commit measured (`git describe --always --dirty`: `-dirty` when the work tree had changes). */
  commit: string | undefined;
  serviceEnv: Record<string, string>;
  /** Node's flags of each service in the federations: the deployments' (federation.js), then --profile's. */
  serviceNodeFlags: Record<string, readonly string[]>;
  limits?: Limits;
  embedded?: EmbeddedFigures['embedded'];
  ingest?: PortalFigures['ingest'];
  query?: PortalFigures['query'];
  /** Checkpoint and inclusion proof reads, after the profile queries (issue #17). */
  reads?: PortalFigures['reads'];
  tiles?: PortalFigures['tiles'];
  ingestResources?: Resources;
  queryResources?: Resources;
  readsResources?: Resources;
  federation?: FederationFigures['federation'];
  federationResources?: Resources;
  catchup?: CatchupFigures['catchup'];
  catchupResources?: Resources;
  /** Ingest, query and reads again with WORKERS processes of the gateway and the query service. */
  scaling?: {
    workers: number;
    ingest: PortalFigures['ingest'];
    query: PortalFigures['query'];
    reads?: PortalFigures['reads'];
    ingestResources: Resources;
    queryResources?: Resources;
    readsResources?: Resources;
  };
  profiles?: ProfileSummary;
  /** With --profile: which services were profiled, and how often they were sampled. */
  profiling?: { services: string[]; intervalUs: number };
  durationS?: number;
}

function table(results: BenchResults): string {
  const l = results.limits;
  const rows: string[] = [];
  const row = (what: string, figure: string, target: string, ratio = '') =>
    rows.push(`| ${what} | ${figure} | ${target} | ${ratio} |`);
  rows.push('| figure | measured | target | beside the machine |', '| --- | ---: | ---: | --- |');
  if (l) {
    row(
      'Ed25519 verifications/s, one core: native (OpenSSL); with our EdDSA rules',
      `${fmt(l.nativeVerifyPerS)}; ${fmt(l.ed25519VerifyPerS)}`,
      '',
    );
    row(
      'SHA-256 leaf hashes/s, 600-byte entries (@noble/hashes; node:crypto)',
      `${fmt(l.leafHashPerS)}; ${fmt(l.nodeLeafHashPerS)}`,
      '',
    );
    row('PostgreSQL batched inserts/s (500 rows per INSERT)', fmt(l.pgInsertPerS), '');
    row(
      'kafkajs produce / consume messages/s (acks=all, 600 B)',
      `${fmt(l.kafkaProducePerS)} / ${fmt(l.kafkaConsumePerS)}`,
      '',
    );
  }
  const i = results.ingest;
  if (i) {
    row(
      'ingest: accepted Publish/s, one gateway',
      fmt(i.perS),
      '≥ 2,000',
      l ? `${fmt((i.perS / l.pgInsertPerS) * 100, 1)} % of batched inserts/s` : '',
    );
    row("ingest: the load generator's own CPU, % of one core", fmt(i.loadGeneratorCpuPercent), '');
    row(
      'ingest: acceptance latency p50 / p99 ms',
      `${fmt(i.latencyMs.p50)} / ${fmt(i.latencyMs.p99)}`,
      'p99 ≤ 250',
    );
    row(
      'ingest: integration latency p50 / p99 ms (client; log-signer)',
      `${fmt(i.integrationMs.p50)} / ${fmt(i.integrationMs.p99)}; ${fmt(i.integrationServerMs.p50)} / ${fmt(i.integrationServerMs.p99)}`,
      'p99 ≤ 1,000',
    );
  }
  const q = results.query;
  if (q)
    row(
      'query: /profiles/{udf} with proof, requests/s; p50 / p99 ms',
      `${fmt(q.perS)}; ${fmt(q.latencyMs.p50, 1)} / ${fmt(q.latencyMs.p99, 1)}`,
      '≥ 3,000; p99 ≤ 25',
      `load generator: ${fmt(q.loadGeneratorCpuPercent)} % of one core`,
    );
  const rd = results.reads;
  if (rd)
    row(
      'reads: checkpoint and inclusion proof reads/s (32 connections); p50 / p99 ms',
      `${fmt(rd.perS)}; ${fmt(rd.latencyMs.p50, 1)} / ${fmt(rd.latencyMs.p99, 1)}`,
      '≥ 10,000',
      `load generator: ${fmt(rd.loadGeneratorCpuPercent)} % of one core; ${fmt(rd.failed)} failed`,
    );
  const sc = results.scaling;
  if (sc) {
    const cpuOf = (r: Resources | undefined, service: string) =>
      fmt(Object.entries(r ?? {}).find(([name]) => name.endsWith(`/${service}`))?.[1].cpuPercent ?? NaN);
    row(
      `scaling: ingest Publish/s, 1 / ${sc.workers} gateway processes; acceptance p99 ms`,
      `${fmt(i?.perS ?? NaN)} / ${fmt(sc.ingest.perS)}; ${fmt(i?.latencyMs.p99 ?? NaN)} / ${fmt(sc.ingest.latencyMs.p99)}`,
      '',
      `gateway CPU % ${cpuOf(results.ingestResources, 'gateway')} / ${cpuOf(sc.ingestResources, 'gateway')}`,
    );
    if (sc.query)
      row(
        `scaling: query requests/s, 1 / ${sc.workers} query processes; p99 ms`,
        `${fmt(q?.perS ?? NaN)} / ${fmt(sc.query.perS)}; ${fmt(q?.latencyMs.p99 ?? NaN, 1)} / ${fmt(sc.query.latencyMs.p99, 1)}`,
        '',
        `query CPU % ${cpuOf(results.queryResources, 'query')} / ${cpuOf(sc.queryResources, 'query')}`,
      );
    if (sc.reads)
      row(
        `scaling: checkpoint and proof reads/s, 1 / ${sc.workers} query processes; p99 ms`,
        `${fmt(rd?.perS ?? NaN)} / ${fmt(sc.reads.perS)}; ${fmt(rd?.latencyMs.p99 ?? NaN, 1)} / ${fmt(sc.reads.latencyMs.p99, 1)}`,
        '≥ 10,000',
        `query CPU % ${cpuOf(results.readsResources, 'query')} / ${cpuOf(sc.readsResources, 'query')}`,
      );
  }
  const t = results.tiles;
  if (t) {
    row(
      `tiles: random hash tile / entry bundle reads/s (8 readers, log of ${fmt(t.size)}); p50 / p99 ms`,
      `${fmt(t.perS)}; ${fmt(t.latencyMs.p50, 1)} / ${fmt(t.latencyMs.p99, 1)}`,
      '',
      `${fmt(t.mbPerS, 1)} MB/s; ${t.errors} errors`,
    );
    row(
      'tiles: whole log verified through its tiles, entries/s',
      fmt(t.verifyEntriesPerS),
      '',
      `${fmt(t.verifyS, 1)} s`,
    );
  }
  const f = results.federation;
  if (f) {
    row(
      `federation: accepted/s at ${fmt(f.offeredPerS)}/s offered`,
      fmt(f.acceptedPerS),
      '≥ 600',
      `load generator: ${fmt(f.loadGeneratorCpuPercent)} % of one core`,
    );
    row(
      'federation: replication lag p50 / p99 ms',
      `${fmt(f.replicationLagMs.p50)} / ${fmt(f.replicationLagMs.p99)}`,
      'p99 ≤ 1,000',
      l ? `Kafka alone: ${fmt(l.kafkaProducePerS)} msg/s` : '',
    );
    row(
      'federation: cosignature latency p50 / p99 ms',
      `${fmt(f.cosignatureLatencyMs.p50)} / ${fmt(f.cosignatureLatencyMs.p99)}`,
      '',
    );
  }
  const c = results.catchup;
  if (c) {
    // Issue #17: 60 % of what the machine's Ed25519 allows, two verifications per entry; the
    // machine's figure is the higher of the limits' and the measure just before the catch-up.
    const perCore = Math.max(l?.nativeVerifyPerS ?? 0, c.machineVerifyPerS ?? 0);
    const bound = (availableParallelism() * perCore) / 2;
    row(
      `catch-up: verified entries/s mirroring ${fmt(c.entries)} entries${c.complete ? '' : ' (INCOMPLETE)'}`,
      fmt(c.perS),
      perCore > 0 ? `≥ ${fmt(0.6 * bound)}` : '',
      perCore > 0
        ? `${fmt((c.perS / bound) * 100)} % of ${availableParallelism()} cores × native Ed25519/s ÷ 2 (${fmt(perCore)}/s per core)`
        : '',
    );
  }
  const e = results.embedded;
  if (e) {
    const met = (mb: number) => (mb < e.limitMb ? 'met' : 'ABOVE THE LIMIT');
    const tier = e.wasmOptimised ? ' (EMBEDDED_WASM_OPTIMISE=true)' : '';
    row(`embedded portal (npm start)${tier}: first start, s`, fmt(e.startS, 1), '');
    row(
      'embedded portal: peak RSS over the first start, MB',
      fmt(e.firstStartPeakMb),
      `< ${e.limitMb}`,
      met(e.firstStartPeakMb),
    );
    row(
      `embedded portal: RSS at rest (${e.restS} s after start), MB`,
      fmt(e.restRssMb),
      `< ${e.limitMb}`,
      met(e.restRssMb),
    );
    row(
      'embedded portal under load: accepted Publish/s; p50 / p99 ms',
      `${fmt(e.load.publishPerS)}; ${fmt(e.load.publishLatencyMs.p50)} / ${fmt(e.load.publishLatencyMs.p99)}`,
      '',
      `${fmt(e.load.accepted)} accepted, ${fmt(e.load.refused)} refused`,
    );
    row(
      'embedded portal under load: queries/s with proof; p99 ms',
      `${fmt(e.load.queryPerS)}; ${fmt(e.load.queryP99Ms)}`,
      '',
      `${fmt(e.load.queryOk)} answered with a proof`,
    );
    row('embedded portal: peak RSS over start, rest and load, MB', fmt(e.load.peakRssMb), '', 'not a target');
  }
  for (const scenario of ['ingest', 'query', 'reads', 'federation', 'catchup'] as const) {
    const r = results[`${scenario}Resources`];
    if (!r) continue;
    const peak = Math.max(
      ...Object.values(r)
        .filter((x) => Number.isFinite(x.peakRssMb))
        .map((x) => x.peakRssMb),
    );
    row(`${scenario}: peak RSS of any service, MB`, fmt(peak), '≤ 250');
    for (const [name, x] of Object.entries(r))
      row(`${scenario}: ${name} peak RSS MB; CPU %`, `${fmt(x.peakRssMb)}; ${fmt(x.cpuPercent)}`, '');
  }
  for (const [service, p] of Object.entries(results.profiles ?? {}))
    if (p.samples > 1000)
      rows.push(
        `\n${service} CPU (${fmt(p.samples)} samples): ${p.byOwner.map(([o, pct]) => `${o} ${pct} %`).join(', ')}` +
          `\n  hottest functions (self): ${p.byFunction
            .slice(0, 6)
            .map(([f, pct]) => `${f} ${pct} %`)
            .join('; ')}`,
      );
  return rows.join('\n');
}

/**
 * Tile reads (issue #18): for SIZE.queryS seconds, 8 concurrent readers GET random hash tiles and
 * entry bundles of the portal's log as of its checkpoint (each a single lookup on the query
 * service); then the whole log is verified through its tiles as `mesh log verify --url` does.
 */
async function tileReads(prefix: string, verifierKey: string) {
  log('tiles: random tile and bundle reads, then the whole log verified through its tiles');
  const checkpoint = await (await fetch(`${prefix}/checkpoint`)).text();
  const size = Number(checkpoint.split('\n')[1]);
  const paths: string[] = [];
  for (let level = 0; 256 ** level <= size; level++) {
    for (let n = 0; n * 256 ** (level + 1) < size; n++) {
      const width = Math.min(256, Math.floor(size / 256 ** level) - n * 256);
      if (width <= 0) continue;
      paths.push(formatTilePath({ level, index: n, width }));
      if (level === 0) paths.push(formatTilePath({ level: 'entries', index: n, width }));
    }
  }
  const samples: number[] = [];
  let errors = 0;
  let bytes = 0;
  const deadline = Date.now() + SIZE.queryS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < deadline) {
        const path = paths[Math.floor(Math.random() * paths.length)]!;
        const t0 = performance.now();
        const res = await fetch(`${prefix}/${path}`);
        const body = await res.arrayBuffer();
        samples.push(performance.now() - t0);
        bytes += body.byteLength;
        if (res.status !== 200) errors++;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const verifyStart = Date.now();
  await verifyTiledLog(new TiledLog(prefix), parseVerifierKey(verifierKey), () => undefined, nodeEd25519);
  const verifyS = (Date.now() - verifyStart) / 1000;
  return {
    size,
    tilesAndBundles: paths.length,
    reads: samples.length,
    errors,
    perS: samples.length / seconds,
    mbPerS: bytes / 2 ** 20 / seconds,
    latencyMs: { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) },
    verifyS,
    verifyEntriesPerS: size / verifyS,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'cmp-bench-run-'));
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memGb: totalmem() / 2 ** 30,
    node: process.version,
  };
  log(`${QUICK ? 'quick' : 'full'} run: ${[...SCENARIOS].join(', ')} on ${machine.cpus} × ${machine.cpu}`);
  log(`services' environment: ${JSON.stringify(BENCH_ENV)}`);
  // The embedded portal needs no broker.
  const broker = [...SCENARIOS].some((s) => s !== 'embedded')
    ? await ensureBroker({ log: (m) => log(`kafka: ${m}`) })
    : { brokers: '', stop: () => Promise.resolve() };
  const results: BenchResults = {
    machine,
    quick: QUICK,
    date: new Date().toISOString(),
    commit: measuredCommit(),
    serviceEnv: BENCH_ENV,
    serviceNodeFlags: Object.fromEntries(
      SERVICES.map((s) => [s, [...(SERVICE_NODE_FLAGS[s] ?? []), ...NODE_ARGS(s)]]),
    ),
  };
  const stop = async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
    if (PROFILE_DIR && PROFILE_KEEP) cpSync(PROFILE_DIR, PROFILE_KEEP, { recursive: true });
    if (PROFILE_DIR) rmSync(PROFILE_DIR, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    if (SCENARIOS.has('limits')) results.limits = await limits(broker.brokers);
    if (SCENARIOS.has('embedded')) results.embedded = (await embeddedScenario(dir)).embedded;
    if (SCENARIOS.has('ingest') || SCENARIOS.has('query') || SCENARIOS.has('tiles')) {
      const r = await portalScenario(broker.brokers, dir);
      results.ingest = r.ingest;
      results.query = r.query;
      if (r.reads) results.reads = r.reads;
      if (r.tiles) results.tiles = r.tiles;
      results.ingestResources = r.resources;
      if (r.queryResources) results.queryResources = r.queryResources;
      if (r.readsResources) results.readsResources = r.readsResources;
    }
    if (SCENARIOS.has('scaling')) {
      // The same ingest, query and reads with two processes of the gateway and of the query service.
      const r = await portalScenario(broker.brokers, dir, 2);
      results.scaling = {
        workers: 2,
        ingest: r.ingest,
        query: r.query,
        ingestResources: r.resources,
        ...(r.queryResources ? { queryResources: r.queryResources } : {}),
        ...(r.reads ? { reads: r.reads } : {}),
        ...(r.readsResources ? { readsResources: r.readsResources } : {}),
      };
    }
    if (SCENARIOS.has('federation')) {
      const r = await federationScenario(broker.brokers, dir);
      results.federation = r.federation;
      results.federationResources = r.resources;
    }
    if (SCENARIOS.has('catchup')) {
      const r = await catchupScenario(broker.brokers, dir);
      results.catchup = r.catchup;
      results.catchupResources = r.resources;
    }
  } finally {
    await stop();
  }
  if (PROFILE_DIR) {
    results.profiles = PROFILES;
    results.profiling = { services: [...PROFILED], intervalUs: PROFILE_INTERVAL_US };
  }
  results.durationS = (Date.now() - started) / 1000;
  mkdirSync(args.out, { recursive: true });
  const file = join(
    args.out,
    `${new Date().toISOString().replace(/[:.]/g, '-')}${QUICK ? '-quick' : ''}.json`,
  );
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${table(results)}\n\nraw results: ${file} (${fmt(results.durationS)} s)\n`);
  const over = embeddedOverLimit(results.embedded);
  if (over.length > 0) {
    process.stderr.write(
      `bench: the embedded portal is above its ${EMBEDDED_RSS_LIMIT_MB} MB limit: ${over.join(', ')}\n`,
    );
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
