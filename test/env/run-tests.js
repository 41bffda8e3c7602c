#!/usr/bin/env node
'use strict';
/**
 * `npm test`: builds the services, provides a real PostgreSQL and a real Kafka broker, runs every
 * jest project, and cleans up whatever happens — success, failure, Ctrl-C or SIGTERM.
 *
 *   PostgreSQL  the server at TEST_DATABASE_URL or DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
 *               each test creates its own database named cmp_t_<runner pid>_<run tag>_…, dropped at the end.
 *               Databases left by a runner that died hard are swept at the next start (its pid is gone).
 *   Chromium    Debian's chromium for the status page's browser test, installed when missing (chromium.js).
 *   Kafka       KAFKA_BROKERS when set; otherwise a single-node KRaft broker of Apache Kafka 3.9
 *               fetched with Maven and started on a free loopback port (deploy/kafka/kafka-broker.js).
 *
 * Arguments are passed to jest (e.g. `npm test -- --selectProjects unit`).
 * Environment: TEST_SKIP_BUILD=1 skips `nest build --all` (the service start/stop tests then use
 * whatever dist/ holds); TEST_SKIP_STATIC=1 skips the type check and lint.
 */
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const path = require('node:path');
const { dropRunDatabases, sweepStaleDatabases, checkServer, adminUrl } = require('./databases');

const root = path.resolve(__dirname, '../..');
const runTag = `cmp_t_${process.pid}_${randomBytes(3).toString('hex')}`;

function say(message) {
  process.stderr.write(`[test-env] ${message}\n`);
}

function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', ...options });
    current.child = child;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      current.child = undefined;
      resolve(code ?? (signal ? 128 + (require('node:os').constants.signals[signal] ?? 1) : 1));
    });
  });
}

/** The child being waited for and the broker, owned by main(); read by the signal handler. */
const current = { child: undefined, broker: undefined, interrupted: false };

async function main() {
  const jestArgs = process.argv.slice(2);
  const dbUrl = adminUrl();
  say(`PostgreSQL: ${redact(dbUrl)}`);
  await checkServer(dbUrl);
  const swept = await sweepStaleDatabases(dbUrl);
  if (swept.length > 0)
    say(`dropped ${swept.length} database(s) left by earlier runs that died: ${swept.join(', ')}`);

  if (process.env.TEST_SKIP_BUILD !== '1') {
    say('building every application (nest build --all)');
    const code = await run(process.execPath, [
      path.join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'),
      'build',
      '--all',
    ]);
    if (code !== 0) return code;
  }
  if (process.env.TEST_SKIP_STATIC !== '1') {
    say('type-checking everything, tests included (tsc --noEmit)');
    let code = await run(process.execPath, [
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--noEmit',
      '-p',
      'tsconfig.json',
    ]);
    if (code !== 0) return code;
    say('linting (eslint .)');
    code = await run(process.execPath, [path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
    if (code !== 0) return code;
    say('checking the known-answer vectors against their generators (scripts/testdata)');
    const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    code = await run(process.execPath, [tsx, 'scripts/testdata/crypto-vectors.ts', '--check']);
    if (code !== 0) return code;
    code = await run(process.execPath, [tsx, 'scripts/testdata/log-vectors.ts']);
    if (code !== 0) return code;
    say('checking formatting (prettier --check .)');
    code = await run(process.execPath, [
      path.join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
      '--check',
      '--log-level',
      'warn',
      '.',
    ]);
    if (code !== 0) return code;
  }
  if (current.interrupted) return 130;

  // The status page's end-to-end test drives Debian's Chromium: install it once per machine.
  const unitOnly = jestArgs.includes('--selectProjects') && !jestArgs.includes('integration');
  if (!unitOnly) {
    const { ensureChromium } = require('./chromium');
    say(`Chromium: ${await ensureChromium({ log: (m) => say(`Chromium: ${m}`) })}`);
  }
  if (current.interrupted) return 130;

  let brokers = process.env.KAFKA_BROKERS;
  if (brokers) {
    say(`Kafka: using KAFKA_BROKERS=${brokers}`);
  } else {
    const { startBroker } = require(path.join(root, 'deploy/kafka/kafka-broker.js'));
    say('Kafka: starting a local Apache Kafka broker');
    current.broker = await startBroker({ log: say });
    brokers = current.broker.brokers;
    say(`Kafka: broker ready at ${brokers} (pid ${current.broker.pid}, log: ${current.broker.logFile})`);
  }
  if (current.interrupted) return 130;

  const env = {
    ...process.env,
    CMP_TEST_RUN_TAG: runTag,
    TEST_DATABASE_ADMIN_URL: dbUrl,
    KAFKA_BROKERS: brokers,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
  // PGlite (the embedded database) loads its WebAssembly with a dynamic import(), which jest's
  // module sandbox only allows with this flag; the tests themselves stay CommonJS.
  return run(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--disable-warning=ExperimentalWarning',
      path.join(path.dirname(require.resolve('jest')), '..', 'bin', 'jest.js'),
      ...jestArgs,
    ],
    { env },
  );
}

async function cleanUp() {
  const broker = current.broker;
  current.broker = undefined;
  if (broker) {
    say('Kafka: stopping the broker');
    await broker.stop().catch((error) => say(`could not stop the broker: ${error.message}`));
  }
  const dropped = await dropRunDatabases(adminUrl(), runTag).catch((error) => {
    say(`could not drop this run's databases: ${error.message}`);
    return [];
  });
  if (dropped.length > 0) say(`dropped ${dropped.length} database(s) the tests left behind`);
}

function redact(url) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (current.interrupted) return;
    current.interrupted = true;
    say(`${signal}: stopping the tests and cleaning up`);
    // A terminal's Ctrl-C already reached jest (same process group); a kill of this process alone did not.
    if (current.child) current.child.kill('SIGINT');
    setTimeout(() => current.child?.kill('SIGKILL'), 15_000).unref();
  });
}

main()
  .catch((error) => {
    say(error.message);
    return 1;
  })
  .then(async (code) => {
    await cleanUp();
    process.exit(current.interrupted && code === 0 ? 130 : code);
  });
