#!/usr/bin/env node
'use strict';
/**
 * A real, throwaway Apache Kafka broker for tests, benchmarks and the local federation.
 * See docs/kafka-test-broker.md for the whole story.
 *
 *   fetchKafka({ log })  -> { libDir, version }   jars from Maven Central, cached outside the repo
 *   startBroker(opts)    -> { brokers, port, ..., stop() }   single-node KRaft broker on 127.0.0.1
 *   ensureBroker(opts)   -> same shape; uses $KAFKA_BROKERS if set instead of starting one
 *
 * CLI:  node deploy/kafka/kafka-broker.js fetch | start
 *
 * Plain CommonJS on purpose: it runs from a clean clone before anything is built.
 */
const { spawn, execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const POM = path.join(__dirname, 'pom.xml');
const WATCHDOG = path.join(__dirname, 'watchdog.js');
const TOOLS_HINT =
  'Java 17 and Maven are needed to run the test broker: apt-get install openjdk-17-jre-headless maven';

const STOP_GRACE_MS = 15000; // clean shutdown on SIGTERM usually takes 1-3 s
const ORPHAN_GRACE_MS = 3000; // starter is dead and the data is thrown away: don't wait long
const LOG_TAIL_LINES = 40;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function defaultLog(msg) {
  process.stderr.write(`[kafka-broker] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------

function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60000, maxBuffer: 4 << 20, ...opts }, (err, stdout, stderr) =>
      resolve({ err, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

let javaChecked = null;
/** Resolves to the java executable once it is known to be Java 17 or newer. */
function checkJava() {
  javaChecked ??= (async () => {
    const java = javaBin();
    const { err, stdout, stderr } = await run(java, ['-version']);
    if (err) throw new Error(`${TOOLS_HINT}\n(could not run '${java} -version': ${err.message})`);
    // `java -version` prints e.g.: openjdk version "17.0.15" 2025-04-15  (old style: "1.8.0_392")
    const m = /version "(\d+)(?:\.(\d+))?/.exec(stderr + stdout);
    const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
    if (!(major >= 17)) {
      throw new Error(`${TOOLS_HINT}\n('${java}' is Java ${m ? major : 'of unknown version'})`);
    }
    return java;
  })();
  // A failed check is not cached: the user may fix JAVA_HOME and retry in the same process.
  javaChecked.catch(() => (javaChecked = null));
  return javaChecked;
}

async function checkMaven() {
  const { err } = await run('mvn', ['-v', '-B']);
  if (err) throw new Error(`${TOOLS_HINT}\n(could not run 'mvn -v': ${err.message})`);
}

// ---------------------------------------------------------------------------------------------
// Fetch: Maven copies the broker's runtime classpath into the cache
// ---------------------------------------------------------------------------------------------

function cacheRoot() {
  if (process.env.CRYPTOMESH_CACHE) return process.env.CRYPTOMESH_CACHE;
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'cryptomesh-portal');
}

/** Kafka version and a hash of the pom: any change to the pom (a version bump) means refetch. */
function pomInfo() {
  const text = fs.readFileSync(POM, 'utf8');
  const m = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(text);
  if (!m) throw new Error(`no <kafka.version> property in ${POM}`);
  return { version: m[1], hash: crypto.createHash('sha256').update(text).digest('hex') };
}

function cachePaths(version) {
  const dir = path.join(cacheRoot(), `kafka-${version}`);
  return {
    dir,
    libDir: path.join(dir, 'libs'),
    marker: path.join(dir, 'COMPLETE'),
    lock: path.join(dir, 'fetch.lock'),
  };
}

function isFetched(p, hash) {
  try {
    return fs.readFileSync(p.marker, 'utf8').trim() === hash && fs.statSync(p.libDir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Cross-process lock so that parallel test workers don't run Maven into the same directory.
 * A lock file whose owner pid is dead is stale and taken over.
 */
async function acquireLock(lockFile, log) {
  let announced = false;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    let ageMs = 0;
    try {
      owner = parseInt(fs.readFileSync(lockFile, 'utf8'), 10);
      ageMs = Date.now() - fs.statSync(lockFile).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // An empty lock file is only legitimate for the instant between open and write.
    if ((Number.isNaN(owner) && ageMs > 10000) || (!Number.isNaN(owner) && !isAlive(owner))) {
      fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (!announced) log(`waiting for another process (pid ${owner}) that is fetching Kafka`);
    announced = true;
    await sleep(1000);
  }
}

function runMaven(outDir, log) {
  const args = [
    '-B',
    '-ntp',
    '-f',
    POM,
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${outDir}`,
  ];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const mvn = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk) => (output = (output + chunk).slice(-64000));
    mvn.stdout.on('data', keep);
    mvn.stderr.on('data', keep);
    const heartbeat = setInterval(
      () => log(`  still fetching (${Math.round((Date.now() - started) / 1000)} s)`),
      20000,
    );
    mvn.on('error', (err) => {
      clearInterval(heartbeat);
      reject(new Error(`${TOOLS_HINT}\n(could not run mvn: ${err.message})`));
    });
    mvn.on('close', (code) => {
      clearInterval(heartbeat);
      if (code === 0) return resolve();
      reject(
        new Error(`Maven failed (exit ${code}) fetching Kafka:\nmvn ${args.join(' ')}\n${tail(output, 40)}`),
      );
    });
  });
}

