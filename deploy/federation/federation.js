#!/usr/bin/env node
'use strict';
/**
 * The local federation (docs/running.md "Local federation", docs/design/federation.md "Local
 * federation"): N portals on this machine, each as its four BUILT services (gateway, query,
 * replication, log-signer) in the background, one PostgreSQL database per portal, one Kafka broker.
 *
 *   startFederation(options) -> handle: { portals, stopService(), startService(), stop(), ... }
 *   stopFederation({ dir })  -> stops what state.json records, drops the databases
 *   federationStatus({ dir }) -> what runs, and what each /health answers
 *
 * CLI:  node deploy/federation/federation.js up [--dir DIR] [--portals a,b,c] [--prefix P] [--build] [--tls]
 *                                          | down [--dir DIR] [--keep-data] | status [--dir DIR]
 *       (npm run federation:up / federation:down / federation:status). Environment: FEDERATION_DIR,
 *       FEDERATION_PORTALS, FEDERATION_PREFIX, FEDERATION_TLS=1 (for the flags), KAFKA_BROKERS,
 *       FEDERATION_DATABASE_URL. With --tls every gateway and query service serves HTTPS with a
 *       certificate of a local CA made in <dir>/tls (docs/tls.md); portals.json then names it (caFile).
 *
 * Every service is started DETACHED (own process group, output in <dir>/<portal>/<service>.log), so
 * the federation outlives the command that started it; <dir>/state.json records everything `down`
 * needs. Plain CommonJS on purpose: it runs the built services and needs no build of its own.
 */
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const { freePorts } = require('../kafka/kafka-broker');
const { groupId } = require('../kafka/acls');
const { issueServerCertificate } = require('../tls/local-ca');
const { createServiceUsers, dropServiceUsers } = require('../database/service-users');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const KAFKA_SCRIPT = path.join(ROOT, 'deploy/kafka/kafka-broker.js');
/** Start order does not matter (migrations run before); this is the order of logs and status. */
const SERVICES = ['gateway', 'query', 'replication', 'log-signer'];

const DEFAULTS = {
  /** The default directory is the repository's; a `dir` given is relative to the working directory. */
  dir: path.join(ROOT, '.federation'),
  portals: ['alpha', 'beta', 'gamma'],
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  prefix: 'cmp_fed',
  healthTimeoutMs: 60_000,
  stopTimeoutMs: 15_000,
  brokerTimeoutMs: 180_000,
};
const PORTAL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DB_PREFIX = /^[a-z_][a-z0-9_]*$/;
const LOG_TAIL_LINES = 30;
const STATE_VERSION = 1;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function defaultLog(message) {
  process.stderr.write(`[federation] ${message}\n`);
}

function mainOf(service) {
  return path.join(ROOT, 'dist/apps', service, 'apps', service, 'src/main.js');
}

/**
 * Node's own flags for a service, as every shipped deployment starts it (docker-compose.yml,
 * deploy/k8s): the replication service collects garbage on its main thread alone, in a young
 * generation of at most 2 × 8 MB (docs/configuration.md "Node flags").
 */
const SERVICE_NODE_FLAGS = Object.freeze({
  replication: Object.freeze(['--single-threaded-gc', '--max-semi-space-size=8']),
});

function originOf(id) {
  return `localhost/cryptomesh/${id}`;
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/** Kernel start time of a process (/proc/<pid>/stat field 22), to tell a recorded pid from a reused one. */
function procStartTime(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** True while `pid` runs (a zombie — exited, not yet reaped — does not count). */
function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc: trust kill -0
  }
}

/** A recorded process ({pid, startTime}) that still runs and is still the one we started. */
function isRunning(rec) {
  if (!rec || !rec.pid || !isAlive(rec.pid)) return false;
  if (!rec.startTime) return true;
  const now = procStartTime(rec.pid);
  return now === null || now === rec.startTime;
}

/** Signals the process group of a detached process (its pid), falling back to the process alone. */
function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return;
  } catch {
    /* not a group leader, or gone */
  }
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

