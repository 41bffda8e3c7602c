/**
 * `npm run test:compose` (issue #21): the REAL docker-compose.yml and deploy/Dockerfile, run for real
 * on this machine, and driven from the host through the published ports. docs/running.md
 * "docker-compose" describes every step; docs/testing.md says how long it takes.
 *
 * Environment (all optional):
 *   COMPOSE_TEST_TIMEOUT_MS    the whole run, cleanup excluded (default 45 minutes)
 *   COMPOSE_TEST_PORT_BASE     the first host port (default: a free range); COMPOSE_TEST_PROJECT the name
 *   COMPOSE_TEST_NPM_CA_FILE   PEM certificates npm trusts inside the image build (default: the local
 *                              CAs of /usr/local/share/ca-certificates, else none)
 *   COMPOSE_TEST_BREAK         a self-check: `service:VARIABLE=value` overrides one variable of one
 *                              service (a compose override file); the run must then FAIL
 *   COMPOSE_TEST_KEEP=1        leave the stack running on failure (for a look), printing how to stop it
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { caTrustingFetch } from '@cryptomesh/service';
import { cosignersOf, fetchLog, type KnownPortal } from '../support/federation-oracle';
import { exec, tail } from './exec';
import { ensureStandins } from './standins';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fetchKafka } = require('../../deploy/kafka/kafka-broker.js') as {
  fetchKafka: (o: { log: (m: string) => void }) => Promise<{ libDir: string }>;
};

const ROOT = join(__dirname, '../..');
const T0 = Date.now();
const TIMEOUT_MS = Number(process.env.COMPOSE_TEST_TIMEOUT_MS ?? 45 * 60_000);
const MESH_MAIN = join(ROOT, 'dist/apps/cli/apps/cli/src/main.js');
const PORTAL_SERVICES = ['gateway', 'query', 'log-signer', 'replication'] as const;
const ONE_SHOT = /-(migrate|kafka-setup)$|^kafka-setup$/;

const log = (line: string) =>
  process.stderr.write(`[test:compose +${Math.round((Date.now() - T0) / 1000)}s] ${line}\n`);

let passed = 0;
const step = async <T>(what: string, body: () => Promise<T>): Promise<T> => {
  log(`… ${what}`);
  const value = await body();
  passed += 1;
  log(`ok ${what}`);
  return value;
};

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let told = Date.now();
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs / 1000} s${last instanceof Error ? ` (last error: ${last.message})` : ''}`,
      );
    if (Date.now() - told > 30_000) {
      log(`  still waiting: ${what}`);
      told = Date.now();
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

// ---- tools and the engine ------------------------------------------------------------------------

async function ensureTools(): Promise<void> {
  const missing = [
    ['dockerd', 'docker.io'],
    ['docker-compose', 'docker-compose'],
    ['mmdebstrap', 'mmdebstrap'],
  ].filter(([tool]) => !['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((d) => existsSync(join(d, tool!))));
  if (missing.length === 0) return;
  const packages = missing.map(([, pkg]) => pkg!);
  log(`apt-get install ${packages.join(' ')}`);
  await exec('apt-get', ['update'], { timeoutMs: 600_000 });
  await exec('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
    timeoutMs: 900_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** Debian's docker CLI (the engine's version) when installed, else whatever `docker` is. */
const DOCKER = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

let startedDaemon: { pid: number; logFile: string } | undefined;

async function ensureDaemon(work: string): Promise<void> {
  if ((await exec(DOCKER, ['info'], { check: false, timeoutMs: 30_000 })).code === 0) {
    log('dockerd: already running (left running at the end)');
    return;
  }
  const logFile = join(work, 'dockerd.log');
  const fd = openSync(logFile, 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  startedDaemon = { pid: child.pid!, logFile };
  log(`dockerd: started (pid ${child.pid}, log ${logFile}); stopped at the end`);
  await waitFor(
    'dockerd answers',
    async () => (await exec(DOCKER, ['info'], { check: false, timeoutMs: 30_000 })).code === 0,
    90_000,
  );
}

async function stopDaemon(): Promise<void> {
  if (startedDaemon === undefined) return;
  const { pid } = startedDaemon;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      log('dockerd: stopped');
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  log('dockerd: still running after 60 s: SIGKILL');
  process.kill(pid, 'SIGKILL');
}

// ---- the stack -----------------------------------------------------------------------------------

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** A base port whose six ports (base + 100 i, + 1) are free. */
async function freePortBase(): Promise<number> {
  if (process.env.COMPOSE_TEST_PORT_BASE) return Number(process.env.COMPOSE_TEST_PORT_BASE);
  for (let tries = 0; tries < 50; tries += 1) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 10_000);
    const ports = [0, 1, 2].flatMap((i) => [base + 100 * i, base + 100 * i + 1]);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free port range found');
}

