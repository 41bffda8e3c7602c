#!/usr/bin/env node
'use strict';
/**
 * Self-check of the test Kafka broker: node deploy/kafka/selftest.js
 *
 *  1. fetch (cached after the first run)
 *  2. start a broker; create a topic; produce 3 messages (idempotent, acks -1); consume them back
 *  3. stop it: JVM gone, temp dir removed, stop() idempotent
 *  4. start a second broker right away (no port clash), stop it
 *  5. hard death: a child process starts a broker and is SIGKILLed; the watchdog must kill the
 *     JVM within 10 s and remove the temp dir
 *
 * Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero on any failure.
 * Bounded: gives up after 3 minutes.
 */
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { fetchKafka, startBroker } = require('./kafka-broker');

const OVERALL_TIMEOUT_MS = 180000;
const HARD_DEATH_LIMIT_MS = 10000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quiet = () => {};

// ---------------------------------------------------------------------------------------------
// Child mode (--hard-death-child): start a broker, report it, then wait to be SIGKILLed.
// ---------------------------------------------------------------------------------------------
function hardDeathChild() {
  startBroker({ log: quiet })
    .then((b) => {
      process.stdout.write(`${JSON.stringify({ pid: b.pid, tmpDir: b.tmpDir, brokers: b.brokers })}\n`);
      setInterval(() => {}, 1 << 30); // stay alive until SIGKILLed
    })
    .catch((err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    });
}

let passed = 0;
let failed = 0;
const live = new Set(); // brokers to stop if a check throws

function report(ok, name, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` - ${detail}` : ''}`);
}

function isRunning(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'; // zombie = exited
  } catch {
    return false;
  }
}

async function waitUntil(pred, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await sleep(200);
  }
  return pred();
}

async function timedStart(name) {
  const t0 = Date.now();
  const broker = await startBroker({ log: quiet });
  live.add(broker);
  report(true, name, `${broker.brokers} ready in ${Date.now() - t0} ms, pid ${broker.pid}`);
  return broker;
}

async function checkStop(broker, name) {
  const t0 = Date.now();
  await broker.stop();
  const ms = Date.now() - t0;
  await broker.stop(); // idempotent
  live.delete(broker);
  const jvmGone = !isRunning(broker.pid);
  const dirGone = !fs.existsSync(broker.tmpDir);
  report(jvmGone && dirGone, name, `stopped in ${ms} ms; JVM gone: ${jvmGone}; temp dir removed: ${dirGone}`);
}

async function roundTrip(brokers) {
  const { Kafka, logLevel, Partitioners } = require('kafkajs');
  const kafka = new Kafka({ clientId: 'kafka-selftest', brokers: [brokers], logLevel: logLevel.WARN });
  const topic = `selftest-${crypto.randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    report(created, 'create topic', topic);
  } finally {
    await admin.disconnect();
  }

  const sent = ['one', 'two', 'three'];
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: sent.map((value, i) => ({ key: `k${i}`, value })) });
    report(true, 'produce 3 messages (idempotent, acks -1)');
  } finally {
    await producer.disconnect();
  }

  const got = [];
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.value.toString());
      },
    });
    await waitUntil(() => got.length >= sent.length, 30000);
  } finally {
    await consumer.disconnect();
  }
  report(JSON.stringify(got) === JSON.stringify(sent), 'consume them back in order', JSON.stringify(got));
}

async function hardDeath() {
  const child = spawn(process.execPath, [__filename, '--hard-death-child'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(buf.split('\n')[0]);
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before its broker was ready`)));
  });
  const info = JSON.parse(line);
  report(isRunning(info.pid), 'child process started a broker', `${info.brokers}, JVM pid ${info.pid}`);
  const t0 = Date.now();
  child.kill('SIGKILL');
  const jvmGone = await waitUntil(() => !isRunning(info.pid), HARD_DEATH_LIMIT_MS);
  const ms = Date.now() - t0;
  if (!jvmGone) {
    try {
      process.kill(info.pid, 'SIGKILL'); // don't leave it behind ourselves
    } catch {
      /* gone */
    }
  }
  report(jvmGone, 'watchdog kills the JVM after its starter is SIGKILLed', `JVM gone after ${ms} ms`);
  const dirGone = await waitUntil(() => !fs.existsSync(info.tmpDir), 5000);
  report(dirGone, 'watchdog removes the temp dir', info.tmpDir);
}

async function main() {
  const t0 = Date.now();
  const { libDir, version } = await fetchKafka();
  report(true, 'fetch', `Kafka ${version} in ${libDir}`);

  const first = await timedStart('start broker #1');
  await roundTrip(first.brokers);
  await checkStop(first, 'stop broker #1');

  const second = await timedStart('start broker #2 right after');
  await checkStop(second, 'stop broker #2');

  await hardDeath();
  console.log(`selftest took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

let overall = null;

async function cleanupAndExit() {
  clearTimeout(overall);
  await Promise.all([...live].map((b) => b.stop().catch(() => {})));
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[2] === '--hard-death-child') {
  hardDeathChild();
} else {
  overall = setTimeout(() => {
    report(false, `selftest did not finish within ${OVERALL_TIMEOUT_MS / 1000} s`);
    void cleanupAndExit();
  }, OVERALL_TIMEOUT_MS);
  main()
    .catch((err) => report(false, 'unexpected error', err.stack || err.message))
    .finally(() => void cleanupAndExit());
}