async function waitGone(rec, ms) {
  const deadline = Date.now() + ms;
  while (isRunning(rec)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** SIGTERM (or `signal`) to the group, up to `ms` for it to exit, then SIGKILL. Resolves once it is gone. */
async function terminate(rec, ms, signal = 'SIGTERM') {
  if (!isRunning(rec)) return;
  signalGroup(rec.pid, signal);
  if (await waitGone(rec, signal === 'SIGKILL' ? 5000 : ms)) return;
  signalGroup(rec.pid, 'SIGKILL');
  await waitGone(rec, 5000);
}

function tailFile(file, lines = LOG_TAIL_LINES) {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return `(could not read ${file}: ${err.message})`;
  }
}

/** What the services inherit: enough to run node, nothing that could configure them by accident. */
function baseEnv() {
  const env = { KAFKAJS_NO_PARTITIONER_WARNING: '1' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

/** Runs a short node command; resolves to its stdout, rejects with its output on failure. */
function runNode(args, { env, what, signal, timeoutMs = 120_000 }) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 16 << 20, signal },
      (err, stdout, stderr) => {
        if (!err) return resolve(String(stdout));
        const output = `${stdout}${stderr}`.split('\n').filter(Boolean).slice(-LOG_TAIL_LINES).join('\n');
        reject(new Error(`${what} failed (${err.code ?? err.signal ?? err.message}):\n${output}`));
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

function files(dir) {
  return { state: path.join(dir, 'state.json'), portals: path.join(dir, 'portals.json') };
}

function writeJson(file, value, mode = 0o644) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  fs.renameSync(tmp, file);
}

function readState(dir) {
  let text;
  try {
    text = fs.readFileSync(files(dir).state, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return null;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${files(dir).state} is not valid JSON (${err.message}); delete it by hand`);
  }
}

/** state.json holds the admin URL (maybe with a password): owner-only. */
function saveState(state) {
  writeJson(files(state.dir).state, state, 0o600);
}

function portalsDocument(state) {
  return {
    portals: state.portals.map((p) => ({
      id: p.id,
      origin: p.origin,
      verifierKey: p.verifierKey,
      witnessKey: p.witnessKey,
      gatewayUrl: p.services.gateway.url,
      queryUrl: p.services.query.url,
      ...(p.tls ? { caFile: p.tls.caFile } : {}),
    })),
  };
}

function everyProcess(state) {
  const all = [];
  for (const p of state.portals ?? []) {
    for (const service of SERVICES) {
      const svc = p.services?.[service];
      if (svc && svc.pid) all.push({ portal: p.id, service, rec: svc });
    }
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

async function withAdmin(url, fn) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${redact(url)} (${err.message}); set FEDERATION_DATABASE_URL to a role that may CREATE DATABASE`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;

function databaseUrlOf(adminUrl, name) {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function redact(url) {
  return String(url).replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

// ---------------------------------------------------------------------------------------------
// Kafka
// ---------------------------------------------------------------------------------------------

/**
 * Starts the test broker of deploy/kafka so that it outlives this process: startBroker()'s watchdog
 * stops the broker as soon as its starter exits, so the starter is a detached
 * `node deploy/kafka/kafka-broker.js start` (which lives until SIGTERM, then stops the broker
 * cleanly); its stdout, with KAFKA_BROKERS=…, goes to <dir>/kafka.out, its log to <dir>/kafka.log.
 */
async function startDetachedBroker({ dir, log, timeoutMs, signal }) {
  const out = path.join(dir, 'kafka.out');
  const errLog = path.join(dir, 'kafka.log');
  const outFd = fs.openSync(out, 'w');
  const errFd = fs.openSync(errLog, 'w');
  let child;
  try {
    child = spawn(process.execPath, [KAFKA_SCRIPT, 'start'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', outFd, errFd],
      env: { ...process.env, KAFKA_BROKERS: '' },
    });
  } finally {
    fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
  child.unref();
  let exited = null;
  child.once('exit', (code, sig) => (exited = { code, signal: sig }));
  const rec = { external: false, pid: child.pid, startTime: procStartTime(child.pid), out, log: errLog };
  log(`starting a Kafka broker (deploy/kafka, pid ${child.pid}, log ${errLog})`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.readFileSync(out, 'utf8');
    const brokers = /^KAFKA_BROKERS=(.+)$/m.exec(text);
    const brokerLog = /^KAFKA_BROKER_LOG=(.+)$/m.exec(text);
    if (brokers && brokerLog) {
      const tmpDir = path.dirname(brokerLog[1].trim());
      const jvmPid = parseInt(readOr(path.join(tmpDir, 'broker.pid'), ''), 10) || null;
      Object.assign(rec, {
        brokers: brokers[1].trim(),
        brokerLog: brokerLog[1].trim(),
        tmpDir,
        jvm: jvmPid ? { pid: jvmPid, startTime: procStartTime(jvmPid) } : null,
      });
      log(`Kafka broker ready at ${rec.brokers}`);
      return rec;
    }
    let failure = null;
    if (exited) failure = `it exited (code ${exited.code}, signal ${exited.signal})`;
    else if (Date.now() > deadline) failure = `it did not print KAFKA_BROKERS within ${timeoutMs} ms`;
    else if (signal?.aborted) failure = 'interrupted';
    if (failure) {
      await stopBroker(rec, () => {});
      throw new Error(`the Kafka broker did not start: ${failure}\n${errLog}:\n${tailFile(errLog)}`);
    }
    await sleep(200);
  }
}

function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Stops a broker startDetachedBroker() started (its `start` CLI stops the broker on SIGTERM). */
async function stopBroker(kafka, log) {
  if (!kafka || kafka.external) return;
  if (isRunning(kafka)) {
    log(`stopping the Kafka broker (pid ${kafka.pid})`);
    // The CLI asks the watchdog, which gives the JVM up to 15 s for a clean shutdown.
    await terminate(kafka, 25_000);
  }
  // Its watchdog stops an orphaned JVM within a few seconds; make sure.
  if (kafka.jvm && !(await waitGone(kafka.jvm, 6000))) signalGroup(kafka.jvm.pid, 'SIGKILL');
  if (kafka.tmpDir && path.basename(kafka.tmpDir).startsWith('cryptomesh-kafka-')) {
    fs.rmSync(kafka.tmpDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * Deletes the portals' log topics `intermesh.log.<id>` on a broker we did not start, so that a
 * federation never reads the log of an earlier one signed by keys that no longer exist. Best effort.
 */
async function deleteLogTopics(brokers, ids, log, why) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'cryptomesh-federation',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const wanted = ids.map((id) => `intermesh.log.${id}`);
    const existing = (await admin.listTopics()).filter((t) => wanted.includes(t));
    if (existing.length === 0) return;
    log(`deleting ${why}: ${existing.join(', ')}`);
    await admin.deleteTopics({ topics: existing, timeout: 10_000 });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const left = (await admin.listTopics()).filter((t) => existing.includes(t));
      if (left.length === 0) return;
      await sleep(200);
    }
  } catch (err) {
    log(`warning: could not delete the log topics on ${brokers}: ${err.message}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------------

/** The ChildProcess of every service this process spawned, by pid: exit codes for stopService(). */
const children = new Map();

function spawnService(portal, service) {
  const svc = portal.services[service];
  const fd = fs.openSync(svc.log, 'a');
  let child;
  try {
    child = spawn(
      process.execPath,
      [...(SERVICE_NODE_FLAGS[service] ?? []), ...(svc.nodeArgs ?? []), mainOf(service)],
      {
        cwd: ROOT,
        detached: true,
        stdio: ['ignore', fd, fd],
        env: svc.env,
      },
    );
  } finally {
    fs.closeSync(fd);
  }
  child.unref();
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  children.set(child.pid, { child, exit });
  void exit.then(() => setTimeout(() => children.delete(child.pid), 60_000).unref());
  svc.pid = child.pid;
  svc.startTime = procStartTime(child.pid);
}

/** Services that serve HTTPS under --tls; replication and log-signer stay on loopback HTTP. */
const TLS_SERVICES = ['gateway', 'query'];

const trustingAgents = new Map();
/** A fetch that trusts `caFile` (the federation's local CA), or the platform's when there is none. */
function fetchTrusting(caFile) {
  if (!caFile) return fetch;
  if (!trustingAgents.has(caFile)) {
    const { Agent, fetch: undiciFetch } = require('undici');
    const dispatcher = new Agent({ connect: { ca: fs.readFileSync(caFile, 'utf8') } });
    trustingAgents.set(caFile, (url, init) => undiciFetch(url, { ...init, dispatcher }));
  }
  return trustingAgents.get(caFile);
}

async function health(url, caFile, timeoutMs = 2000) {
  try {
    const res = await fetchTrusting(caFile)(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, body: body.slice(0, 500) };
  } catch (err) {
    return { status: null, body: err.cause?.code ?? err.message };
  }
}

/** Waits until every listed service answers 200 on /health; throws naming the first that did not. */
async function waitHealthy(entries, { timeoutMs, signal }) {
  const pending = new Set(entries);
  const last = new Map();
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    for (const entry of [...pending]) {
      const { portal, service, svc } = entry;
      if (!isRunning(svc)) {
        const known = children.get(svc.pid);
        const how = known?.child.exitCode ?? known?.child.signalCode;
        throw failure(
          `${portal}'s ${service} exited before it was healthy${how !== undefined && how !== null ? ` (${how})` : ''}`,
          svc.log,
        );
      }
      const answer = await health(svc.url, svc.caFile);
      last.set(entry, answer);
      if (answer.status === 200) pending.delete(entry);
    }
    if (pending.size === 0) break;
    if (signal?.aborted) throw new Error('interrupted');
    if (Date.now() > deadline) {
      // The one that answers but not 200 says why (its failing check); else the first still silent.
      const first = [...pending].find((e) => last.get(e)?.status) ?? [...pending][0];
      const answer = last.get(first);
      const others = [...pending].map((e) => `${e.portal}/${e.service}`).join(', ');
      throw failure(
        `not healthy within ${timeoutMs} ms: ${others}; ${first.portal}'s ${first.service} last answered ` +
          `${answer?.status ?? 'nothing'} ${answer?.body ?? ''}`.trim(),
        first.svc.log,
      );
    }
    await sleep(250);
  }
}

function failure(message, logFile) {
  return new Error(`${message}\n--- ${logFile} (last ${LOG_TAIL_LINES} lines) ---\n${tailFile(logFile)}`);
}

function serviceEnv({ service, portal, port, kafkaBrokers, peers, options }) {
  const env = {
    ...baseEnv(),
    HOST: '127.0.0.1',
    PORT: String(port),
    // Each service as its own database user with only its role's rights (docs/OPERATIONS.md
    // "Database roles"); the migrations ran before, as the owner.
    DATABASE_URL: portal.serviceUrls?.[service] ?? portal.databaseUrl,
    DB_MIGRATIONS: 'check',
    PORTAL_ID: portal.id,
    LOG_LEVEL: 'info',
  };
  if (service === 'log-signer') {
    Object.assign(env, {
      LOG_KEY_FILE: portal.keys.log,
      LOG_ORIGIN: portal.origin,
      LOG_VERIFIER_KEY: portal.verifierKey,
    });
  } else if (service === 'gateway') {
    Object.assign(env, {
      LOG_ORIGIN: portal.origin,
      LOG_VERIFIER_KEY: portal.verifierKey,
      WITNESS_VERIFIER_KEY: portal.witnessKey,
      QUERY_URL: portal.services.query.url,
    });
  } else if (service === 'replication') {
    Object.assign(env, {
      KAFKA_BROKERS: kafkaBrokers,
      KAFKA_CLIENT_ID: `cryptomesh-${portal.id}`,
      KAFKA_GROUP_ID: groupId(portal.id),
      WITNESS_KEY_FILE: portal.keys.witness,
      FEDERATION_PEERS: JSON.stringify(peers),
      ...(portal.tls ? { PEER_CA_FILE: portal.tls.caFile } : {}),
    });
  }
  if (portal.tls && TLS_SERVICES.includes(service)) {
    Object.assign(env, { TLS_CERT_FILE: portal.tls.certFile, TLS_KEY_FILE: portal.tls.keyFile });
  }
  if ((service === 'gateway' || service === 'replication') && options.cosignatureQuorum !== undefined) {
    env.COSIGNATURE_QUORUM = String(options.cosignatureQuorum);
  }
  Object.assign(env, options.env ?? {});
  if (options.perPortalEnv) Object.assign(env, options.perPortalEnv(portal.id, service) ?? {});
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

function checkOptions(o) {
  if (!Array.isArray(o.portals) || o.portals.length === 0) throw new Error('portals: at least one portal id');
  for (const id of o.portals) {
    if (typeof id !== 'string' || !PORTAL_ID.test(id)) {
      throw new Error(`portals: ${JSON.stringify(id)} is not a portal id (${PORTAL_ID.source})`);
    }
  }
  if (new Set(o.portals).size !== o.portals.length) throw new Error('portals: ids must be unique');
  if (!DB_PREFIX.test(o.prefix))
    throw new Error(`prefix: ${JSON.stringify(o.prefix)} must match ${DB_PREFIX}`);
  for (const id of o.portals) {
    const name = `${o.prefix}_${id}`;
    // …and its services' users are <database>_<service>, the longest <database>_replication.
    if (name.length > 63 - '_replication'.length)
      throw new Error(
        `database name ${name} is longer than ${63 - '_replication'.length} characters (PostgreSQL's 63 with the services' user names)`,
      );
  }
  for (const peer of o.extraPeers) {
    for (const field of ['id', 'origin', 'verifierKey', 'witnessKey', 'queryUrl']) {
      if (typeof peer?.[field] !== 'string') throw new Error(`extraPeers: each peer needs a string ${field}`);
    }
  }
}

function needsBuild() {
  return SERVICES.some((s) => !fs.existsSync(mainOf(s)));
}

async function build({ log, signal }) {
  log('building the services (nest build --all)…');
  const nest = path.join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');
  await runNode([nest, 'build', '--all'], {
    env: process.env,
    what: 'nest build --all',
    signal,
    timeoutMs: 600_000,
  });
}

/**
 * With stopWithProcess: a detached `federation.js watch` that stops the federation (stopFederation)
 * once the process that started it is gone — a test runner killed mid-test leaves nothing behind.
 * It exits by itself when state.json disappears or belongs to another start.
 */
function spawnWatcher(state) {
  const fd = fs.openSync(path.join(state.dir, 'watcher.log'), 'a');
  let child;
  try {
    child = spawn(
      process.execPath,
      [__filename, 'watch', '--dir', state.dir, '--pid', String(process.pid), '--started', state.startedAt],
      { cwd: ROOT, detached: true, stdio: ['ignore', fd, fd], env: process.env },
    );
  } finally {
    fs.closeSync(fd);
  }
  child.unref();
  return { pid: child.pid, startTime: procStartTime(child.pid) };
}

async function watch({ dir, pid, started }) {
  if (!pid || !started) throw new Error('watch needs --pid and --started');
  for (;;) {
    await sleep(1000);
    let state = null;
    try {
      state = readState(dir);
    } catch {
      /* being rewritten: look again */
      continue;
    }
    if (!state || state.startedAt !== started) return; // stopped, or another federation now
    if (process.ppid === pid && isAlive(pid)) continue;
    defaultLog(`the process that started the federation (pid ${pid}) is gone: stopping the federation`);
    await stopFederation({ dir, stopTimeoutMs: 5000 });
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// startFederation
// ---------------------------------------------------------------------------------------------

/**
 * Starts a federation; resolves once every service of every portal answers 200 on /health.
 * On any failure it stops what it started, drops the databases and throws (naming the failing
 * service, with the tail of its log). See docs/running.md "Local federation".
 */
async function startFederation(options = {}) {
  const o = {
    dir: DEFAULTS.dir,
    portals: DEFAULTS.portals,
    kafkaBrokers: process.env.KAFKA_BROKERS || undefined,
    databaseUrl: process.env.FEDERATION_DATABASE_URL || DEFAULTS.databaseUrl,
    prefix: DEFAULTS.prefix,
    extraPeers: [],
    env: {},
    perPortalEnv: undefined,
    log: defaultLog,
    healthTimeoutMs: DEFAULTS.healthTimeoutMs,
    stopTimeoutMs: DEFAULTS.stopTimeoutMs,
    brokerTimeoutMs: DEFAULTS.brokerTimeoutMs,
    build: 'if-missing',
    resetTopics: true,
    stopWithProcess: false,
    cosignatureQuorum: undefined,
    /**
     * Arguments for node before each service's main script (the benchmarks' --cpu-prof): an array
     * for every service, or a function of (service, portal id) giving each its own.
     */
    nodeArgs: [],
    tls: process.env.FEDERATION_TLS === '1',
    signal: undefined,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  checkOptions(o);
  const { log, signal } = o;
  const dir = path.resolve(o.dir);
  const abortCheck = () => {
    if (signal?.aborted) throw new Error('interrupted');
  };

  fs.mkdirSync(dir, { recursive: true });
  const previous = readState(dir);
  if (previous) {
    const alive = everyProcess(previous).filter((p) => isRunning(p.rec));
    if (alive.length > 0 || isRunning(previous.kafka)) {
      throw new Error(
        `a federation is already running in ${dir} (${alive.length} service(s)); stop it first: npm run federation:down` +
          (dir === path.resolve(DEFAULTS.dir) ? '' : ` -- --dir ${dir}`),
      );
    }
    log(`cleaning up the remains of a federation that was not stopped in ${dir}`);
    await stopFederation({ dir, log });
  }

  if (
    o.build === true ||
    o.build === 'always' ||
    (o.build !== false && o.build !== 'never' && needsBuild())
  ) {
    await build({ log, signal });
  }
  abortCheck();

  const state = {
    version: STATE_VERSION,
    dir,
    root: ROOT,
    startedAt: new Date().toISOString(),
    adminUrl: o.databaseUrl,
    resetTopics: Boolean(o.resetTopics),
    kafka: null,
    portals: [],
  };
  let saved = false;
  const save = () => {
    if (!saved && o.stopWithProcess) state.watcher = spawnWatcher(state);
    saveState(state);
    saved = true;
  };

  try {
    // Kafka first: the slowest, and nothing else is worth doing without it.
    if (o.kafkaBrokers) {
      state.kafka = { external: true, brokers: o.kafkaBrokers };
      if (o.resetTopics)
        await deleteLogTopics(o.kafkaBrokers, o.portals, log, 'the log topics of an earlier federation');
    } else {
      state.kafka = await startDetachedBroker({ dir, log, timeoutMs: o.brokerTimeoutMs, signal });
      save();
    }
    abortCheck();

    // Every port first: every portal's replication must know every other portal's query URL.
    const ports = await freePorts(o.portals.length * SERVICES.length);
    const tlsDir = path.join(dir, 'tls');
    if (o.tls) fs.rmSync(tlsDir, { recursive: true, force: true }); // a fresh CA for each federation
    for (const [i, id] of o.portals.entries()) {
      const portalDir = path.join(dir, id);
      fs.rmSync(portalDir, { recursive: true, force: true }); // the keys and logs of an earlier federation
      fs.mkdirSync(portalDir, { recursive: true, mode: 0o700 });
      const database = `${o.prefix}_${id}`;
      const tls = o.tls ? await issueServerCertificate(tlsDir, id, ['localhost'], ['127.0.0.1']) : null;
      const services = {};
      for (const [j, service] of SERVICES.entries()) {
        const port = ports[i * SERVICES.length + j];
        const https = tls !== null && TLS_SERVICES.includes(service);
        services[service] = {
          port,
          url: `${https ? 'https' : 'http'}://127.0.0.1:${port}`,
          ...(https ? { caFile: tls.caFile } : {}),
          log: path.join(portalDir, `${service}.log`),
          pid: null,
          startTime: null,
          env: null,
        };
      }
      state.portals.push({
        id,
        origin: originOf(id),
        verifierKey: null,
        witnessKey: null,
        database,
        databaseUrl: databaseUrlOf(o.databaseUrl, database),
        keys: { log: path.join(portalDir, 'log.key'), witness: path.join(portalDir, 'witness.key') },
        tls,
        services,
      });
    }

    // Databases (an existing one of the same name is dropped first), recorded before they exist.
    save();
    await withAdmin(o.databaseUrl, async (client) => {
      for (const p of state.portals) {
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(p.database)} WITH (FORCE)`);
        await client.query(`CREATE DATABASE ${quoteIdent(p.database)}`);
      }
    });
    log(`databases: ${state.portals.map((p) => p.database).join(', ')} on ${redact(o.databaseUrl)}`);
    abortCheck();

    // Keys (the services' own keygen commands) and migrations, every portal in parallel.
    const env = baseEnv();
    await Promise.all(
      state.portals.map(async (p) => {
        const [verifierKey, witnessKey] = await Promise.all([
          runNode([mainOf('log-signer'), 'keygen', '--origin', p.origin, '--out', p.keys.log], {
            env,
            what: `log-signer keygen for ${p.id}`,
            signal,
          }),
          runNode(
            [mainOf('replication'), 'keygen', '--name', `${p.origin}/witness`, '--out', p.keys.witness],
            {
              env,
              what: `replication keygen for ${p.id}`,
              signal,
            },
          ),
        ]);
        p.verifierKey = verifierKey.trim();
        p.witnessKey = witnessKey.trim();
        await runNode([mainOf('log-signer'), 'migrate'], {
          env: { ...env, DATABASE_URL: p.databaseUrl, LOG_LEVEL: 'warn' },
          what: `migrations of ${p.database}`,
          signal,
        });
      }),
    );
    abortCheck();

    // One database user per service (<database>_<service>), member of its service's group role;
    // only they (and the admin, the tables' owner) may connect to the portal's database.
    await withAdmin(o.databaseUrl, async (client) => {
      for (const p of state.portals) {
        const made = await createServiceUsers(client, {
          prefix: p.database,
          databaseUrl: p.databaseUrl,
          database: p.database,
        });
        p.serviceUrls = made.urls;
      }
    });
    save();
    log(
      `database users: ${state.portals.map((p) => `${p.database}_{gateway,query,log_signer,replication}`).join(', ')}`,
    );

    // Every service, detached.
    const entries = [];
    for (const p of state.portals) {
      const peers = [
        ...state.portals
          .filter((q) => q.id !== p.id)
          .map((q) => ({
            id: q.id,
            origin: q.origin,
            verifierKey: q.verifierKey,
            witnessKey: q.witnessKey,
            queryUrl: q.services.query.url,
          })),
        ...o.extraPeers.map(({ id, origin, verifierKey, witnessKey, queryUrl }) => ({
          id,
          origin,
          verifierKey,
          witnessKey,
          queryUrl,
        })),
      ];
      for (const service of SERVICES) {
        const svc = p.services[service];
        svc.env = serviceEnv({
          service,
          portal: p,
          port: svc.port,
          kafkaBrokers: state.kafka.brokers,
          peers,
          options: o,
        });
        svc.nodeArgs = typeof o.nodeArgs === 'function' ? o.nodeArgs(service, p.id) : o.nodeArgs;
      }
    }
    for (const p of state.portals) {
      for (const service of SERVICES) {
        spawnService(p, service);
        entries.push({ portal: p.id, service, svc: p.services[service] });
      }
      log(
        `${p.id}: ${SERVICES.map((s) => `${s} :${p.services[s].port} (pid ${p.services[s].pid})`).join(', ')}`,
      );
    }
    save();

    await waitHealthy(entries, { timeoutMs: o.healthTimeoutMs, signal });
    writeJson(files(dir).portals, portalsDocument(state));
    save();
    log(`${state.portals.length} portal(s) up; ${files(dir).portals}`);
  } catch (err) {
    if (saved) {
      log(`start failed: stopping what was started (logs stay in ${dir})`);
      await stopFederation({ dir, log: () => {}, stopTimeoutMs: 5000 }).catch((e) =>
        log(`warning: clean-up failed: ${e.message}`),
      );
    } else {
      await stopBroker(state.kafka, () => {}).catch(() => {});
    }
    throw signal?.aborted ? new Error('interrupted') : err;
  }
  return federationHandle(state, o);
}

/** What startFederation() resolves to: the portals and helpers for tests. */
function federationHandle(state, o) {
  const portals = state.portals.map((p) => ({
    ...portalsDocument({ portals: [p] }).portals[0],
    database: p.database,
    /** The owner's URL (the migrations'); each service connects as its own user: serviceDatabaseUrls. */
    databaseUrl: p.databaseUrl,
    serviceDatabaseUrls: { ...(p.serviceUrls ?? {}) },
    urls: Object.fromEntries(SERVICES.map((s) => [s, p.services[s].url])),
    ports: Object.fromEntries(SERVICES.map((s) => [s, p.services[s].port])),
    logs: Object.fromEntries(SERVICES.map((s) => [s, p.services[s].log])),
    pids: Object.fromEntries(SERVICES.map((s) => [s, p.services[s].pid])),
  }));
  const find = (id) => {
    const p = state.portals.find((q) => q.id === id);
    if (!p) throw new Error(`no portal ${JSON.stringify(id)} in this federation`);
    return { p, view: portals.find((q) => q.id === id) };
  };
  const check = (service) => {
    if (!SERVICES.includes(service))
      throw new Error(`no service ${JSON.stringify(service)}: one of ${SERVICES.join(', ')}`);
  };

  async function stopService(id, service, signal = 'SIGTERM') {
    check(service);
    const { p, view } = find(id);
    const svc = p.services[service];
    const known = svc.pid ? children.get(svc.pid) : undefined;
    if (isRunning(svc)) await terminate(svc, o.stopTimeoutMs, signal);
    const result = known ? await known.exit : { code: null, signal: null };
    svc.pid = null;
    svc.startTime = null;
    view.pids[service] = null;
    saveState(state);
    return result;
  }

  async function startService(id, service, env) {
    check(service);
    const { p, view } = find(id);
    const svc = p.services[service];
    if (isRunning(svc)) throw new Error(`${id}'s ${service} is already running (pid ${svc.pid})`);
    // Environment changes (an operator's reconfiguration, e.g. LOG_KEY_NEXT_FILE) stay for later starts.
    if (env) {
      svc.env = { ...svc.env };
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined || v === null) delete svc.env[k];
        else svc.env[k] = String(v);
      }
    }
    spawnService(p, service);
    view.pids[service] = svc.pid;
    saveState(state);
    await waitHealthy([{ portal: id, service, svc }], { timeoutMs: o.healthTimeoutMs });
  }

  return {
    dir: state.dir,
    portalsFile: files(state.dir).portals,
    stateFile: files(state.dir).state,
    kafkaBrokers: state.kafka.brokers,
    databaseUrl: state.adminUrl,
    /** The local CA's certificate under --tls (PEM file), else null. */
    caFile: state.portals[0]?.tls?.caFile ?? null,
    services: [...SERVICES],
    portals,
    portal: (id) => find(id).view,
    stopService,
    startService,
    stopPortal: async (id, signal = 'SIGTERM') => {
      await Promise.all(SERVICES.map((s) => stopService(id, s, signal)));
    },
    startPortal: async (id) => {
      const { p } = find(id);
      await Promise.all(SERVICES.filter((s) => !isRunning(p.services[s])).map((s) => startService(id, s)));
    },
    stop: (opts = {}) =>
      stopFederation({ dir: state.dir, log: o.log, stopTimeoutMs: o.stopTimeoutMs, ...opts }),
  };
}

// ---------------------------------------------------------------------------------------------
// stopFederation / status
// ---------------------------------------------------------------------------------------------

/**
 * Stops every process state.json records (SIGTERM to each process group, SIGKILL after
 * stopTimeoutMs), the broker if the federation started it, drops the databases (unless keepData)
 * and removes state.json and portals.json. Logs and keys stay. Idempotent.
 * Resolves to { stopped: boolean } (false: nothing was recorded as running).
 */
async function stopFederation(options = {}) {
  const dir = path.resolve(options.dir ?? DEFAULTS.dir);
  const log = options.log ?? defaultLog;
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs;
  const state = readState(dir);
  if (!state) {
    log(`nothing is running in ${dir} (no state.json)`);
    return { stopped: false };
  }
  // The watcher first, so that it does not stop the federation too while we do.
  if (state.watcher && state.watcher.pid !== process.pid && isRunning(state.watcher)) {
    await terminate(state.watcher, 5000);
  }
  const running = everyProcess(state).filter((p) => isRunning(p.rec));
  if (running.length > 0) log(`stopping ${running.length} service(s)`);
  await Promise.all(running.map(({ rec }) => terminate(rec, stopTimeoutMs)));
  const stubborn = running.filter(({ rec }) => isRunning(rec));
  if (stubborn.length > 0) {
    throw new Error(
      `could not stop ${stubborn.map((s) => `${s.portal}/${s.service} (pid ${s.rec.pid})`).join(', ')}`,
    );
  }

  if (state.kafka?.external) {
    if (state.resetTopics && !options.keepData) {
      await deleteLogTopics(
        state.kafka.brokers,
        (state.portals ?? []).map((p) => p.id),
        log,
        'the log topics',
      );
    }
  } else {
    await stopBroker(state.kafka, log);
  }

  const databases = (state.portals ?? []).map((p) => p.database).filter(Boolean);
  if (!options.keepData && databases.length > 0 && state.adminUrl) {
    await withAdmin(state.adminUrl, async (client) => {
      for (const name of databases)
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      // The services' users go with their database (they hold CONNECT on it until then).
      for (const name of databases) await dropServiceUsers(client, name);
    });
    log(`dropped ${databases.join(', ')} and their services' users`);
  }
  fs.rmSync(files(dir).portals, { force: true });
  fs.rmSync(files(dir).state, { force: true });
  log(`federation in ${dir} stopped (logs kept)`);
  return { stopped: true };
}

/** What runs, per portal and service: { dir, kafka, portals: [{ id, services: { gateway: { pid, alive, url, health } } }] }, or null. */
async function federationStatus(options = {}) {
  const dir = path.resolve(options.dir ?? DEFAULTS.dir);
  const state = readState(dir);
  if (!state) return null;
  const portals = await Promise.all(
    state.portals.map(async (p) => {
      const answers = await Promise.all(
        SERVICES.map(async (service) => {
          const svc = p.services[service];
          const alive = isRunning(svc);
          const answer = alive ? await health(svc.url, svc.caFile) : { status: null, body: 'not running' };
          return [service, { pid: svc.pid, alive, url: svc.url, health: answer.status, detail: answer.body }];
        }),
      );
      return { id: p.id, database: p.database, services: Object.fromEntries(answers) };
    }),
  );
  const kafka = state.kafka?.external
    ? { brokers: state.kafka.brokers, external: true }
    : {
        brokers: state.kafka?.brokers,
        external: false,
        pid: state.kafka?.pid,
        alive: isRunning(state.kafka),
      };
  return { dir, kafka, portals };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

const USAGE =
  'usage: node deploy/federation/federation.js up [--dir DIR] [--portals a,b,c] [--prefix P] [--build] [--tls] | down [--dir DIR] [--keep-data] | status [--dir DIR]';

function parseArgs(argv) {
  const args = { command: argv[0], dir: process.env.FEDERATION_DIR || DEFAULTS.dir };
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dir' && argv[i + 1]) args.dir = argv[++i];
    else if (arg === '--portals' && argv[i + 1]) args.portals = argv[++i].split(',').filter(Boolean);
    else if (arg === '--prefix' && argv[i + 1]) args.prefix = argv[++i];
    else if (arg === '--pid' && argv[i + 1]) args.pid = Number(argv[++i]);
    else if (arg === '--started' && argv[i + 1]) args.started = argv[++i];
    else if (arg === '--keep-data') args.keepData = true;
    else if (arg === '--build') args.build = 'always';
    else if (arg === '--tls') args.tls = true;
    else throw new Error(`unexpected argument ${JSON.stringify(arg)}\n${USAGE}`);
  }
  return args;
}

async function cli(argv) {
  const args = parseArgs(argv);
  if (args.command === 'up') {
    const controller = new AbortController();
    const onSignal = (sig) => {
      if (controller.signal.aborted) process.exit(130);
      defaultLog(`${sig}: stopping what was started`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const portals = process.env.FEDERATION_PORTALS?.split(',').filter(Boolean);
    const fed = await startFederation({
      dir: args.dir,
      portals: args.portals ?? (portals?.length ? portals : undefined),
      prefix: args.prefix ?? (process.env.FEDERATION_PREFIX || undefined),
      build: args.build,
      ...(args.tls ? { tls: true } : {}),
      signal: controller.signal,
    });
    for (const p of fed.portals) {
      process.stdout.write(`${p.id}\tgateway ${p.gatewayUrl}\tquery ${p.queryUrl}\n`);
    }
    if (fed.caFile) process.stdout.write(`TLS: certificates of the local CA ${fed.caFile}\n`);
    process.stdout.write(`portals: ${fed.portalsFile}\nstop with: npm run federation:down\n`);
    return 0;
  }
  if (args.command === 'down') {
    await stopFederation({ dir: args.dir, keepData: args.keepData });
    return 0;
  }
  if (args.command === 'status') {
    const status = await federationStatus({ dir: args.dir });
    if (!status) {
      process.stdout.write(`nothing is running in ${path.resolve(args.dir)}\n`);
      return 3;
    }
    let ok = true;
    const k = status.kafka;
    process.stdout.write(
      `kafka\t${k.brokers}\t${k.external ? 'external' : `pid ${k.pid} ${k.alive ? 'running' : 'NOT RUNNING'}`}\n`,
    );
    if (!k.external && !k.alive) ok = false;
    for (const p of status.portals) {
      for (const [service, s] of Object.entries(p.services)) {
        const healthy = s.alive && s.health === 200;
        ok &&= healthy;
        process.stdout.write(
          `${p.id}\t${service}\t${s.url}\tpid ${s.pid ?? '-'} ${s.alive ? 'running' : 'NOT RUNNING'}\t` +
            `health ${s.health ?? '-'}${healthy ? '' : ` ${s.detail}`}\n`,
        );
      }
    }
    return ok ? 0 : 1;
  }
  if (args.command === 'watch') {
    // Internal: see spawnWatcher().
    await watch({ dir: path.resolve(args.dir), pid: args.pid, started: args.started });
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

module.exports = { startFederation, stopFederation, federationStatus, SERVICES, SERVICE_NODE_FLAGS };

if (require.main === module) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      defaultLog(err.message);
      process.exit(err.message === 'interrupted' ? 130 : 1);
    },
  );
}
