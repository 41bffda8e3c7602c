'use strict';
/**
 * Watchdog that owns one test Kafka broker JVM (see docs/kafka-test-broker.md).
 *
 * kafka-broker.js spawns this script *detached* (its own session and process group) with one
 * JSON argument; this script spawns the JVM as its own child, so the JVM shares the watchdog's
 * process group, and then:
 *
 *   - writes the JVM's pid to cfg.pidFile, so that the starter can report it;
 *   - every second checks that the process that started it is still alive (its parent pid
 *     changes when the parent dies and we are re-parented; `kill -0` covers the rest). When the
 *     starter is gone (SIGKILL, crash, Ctrl-C without a handler) it stops the broker and
 *     deletes the broker's temp dir, so that no JVM or data is left behind;
 *   - on SIGTERM (sent by stop() in kafka-broker.js) it stops the broker gracefully: SIGTERM,
 *     which Kafka handles with a clean shutdown, then SIGKILL after cfg.stopGraceMs;
 *   - when the JVM exits by itself it exits too, keeping the temp dir (the log explains why)
 *     unless the starter is gone as well.
 *
 * Being in its own process group keeps Ctrl-C on the terminal (SIGINT to the foreground group)
 * away from the JVM: the starter decides what happens, and if the starter simply dies, the
 * watchdog notices within a second.
 *
 * stdout/stderr of this script and of the JVM both go to the broker log file.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const POLL_MS = 1000;

/** @type {{parentPid:number, tmpDir:string, pidFile:string, java:string, args:string[], stopGraceMs:number, orphanGraceMs:number}} */
const cfg = JSON.parse(process.argv[2]);

function say(msg) {
  process.stdout.write(`[${new Date().toISOString()}] watchdog ${process.pid}: ${msg}\n`);
}

function parentGone() {
  // Re-parenting is the reliable signal (immune to pid reuse); kill -0 is a second opinion.
  if (process.ppid !== cfg.parentPid) return true;
  try {
    process.kill(cfg.parentPid, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}

function removeTmpDir() {
  try {
    fs.rmSync(cfg.tmpDir, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    say(`could not remove ${cfg.tmpDir}: ${err.message}`);
  }
}

const jvm = spawn(cfg.java, cfg.args, { cwd: cfg.tmpDir, stdio: ['ignore', 'inherit', 'inherit'] });
let jvmExited = false;
let stopping = false;

const jvmExit = new Promise((resolve) => {
  jvm.on('exit', (code, signal) => {
    jvmExited = true;
    resolve({ code, signal });
  });
});

jvm.on('error', (err) => {
  // spawn failure (e.g. java not executable): nothing to watch.
  say(`could not start ${cfg.java}: ${err.message}`);
  process.exit(127);
});

if (jvm.pid) {
  fs.writeFileSync(cfg.pidFile, `${jvm.pid}\n`);
  say(`broker JVM pid ${jvm.pid}, watching parent pid ${cfg.parentPid}`);
}

jvmExit.then(({ code, signal }) => {
  if (stopping) return; // shutdown() handles the rest
  say(`broker JVM exited by itself (code ${code}, signal ${signal})`);
  if (parentGone()) removeTmpDir();
  process.exit(code === null ? 1 : code);
});

function waitForJvm(ms) {
  if (jvmExited) return Promise.resolve(true);
  return Promise.race([jvmExit.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);
}

async function shutdown(reason, graceMs) {
  if (stopping) return;
  stopping = true;
  clearInterval(poller);
  say(`${reason}: stopping broker JVM ${jvm.pid}`);
  if (!jvmExited) {
    jvm.kill('SIGTERM');
    if (!(await waitForJvm(graceMs))) {
      say(`broker JVM still running after ${graceMs} ms: SIGKILL`);
      jvm.kill('SIGKILL');
      await waitForJvm(5000);
    }
  }
  removeTmpDir();
  process.exit(0);
}

const poller = setInterval(() => {
  if (parentGone()) void shutdown(`parent ${cfg.parentPid} is gone`, cfg.orphanGraceMs);
}, POLL_MS);

process.on('SIGTERM', () => void shutdown('stop requested', cfg.stopGraceMs));
process.on('SIGINT', () => void shutdown('SIGINT', cfg.stopGraceMs));
// Detached, so no controlling terminal; ignore a stray hangup rather than die and orphan the JVM.
process.on('SIGHUP', () => {});