function npmCa(): string {
  const file = process.env.COMPOSE_TEST_NPM_CA_FILE;
  if (file) return readFileSync(file, 'utf8');
  const dir = '/usr/local/share/ca-certificates';
  if (!existsSync(dir)) return '';
  // The local CAs only: a whole bundle (200 kB) is more than one environment variable may hold.
  return readdirSync(dir)
    .filter((f) => f.endsWith('.crt'))
    .sort()
    .map((f) => readFileSync(join(dir, f), 'utf8').trim())
    .join('\n');
}

interface Stack {
  readonly project: string;
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
  readonly generated: string;
  readonly vars: Record<string, string>;
}

const compose = (
  stack: Stack,
  args: readonly string[],
  options: { timeoutMs?: number; echo?: string; check?: boolean } = {},
) =>
  exec('docker-compose', [...stack.args, ...args], {
    cwd: ROOT,
    env: stack.env,
    timeoutMs: 600_000,
    ...options,
  });

interface ContainerState {
  readonly id: string;
  readonly service: string;
  readonly status: string;
  readonly exitCode: number;
  readonly health: string | undefined;
  readonly restarts: number;
  /** The kernel's OOM killer ended its last run. */
  readonly oomKilled: boolean;
}

async function containers(stack: Stack): Promise<ContainerState[]> {
  const ids = (
    await exec(DOCKER, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${stack.project}`], {
      timeoutMs: 60_000,
    })
  ).stdout
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  // The whole inspection as JSON (a Go template failed on a container whose State has no Health);
  // a container removed since `ps` makes docker exit 1 but still print the others.
  const out = await exec(DOCKER, ['inspect', ...ids], { timeoutMs: 60_000, check: false });
  const inspected = JSON.parse(out.stdout.trim() || '[]') as Array<{
    Id: string;
    Config: { Labels?: Record<string, string> };
    State: { Status: string; ExitCode: number; OOMKilled?: boolean; Health?: { Status: string } };
    RestartCount: number;
  }>;
  return inspected
    .map((c) => ({
      id: c.Id,
      service: c.Config.Labels?.['com.docker.compose.service'] ?? c.Id.slice(0, 12),
      status: c.State.Status,
      exitCode: c.State.ExitCode,
      health: c.State.Health?.Status || undefined,
      restarts: c.RestartCount,
      oomKilled: c.State.OOMKilled === true,
    }))
    .sort((a, b) => a.service.localeCompare(b.service));
}

/**
 * The last lines a container wrote, across its restarts, its output and errors in the order written
 * (`docker logs` into one pipe; docker-compose v1's `logs` shows nothing of a container that is
 * restarting).
 */
async function logsOf(c: ContainerState, lines = 40): Promise<string> {
  const run = await exec('sh', ['-c', '"$0" logs --tail "$1" "$2" 2>&1', DOCKER, String(lines), c.id], {
    check: false,
    timeoutMs: 60_000,
  });
  return tail(run.stdout, lines);
}

/** The host's memory as the kernel counts it (a container killed for memory shows here first). */
function hostMemory(): string {
  try {
    const meminfo = readFileSync('/proc/meminfo', 'utf8');
    const mib = (key: string) =>
      Math.round(Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1]) / 1024);
    return `${mib('MemAvailable')} of ${mib('MemTotal')} MiB available`;
  } catch (error) {
    return `memory unknown (${String(error)})`;
  }
}

/**
 * Whether a container needs no look after a failure: never started (`up` stopped before it: it has
 * no log), a one-shot job that exited 0, or a running service that is healthy (or has no health
 * check) and never restarted. A job still running and a service still starting are looked at.
 */
function inOrder(c: ContainerState): boolean {
  if (c.status === 'created') return true;
  if (ONE_SHOT.test(c.service)) return c.status === 'exited' && c.exitCode === 0;
  return c.status === 'running' && c.restarts === 0 && (c.health === undefined || c.health === 'healthy');
}

/** Waits until every one-shot job exited 0 and every other container is healthy; fails at the first broken one. */
async function waitHealthy(stack: Stack, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const before = new Map((await containers(stack)).map((c) => [c.service, c.restarts]));
  let lastSummary = '';
  let told = 0;
  for (;;) {
    const states = await containers(stack);
    const broken = states.find(
      (c) =>
        (ONE_SHOT.test(c.service) && c.status === 'exited' && c.exitCode !== 0) ||
        (!ONE_SHOT.test(c.service) &&
          // A container that crashed and is being restarted shows "unhealthy" for a moment: a
          // transient start failure on a loaded machine (a database connect timing out) is what the
          // restart policy is for, so a restarting one is judged by its restart count alone.
          ((c.health === 'unhealthy' && c.status === 'running') ||
            c.restarts - (before.get(c.service) ?? 0) >= 3 ||
            c.status === 'exited')),
    );
    if (broken !== undefined)
      throw new Error(
        `${broken.service} is broken (${broken.status}, exit ${broken.exitCode}, health ${broken.health ?? '-'}, ${broken.restarts} restarts):\n${await logsOf(broken)}`,
      );
    const ready = states.filter((c) =>
      ONE_SHOT.test(c.service)
        ? c.status === 'exited' && c.exitCode === 0
        : c.health === 'healthy' && c.status === 'running',
    );
    if (states.length === expected && ready.length === expected) return;
    const summary = `${ready.length}/${expected} ready; waiting for ${states
      .filter((c) => !ready.includes(c))
      .map((c) => `${c.service} (${c.health ?? c.status})`)
      .join(', ')}`;
    if (summary !== lastSummary || Date.now() - told > 30_000) {
      log(`  ${summary}`);
      lastSummary = summary;
      told = Date.now();
    }
    if (Date.now() > deadline)
      throw new Error(`not every container ready within ${timeoutMs / 1000} s: ${summary}`);
    await new Promise((r) => setTimeout(r, 5_000));
  }
}

// ---- the mesh CLI from the host -----------------------------------------------------------------

async function mesh(home: string, ca: string, args: readonly string[]) {
  return exec(process.execPath, [MESH_MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', MESH_HOME: home, MESH_CA_FILE: ca },
    timeoutMs: 180_000,
    check: false,
  });
}

async function meshJson<T>(home: string, ca: string, args: readonly string[]): Promise<T> {
  const run = await mesh(home, ca, ['--json', ...args]);
  if (run.code !== 0)
    throw new Error(`mesh ${args.join(' ')} exited ${run.code}:\n${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as T;
}

/**
 * federation.json names every peer's query service by its address inside the compose network
 * (https://beta-query:8082), which the host cannot resolve: the client's pinned peers are pointed at
 * the published ports instead. Only addresses change; the pinned keys are what the portal served.
 */
function pointPeersAtHost(home: string, portals: readonly KnownPortal[]): void {
  const file = join(home, 'trust.json');
  const trust = JSON.parse(readFileSync(file, 'utf8')) as { peers: Array<{ id: string; queryUrl: string }> };
  for (const peer of trust.peers) peer.queryUrl = portals.find((p) => p.id === peer.id)!.queryUrl;
  writeFileSync(file, JSON.stringify(trust, null, 2));
}

// ---- the run -------------------------------------------------------------------------------------

async function main(work: string, stackRef: { stack?: Stack }): Promise<void> {
  await step('tools: dockerd, docker-compose, mmdebstrap', ensureTools);
  await step('the container engine', () => ensureDaemon(work));
  const standins = await step('stand-in base images (test/compose/standins)', () =>
    ensureStandins({
      docker: DOCKER,
      log: (line) => log(`  ${line}`),
      kafkaLibDir: async () => (await fetchKafka({ log: (m) => log(`  kafka: ${m}`) })).libDir,
    }),
  );
  log(
    `  ${Object.entries(standins)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}`,
  );

  const project = process.env.COMPOSE_TEST_PROJECT ?? `cmp-compose-test-${process.pid}`;
  const portBase = await freePortBase();
  const generated = join(work, 'generated');
  await step(`npm run compose:init (project ${project}, ports from ${portBase})`, async () => {
    await exec('npm', ['run', 'compose:init', '--', generated], {
      cwd: ROOT,
      env: { ...process.env, COMPOSE_PROJECT_NAME: project, COMPOSE_PORT_BASE: String(portBase) },
      timeoutMs: 600_000,
    });
    if (!existsSync(MESH_MAIN))
      await exec('npx', ['--no-install', 'nest', 'build', 'cli'], { cwd: ROOT, timeoutMs: 600_000 });
  });
  const vars = Object.fromEntries(
    readFileSync(join(generated, 'compose.env'), 'utf8')
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  const args = [
    '-p',
    project,
    '--env-file',
    join(generated, 'compose.env'),
    '-f',
    join(ROOT, 'docker-compose.yml'),
  ];
  const broken = process.env.COMPOSE_TEST_BREAK;
  if (broken) {
    const match = /^([a-z0-9-]+):([A-Z0-9_]+)=(.*)$/s.exec(broken);
    if (!match) throw new Error(`COMPOSE_TEST_BREAK ${JSON.stringify(broken)}: service:VARIABLE=value`);
    const override = join(work, 'break.override.json');
    writeFileSync(
      override,
      JSON.stringify({
        version: '3.8',
        services: { [match[1]!]: { environment: { [match[2]!]: match[3]! } } },
      }),
    );
    args.push('-f', override);
    log(`SELF-CHECK: ${match[1]} runs with ${match[2]}=${match[3]}: this run must fail`);
  }
  const stack: Stack = {
    project,
    args,
    generated,
    vars,
    env: { ...process.env, NPM_CA: npmCa(), DOCKER_BUILDKIT: '0', COMPOSE_DOCKER_CLI_BUILD: '0' },
  };
  stackRef.stack = stack;

  await step('docker-compose config -q', () => compose(stack, ['config', '-q']));
  const serviceList = (await compose(stack, ['config', '--services'])).stdout.trim().split('\n');
  await step(
    `docker-compose up --build -d (${serviceList.length} services; the image build is slow on 2 cores)`,
    () =>
      compose(stack, ['up', '--build', '-d'], {
        timeoutMs: 40 * 60_000,
        echo: '  | ',
      }),
  );
  await step('every container healthy, every one-shot job exited 0', () =>
    waitHealthy(stack, serviceList.length, 15 * 60_000),
  );

  const ca = join(generated, 'tls/ca.pem');
  const caPem = readFileSync(ca, 'utf8');
  const fetchImpl = caTrustingFetch(caPem);
  const federation = JSON.parse(readFileSync(join(generated, 'federation.json'), 'utf8')) as Array<
    Omit<KnownPortal, 'gatewayUrl'>
  >;
  const portals: KnownPortal[] = federation.map((p) => ({
    ...p,
    gatewayUrl: `https://localhost:${vars[`${p.id.toUpperCase()}_GATEWAY_PORT`]}`,
    queryUrl: `https://localhost:${vars[`${p.id.toUpperCase()}_QUERY_PORT`]}`,
  }));
  const others = (p: KnownPortal) => portals.filter((q) => q.id !== p.id);
  const homes = new Map(portals.map((p) => [p.id, mkdtempSync(join(work, `mesh-${p.id}-`))]));

  await step(
    'HTTPS with the generated CA: every gateway and query service answers, and refuses without it',
    async () => {
      for (const p of portals)
        for (const url of [`${p.gatewayUrl}/health/ready`, `${p.queryUrl}/health/ready`]) {
          const res = await fetchImpl(url);
          if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
          const untrusted = await fetch(url).then(
            () => 'answered',
            (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message),
          );
          if (untrusted === 'answered') throw new Error(`${url} answered a client without the CA`);
        }
    },
  );

  await step('the mesh CLI creates a profile at each portal and stores a password there', async () => {
    for (const p of portals) {
      const home = homes.get(p.id)!;
      const created = await meshJson<{ portal: { id: string } }>(home, ca, [
        'profile',
        'create',
        '--portal',
        p.gatewayUrl,
        '--account',
        `user-${p.id}@example.com`,
      ]);
      if (created.portal.id !== p.id) throw new Error(`created at ${created.portal.id}, not ${p.id}`);
      pointPeersAtHost(home, portals);
      await meshJson(home, ca, [
        'password',
        'add',
        'bank.example',
        '--username',
        p.id,
        '--password',
        `at ${p.id}`,
      ]);
    }
  });

  /** The size of p's log its client last verified (the mesh home's checkpoint memory). */
  const seenSize = (p: KnownPortal): number =>
    (
      JSON.parse(
        readFileSync(join(homes.get(p.id)!, 'checkpoints', `${encodeURIComponent(p.id)}.json`), 'utf8'),
      ) as { size: number }
    ).size;
  const sizes = new Map<string, number>();
  await step(
    'every log seals its entries (checkpoint signed by its log key, entries match its root)',
    async () => {
      for (const p of portals) {
        const own = await waitFor(
          `${p.id}'s sealed log`,
          async () => {
            const fetched = await fetchLog(p.queryUrl, 'self', p, fetchImpl);
            return fetched !== undefined && fetched.seal.size >= seenSize(p) ? fetched : undefined;
          },
          120_000,
        );
        sizes.set(p.id, own.seal.size);
        log(`  ${p.id}: ${own.seal.size} entries sealed`);
      }
    },
  );

  const mirrored = (p: KnownPortal, atLeast: number, at: readonly KnownPortal[] = others(p)) =>
    Promise.all(
      at.map((q) =>
        waitFor(
          `${q.id} mirrors ${p.id}'s log up to ${atLeast} entries, cosigned by ${others(p)
            .map((w) => w.id)
            .join(' and ')}`,
          async () => {
            const mirror = await fetchLog(q.queryUrl, p.id, p, fetchImpl);
            return (
              mirror !== undefined &&
              mirror.seal.size >= atLeast &&
              cosignersOf(mirror.checkpoint, others(p)).length === others(p).length
            );
          },
          300_000,
        ),
      ),
    );
  await step(
    'every portal mirrors the others and cosigns them (read through each query service)',
    async () => {
      for (const p of portals) await mirrored(p, sizes.get(p.id)!);
    },
  );

  await step(
    "Kafka refuses a portal's credentials on another portal's topic (and a wrong password)",
    async () => {
      const script = `
const fs = require('fs'); const { Kafka, logLevel } = require('kafkajs');
const password = fs.readFileSync('/run/secrets/alpha_kafka_password', 'utf8').trim();
const kafka = (p) => new Kafka({ clientId: 'compose-test', brokers: ['kafka:9092'], logLevel: logLevel.NOTHING,
  retry: { retries: 0 }, sasl: { mechanism: 'scram-sha-512', username: 'alpha', password: p } });
(async () => {
  const out = {};
  const admin = kafka(password).admin(); await admin.connect();
  out.ownTopic = (await admin.fetchTopicMetadata({ topics: ['intermesh.log.alpha'] })).topics[0].name;
  await admin.disconnect();
  const producer = kafka(password).producer(); await producer.connect();
  try { await producer.send({ topic: 'intermesh.log.beta', messages: [{ value: 'forged' }] }); out.foreign = 'accepted'; }
  catch (e) { out.foreign = [e.name, e.type, e.cause && e.cause.type, e.message].join(' '); }
  await producer.disconnect();
  try { const p = kafka(password + 'x').producer(); await p.connect(); out.wrongPassword = 'accepted'; await p.disconnect(); }
  catch (e) { out.wrongPassword = [e.name, e.cause && e.cause.name, e.message].join(' '); }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });`;
      const run = await compose(
        stack,
        ['run', '--rm', '--no-deps', '-T', '--entrypoint', 'node', 'alpha-replication', '-e', script],
        {
          timeoutMs: 180_000,
        },
      );
      const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, string>;
      log(`  as alpha: ${JSON.stringify(out)}`);
      if (out.ownTopic !== 'intermesh.log.alpha')
        throw new Error(`alpha cannot describe its own topic: ${run.stdout}`);
      if (!/\bTOPIC_AUTHORIZATION_FAILED\b/.test(out.foreign ?? ''))
        throw new Error(`alpha writing beta's topic: ${out.foreign}`);
      if (!/^KafkaJSSASLAuthenticationError\b/.test(out.wrongPassword ?? ''))
        throw new Error(`a wrong password: ${out.wrongPassword}`);
    },
  );

  const [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
  const portalServices = (p: KnownPortal) => [
    ...PORTAL_SERVICES.map((s) => `${p.id}-${s}`),
    `${p.id}-postgres`,
  ];
  await step(
    `${A.id}'s containers stopped: its user's profile read with proof at ${B.id} and ${C.id}`,
    async () => {
      await compose(stack, ['stop', ...portalServices(A)], { timeoutMs: 300_000 });
      const home = homes.get(A.id)!;
      const atA = await mesh(home, ca, ['profile', 'show', '--verify']);
      if (atA.code === 0) throw new Error(`${A.id} still answers after its containers were stopped`);
      for (const via of [B, C]) {
        const run = await mesh(home, ca, ['profile', 'show', '--via', via.id]);
        const expected = new RegExp(
          `^verified +master profile .* of ${A.id}'s log, .* served by ${via.id}, proof from tiles$`,
          'm',
        );
        if (run.code !== 0 || !expected.test(run.stdout))
          throw new Error(`profile via ${via.id}: exit ${run.code}\n${run.stdout}${run.stderr}`);
        log(
          `  ${run.stdout
            .trim()
            .split('\n')
            .find((l) => expected.test(l))}`,
        );
      }
      // Meanwhile beta's log grows: alpha must catch up with it when it is back.
      await meshJson(homes.get(B.id)!, ca, [
        'password',
        'add',
        'while-alpha-was-down.example',
        '--username',
        'b',
        '--password',
        'x',
      ]);
      sizes.set(
        B.id,
        await waitFor(
          `${B.id}'s new entry sealed`,
          async () => {
            const own = await fetchLog(B.queryUrl, 'self', B, fetchImpl);
            return own !== undefined && own.seal.size > sizes.get(B.id)! ? own.seal.size : undefined;
          },
          120_000,
        ),
      );
    },
  );

  await step(
    `${A.id} back: healthy again, catches up with ${B.id}'s log, and its new entries reach the peers`,
    async () => {
      await compose(stack, ['start', ...portalServices(A)], { timeoutMs: 300_000 });
      await waitHealthy(stack, serviceList.length, 10 * 60_000);
      await mirrored(B, sizes.get(B.id)!, [A, C]);
      await meshJson(homes.get(A.id)!, ca, [
        'password',
        'add',
        'after-restart.example',
        '--username',
        'a',
        '--password',
        'y',
      ]);
      const size = await waitFor(
        `${A.id}'s new entry sealed`,
        async () => {
          const own = await fetchLog(A.queryUrl, 'self', A, fetchImpl);
          return own !== undefined && own.seal.size > sizes.get(A.id)! ? own.seal.size : undefined;
        },
        120_000,
      );
      await mirrored(A, size);
    },
  );

  await step('no portal reports a finding', async () => {
    for (const p of portals) {
      const res = await fetchImpl(`${p.queryUrl}/findings?status=open`);
      const body = (await res.json()) as { findings?: unknown[] };
      if (res.status !== 200 || !Array.isArray(body.findings) || body.findings.length > 0)
        throw new Error(`${p.id} /findings: ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
    }
  });
}

/** What of the project is still there: containers (running or not), volumes and networks, by id. */
async function leftovers(stack: Stack): Promise<Record<'container' | 'volume' | 'network', string[]>> {
  const left = { container: [] as string[], volume: [] as string[], network: [] as string[] };
  for (const kind of ['container', 'volume', 'network'] as const) {
    const listed = await exec(
      DOCKER,
      [
        kind,
        'ls',
        ...(kind === 'container' ? ['-a'] : []),
        '-q',
        '--filter',
        `label=com.docker.compose.project=${stack.project}`,
      ],
      { check: false, timeoutMs: 60_000 },
    );
    left[kind] = listed.stdout.trim() === '' ? [] : listed.stdout.trim().split('\n');
  }
  return left;
}

async function cleanup(stack: Stack | undefined, work: string, failed: boolean): Promise<void> {
  if (stack !== undefined) {
    if (failed) {
      const states = await containers(stack).catch((error: unknown) => {
        log(`  the containers' states could not be read: ${String(error)}`);
        return [];
      });
      for (const c of states)
        log(
          `  ${c.service}: ${c.status} (exit ${c.exitCode}), health ${c.health ?? '-'}, ${c.restarts} restarts${c.oomKilled ? ', OOM-killed' : ''}`,
        );
      log(
        `  the host: ${hostMemory()}, load ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
      );
      // The logs of whatever is not in order (restarted, unhealthy, exited badly, a job still running,
      // a service still starting): a failed CI run must say why without a second run. Those that
      // wrote nothing yet are named on one line.
      const silent: string[] = [];
      for (const c of states.filter((c) => !inOrder(c))) {
        const lines = await logsOf(c, 80).catch(String);
        if (lines === '') silent.push(c.service);
        else log(`  ---- ${c.service}, its last lines:\n${lines}`);
      }
      if (silent.length > 0) log(`  no log yet: ${silent.join(', ')}`);
      if (process.env.COMPOSE_TEST_KEEP === '1') {
        log(`COMPOSE_TEST_KEEP=1: the stack is left running: docker-compose ${stack.args.join(' ')} down -v`);
        return;
      }
    }
    log('docker-compose down -v');
    const down = await compose(stack, ['down', '-v', '--remove-orphans', '--timeout', '30'], {
      timeoutMs: 600_000,
      check: false,
    });
    if (down.code !== 0) log(`  docker-compose down exited ${down.code}:\n${tail(down.stderr, 10)}`);
    let left = await leftovers(stack);
    // dockerd 20.10 sometimes keeps an endpoint of a container it removed (moby/moby#42119; here
    // after the stop and start of one portal's containers): the network then "has active
    // endpoints" with no container in it, compose's down stops there and leaves the volumes. Only
    // a restart of the daemon forgets the endpoint. Anything else left is the stack's own fault.
    if (
      down.stderr.includes('has active endpoints') &&
      left.container.length === 0 &&
      left.network.length > 0 &&
      startedDaemon !== undefined
    ) {
      log(
        `  the network of no container still has an endpoint (dockerd's stale endpoint, moby/moby#42119): ` +
          `its volumes removed, dockerd restarted, the network removed`,
      );
      for (const volume of left.volume) await exec(DOCKER, ['volume', 'rm', volume], { timeoutMs: 60_000 });
      await stopDaemon();
      await ensureDaemon(work);
      for (const network of left.network)
        await exec(DOCKER, ['network', 'rm', network], { timeoutMs: 60_000 });
      left = await leftovers(stack);
    }
    const named = Object.entries(left)
      .filter(([, ids]) => ids.length > 0)
      .map(([kind, ids]) => `${kind}s: ${ids.join(' ')}`);
    if (named.length > 0) throw new Error(`docker-compose down left ${named.join('; ')}`);
    log(`nothing of project ${stack.project} is left (containers, volumes, network)`);
  }
  await stopDaemon();
  rmSync(work, { recursive: true, force: true });
}

async function run(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'cmp-compose-test-'));
  log(`work directory ${relative(process.cwd(), work) || work}; global timeout ${TIMEOUT_MS / 60_000} min`);
  const stackRef: { stack?: Stack } = {};
  let failure: unknown;
  let timer: NodeJS.Timeout | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`global timeout: ${TIMEOUT_MS / 60_000} min`)), TIMEOUT_MS);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.once(signal, () => reject(new Error(`interrupted by ${signal}`)));
  });
  try {
    await Promise.race([main(work, stackRef), interrupted]);
  } catch (error) {
    failure = error;
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
  }
  try {
    await cleanup(stackRef.stack, work, failure !== undefined);
  } catch (error) {
    failure ??= error;
    log(`cleanup FAILED: ${error instanceof Error ? error.message : String(error)}`);
  }
  const minutes = ((Date.now() - T0) / 60_000).toFixed(1);
  process.stdout.write(`compose: ${passed} passed, ${failure === undefined ? 0 : 1} failed\n`);
  log(`${failure === undefined ? 'passed' : 'FAILED'} in ${minutes} min`);
  return failure === undefined ? 0 : 1;
}

void run().then((code) => process.exit(code));