/**
 * Makes sure the broker jars are in the cache. Idempotent and safe to call from parallel
 * processes. The marker file is written only after a complete fetch, so an interrupted fetch
 * is redone; it holds the pom's hash, so editing the pom refetches.
 */
async function fetchKafka({ log = defaultLog } = {}) {
  const { version, hash } = pomInfo();
  const p = cachePaths(version);
  if (isFetched(p, hash)) return { libDir: p.libDir, version };

  await checkJava(); // Maven needs it too, and the message is clearer from here
  await checkMaven();
  fs.mkdirSync(p.dir, { recursive: true });
  const release = await acquireLock(p.lock, log);
  try {
    if (isFetched(p, hash)) return { libDir: p.libDir, version }; // another process did it
    fs.rmSync(p.marker, { force: true });
    // Leftovers of interrupted fetches (we hold the lock, so nobody else is writing).
    for (const name of fs.readdirSync(p.dir)) {
      if (name.startsWith('libs.partial-'))
        fs.rmSync(path.join(p.dir, name), { recursive: true, force: true });
    }
    const staging = path.join(p.dir, `libs.partial-${process.pid}`);
    const started = Date.now();
    log(`fetching Apache Kafka ${version} jars from Maven Central into ${p.libDir} (first run only)`);
    await runMaven(staging, log);
    const jars = fs.readdirSync(staging).filter((f) => f.endsWith('.jar'));
    if (!jars.includes(`kafka_2.13-${version}.jar`)) {
      throw new Error(`Maven finished but kafka_2.13-${version}.jar is not in ${staging}`);
    }
    fs.rmSync(p.libDir, { recursive: true, force: true });
    fs.renameSync(staging, p.libDir);
    fs.writeFileSync(p.marker, `${hash}\n`);
    log(`fetched ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { libDir: p.libDir, version };
  } finally {
    release();
  }
}

// ---------------------------------------------------------------------------------------------
// Broker configuration
// ---------------------------------------------------------------------------------------------

/** Distinct free loopback ports: all servers are held open together so they can't coincide. */
async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r()))));
  }
}

/**
 * KRaft cluster ids are 16 random bytes in base64url without padding (22 chars). Like Kafka's
 * Uuid.randomUuid(), avoid a leading '-', which the command line would take for an option: the
 * format then fails (one id in 64). Also the compose stack's (deploy/compose/init.js).
 */
function randomClusterId() {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The kafkajs SASL options of `sasl`'s administrator, or undefined for a plaintext broker. */
function adminSasl(sasl) {
  return sasl ? { mechanism: 'scram-sha-512', username: 'admin', password: sasl.users.admin } : undefined;
}

/**
 * With `sasl` ({ users: { admin, <name>: password… } }): a SASL_PLAINTEXT listener with SCRAM-SHA-512,
 * the StandardAuthorizer denying what no ACL allows, `admin` the super user (docs/kafka-security.md;
 * the same settings as the compose broker). Without: plaintext, no authorizer.
 */
function serverProperties({ port, controllerPort, dataDir, sasl }) {
  const secured = sasl
    ? {
        listeners: `SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${port}`,
        'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        'inter.broker.listener.name': 'SASL_PLAINTEXT',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
        'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${sasl.users.admin}";`,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'allow.everyone.if.no.acl.found': false,
        'super.users': 'User:admin;User:ANONYMOUS',
      }
    : {};
  const props = {
    // Single node in KRaft combined mode: no ZooKeeper, one JVM.
    'process.roles': 'broker,controller',
    'node.id': 1,
    // Static voter set: `kafka-storage format` needs no --standalone/--initial-controllers.
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'log.dirs': dataDir,
    // One broker: every internal topic must make do with one replica.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'min.insync.replicas': 1,
    // Internal topics default to 50 partitions; creating them would slow the first consumer
    // group join / first transaction on a 2-core box for no benefit on a single broker.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.num.partitions': 1,
    // Consumer groups in tests should start consuming at once, not after 3 s.
    'group.initial.rebalance.delay.ms': 0,
    // Decision: the portal must create its topics explicitly (as it must in production, where
    // auto-creation is normally off); auto-creation in tests would hide a missing create.
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    'default.replication.factor': 1,
    ...secured,
  };
  return (
    '# Generated by deploy/kafka/kafka-broker.js; throwaway single-node test broker.\n' +
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') +
    '\n'
  );
}

// Everything goes to stdout, which the watchdog appends to broker.log: one file to read.
const LOG4J_PROPERTIES = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# The same quieter levels as Kafka's own config/log4j.properties.
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.zookeeper=WARN
`;

function tail(text, lines) {
  return text.split('\n').filter(Boolean).slice(-lines).join('\n');
}

function tailFile(file, lines = LOG_TAIL_LINES) {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return tail(buf.toString('utf8'), lines);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return `(could not read ${file}: ${err.message})`;
  }
}

function jvmOptions(heapMb) {
  return [
    `-Xms${heapMb}m`,
    `-Xmx${heapMb}m`,
    // The GC settings of Kafka's bin/kafka-run-class.sh.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
  ];
}

/** `kafka-storage.sh format`: writes meta.properties and the bootstrap metadata checkpoint. */
async function formatStorage({ java, libDir, tmpDir, logFile, clusterId, sasl }) {
  const logFd = fs.openSync(logFile, 'a');
  try {
    const args = [
      '-Xmx256m',
      '-cp',
      path.join(libDir, '*'),
      `-Dlog4j.configuration=file:${path.join(tmpDir, 'log4j.properties')}`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      path.join(tmpDir, 'server.properties'),
      // KRaft keeps SCRAM credentials in its metadata: the users exist from the first start.
      ...Object.entries(sasl?.users ?? {}).flatMap(([name, password]) => [
        '--add-scram',
        `SCRAM-SHA-512=[name=${name},password=${password}]`,
      ]),
    ];
    const code = await new Promise((resolve, reject) => {
      const p = spawn(java, args, { cwd: tmpDir, stdio: ['ignore', logFd, logFd] });
      p.on('error', reject);
      p.on('exit', (c, sig) => resolve(c === null ? sig : c));
    });
    if (code !== 0) throw new Error(`kafka.tools.StorageTool format failed (${code})`);
  } finally {
    fs.closeSync(logFd);
  }
}

// ---------------------------------------------------------------------------------------------
// Start / readiness / stop
// ---------------------------------------------------------------------------------------------

/** True when the broker answers a metadata request (kafkajs, quiet, no retries of its own). */
async function probe(brokers, sasl) {
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'cryptomesh-kafka-probe',
    ...(sasl ? { sasl: adminSasl(sasl) } : {}),
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let timer;
  try {
    // kafkajs' own timeouts don't cover every stage of connect: bound the whole probe.
    const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve(null), 5000)));
    const cluster = await Promise.race([admin.connect().then(() => admin.describeCluster()), timeout]);
    return Boolean(cluster && cluster.brokers.length > 0);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => {});
  }
}

/**
 * The first FindCoordinator creates __consumer_offsets and the first InitProducerId makes the
 * broker fetch a producer-id block from the controller; until then clients get retriable
 * "coordinator is loading" errors that kafkajs logs at ERROR level. Doing both here means that
 * "ready" really is ready for the test that runs next.
 */
async function warmUp(brokers, sasl) {
  const { Kafka, logLevel, Partitioners } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'cryptomesh-kafka-warmup',
    ...(sasl ? { sasl: adminSasl(sasl) } : {}),
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await admin.connect();
    await admin.describeGroups(['cryptomesh-kafka-warmup']);
    await producer.connect(); // idempotent: sends InitProducerId
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

function isAlive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers kill -0 but is not running.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); // "pid (comm) STATE ..."
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc: trust kill -0
  }
}

function waitForExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function readPid(pidFile) {
  try {
    return parseInt(fs.readFileSync(pidFile, 'utf8'), 10) || null;
  } catch {
    return null;
  }
}

/**
 * Starts the watchdog (detached: own session and process group), which starts the JVM.
 * See watchdog.js for why the JVM is not our direct child.
 */
function spawnWatchdog({ java, args, tmpDir, logFile, pidFile }) {
  const cfg = {
    parentPid: process.pid,
    tmpDir,
    pidFile,
    java,
    args,
    stopGraceMs: STOP_GRACE_MS,
    orphanGraceMs: ORPHAN_GRACE_MS,
  };
  const logFd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, [WATCHDOG, JSON.stringify(cfg)], {
      cwd: tmpDir,
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    // A running broker must not keep a test runner alive on its own; 'exit' events still fire.
    child.unref();
    return child;
  } finally {
    fs.closeSync(logFd);
  }
}

function killQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Resolves to null once the broker answers, or to the reason why it never will. */
async function waitUntilReady(brokers, exited, readyTimeoutMs, sasl) {
  let early = null;
  void exited.then((e) => (early = e));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (early) return `the broker exited early (code ${early.code}, signal ${early.signal})`;
    if (Date.now() > deadline) return `no answer on ${brokers} within ${readyTimeoutMs} ms`;
    if (await probe(brokers, sasl)) return null;
    await sleep(250);
  }
}

/**
 * stop(): the watchdog does the graceful part (SIGTERM, up to 15 s, SIGKILL, delete the temp
 * dir); we wait for it, with a process-group SIGKILL as the last resort. Idempotent.
 */
function stopper({ current, pidFile, tmpDir, onExit }) {
  let stopping = null;
  return () => {
    stopping ??= (async () => {
      process.removeListener('exit', onExit);
      const { watchdog } = current;
      const jvmPid = readPid(pidFile);
      killQuietly(watchdog.pid, 'SIGTERM');
      if (!(await waitForExit(watchdog, STOP_GRACE_MS + 5000))) {
        killQuietly(-watchdog.pid, 'SIGKILL'); // watchdog wedged: its whole group, JVM included
        await waitForExit(watchdog, 5000);
      }
      if (isAlive(jvmPid)) killQuietly(jvmPid, 'SIGKILL');
      fs.rmSync(tmpDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return stopping;
  };
}

function startFailure(reason, logFile) {
  const text = tailFile(logFile);
  const err = new Error(
    `Kafka test broker failed to start: ${reason}\nbroker log: ${logFile}\n` +
      `--- last ${LOG_TAIL_LINES} lines ---\n${text}`,
  );
  err.portClash = /BindException|Address already in use/.test(text);
  return err;
}

async function startOnce({ java, libDir, version, log, heapMb, readyTimeoutMs, sasl }) {
  const started = Date.now();
  const [port, controllerPort] = await freePorts(2);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cryptomesh-kafka-'));
  const dataDir = path.join(tmpDir, 'data');
  const logFile = path.join(tmpDir, 'broker.log');
  const pidFile = path.join(tmpDir, 'broker.pid');
  const brokers = `127.0.0.1:${port}`;
  fs.writeFileSync(
    path.join(tmpDir, 'server.properties'),
    serverProperties({ port, controllerPort, dataDir, sasl }),
  );
  fs.writeFileSync(path.join(tmpDir, 'log4j.properties'), LOG4J_PROPERTIES);

  try {
    await formatStorage({ java, libDir, tmpDir, logFile, clusterId: randomClusterId(), sasl });
  } catch (err) {
    throw startFailure(err.message, logFile);
  }

  const args = [
    ...jvmOptions(heapMb),
    `-Dlog4j.configuration=file:${path.join(tmpDir, 'log4j.properties')}`,
    `-Dkafka.logs.dir=${tmpDir}`,
    '-cp',
    path.join(libDir, '*'),
    'kafka.Kafka',
    path.join(tmpDir, 'server.properties'),
  ];
  const watchdog = spawnWatchdog({ java, args, tmpDir, logFile, pidFile });
  const exited = new Promise((resolve) => watchdog.once('exit', (code, signal) => resolve({ code, signal })));
  // Our own normal exit without stop(): ask the watchdog to clean up now rather than in 1 s.
  const onExit = () => killQuietly(watchdog.pid, 'SIGTERM');
  process.on('exit', onExit);

  const failure = await waitUntilReady(brokers, exited, readyTimeoutMs, sasl);
  if (failure) {
    process.removeListener('exit', onExit);
    killQuietly(-watchdog.pid, 'SIGKILL'); // watchdog and JVM (one process group), no courtesy needed
    await waitForExit(watchdog, 5000);
    const err = startFailure(failure, logFile);
    // Keep the log for the post-mortem, drop the data. A port clash is retried: drop it all.
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (err.portClash) fs.rmSync(tmpDir, { recursive: true, force: true });
    throw err;
  }

  try {
    await warmUp(brokers, sasl);
  } catch (err) {
    log(`warning: warm-up of the internal topics failed (${err.message}); continuing`);
  }
  const pid = readPid(pidFile);
  log(
    `Kafka ${version} broker ready on ${brokers} in ${Date.now() - started} ms (pid ${pid}, log ${logFile})`,
  );
  const current = { watchdog };
  const stop = stopper({ current, pidFile, tmpDir, onExit });
  /**
   * Stops the broker (SIGTERM: a clean shutdown; `hard`: SIGKILL) and starts it again on the same
   * ports with the same data, for failure tests. Resolves once it answers again.
   */
  const restart = async ({ hard = false, downMs = 0 } = {}) => {
    const old = current.watchdog;
    const jvmPid = readPid(pidFile);
    // The watchdog exits with its JVM and keeps the temp dir, since we (its starter) are alive.
    killQuietly(jvmPid, hard ? 'SIGKILL' : 'SIGTERM');
    if (!(await waitForExit(old, STOP_GRACE_MS + 5000))) {
      killQuietly(-old.pid, 'SIGKILL');
      await waitForExit(old, 5000);
    }
    if (downMs > 0) await sleep(downMs);
    const again = spawnWatchdog({ java, args, tmpDir, logFile, pidFile });
    current.watchdog = again;
    const stopped = new Promise((resolve) => again.once('exit', (code, signal) => resolve({ code, signal })));
    const failure = await waitUntilReady(brokers, stopped, readyTimeoutMs, sasl);
    if (failure) throw startFailure(`restart: ${failure}`, logFile);
    log(`Kafka broker restarted on ${brokers} (pid ${readPid(pidFile)})`);
  };
  return {
    brokers,
    port,
    controllerPort,
    logFile,
    dataDir,
    tmpDir,
    pid,
    version,
    exited,
    stop,
    restart,
    ...(sasl ? { sasl: adminSasl(sasl) } : {}),
  };
}

/**
 * Starts a single-node KRaft broker on 127.0.0.1 with free ports and a fresh temp dir.
 * Resolves once the broker answers; rejects (with the log tail) if it exits or times out.
 * With `sasl: { users: { admin, …: password } }` the broker authenticates with SCRAM-SHA-512 and
 * enforces ACLs (serverProperties); the handle's `sasl` is then the admin's kafkajs options.
 */
async function startBroker({ log = defaultLog, heapMb = 512, readyTimeoutMs = 90000, sasl } = {}) {
  if (sasl && !sasl.users?.admin) throw new Error('sasl.users needs an admin password');
  const java = await checkJava();
  const { libDir, version } = await fetchKafka({ log });
  // Ports are free when picked but another process may grab one before the JVM binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ java, libDir, version, log, heapMb, readyTimeoutMs, sasl });
    } catch (err) {
      if (!err.portClash || attempt >= 3) throw err;
      log(`port already taken, retrying with other ports (attempt ${attempt + 1})`);
    }
  }
}

/**
 * What test runners want: the broker named by $KAFKA_BROKERS (never stopped by us), or a
 * fresh one from startBroker().
 */
async function ensureBroker(opts = {}) {
  const external = process.env.KAFKA_BROKERS;
  if (external) {
    return {
      brokers: external,
      external: true,
      port: Number(external.split(',')[0].split(':').pop()),
      stop: async () => {},
    };
  }
  return { ...(await startBroker(opts)), external: false };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

async function cli(cmd) {
  if (cmd === 'fetch') {
    const { libDir, version } = await fetchKafka();
    defaultLog(`Apache Kafka ${version} jars are in ${libDir}`);
    return;
  }
  if (cmd === 'start') {
    const broker = await startBroker();
    process.stdout.write(`KAFKA_BROKERS=${broker.brokers}\nKAFKA_BROKER_LOG=${broker.logFile}\n`);
    defaultLog('running; Ctrl-C to stop');
    // The broker's child process is unref'd (see spawnWatchdog): keep this process alive.
    const keepAlive = setInterval(() => {}, 1 << 30);
    let signals = 0;
    const onSignal = (sig) => {
      if (++signals > 1) process.exit(130); // impatient: the watchdog finishes the cleanup
      defaultLog(`${sig}: stopping the broker`);
      void broker.stop().then(() => process.exit(0));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const { code, signal } = await broker.exited;
    clearInterval(keepAlive);
    if (!signals) {
      defaultLog(`the broker exited by itself (code ${code}, signal ${signal}); see ${broker.logFile}`);
      process.exit(1);
    }
    return;
  }
  process.stderr.write('usage: node deploy/kafka/kafka-broker.js fetch|start\n');
  process.exitCode = 2;
}

module.exports = { fetchKafka, startBroker, ensureBroker, freePorts, randomClusterId };

if (require.main === module) {
  cli(process.argv[2]).catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
