#!/usr/bin/env node
'use strict';
/**
 * The headless browser of the status-page test (docs/testing.md "Browser"): Debian's `chromium`,
 * driven by playwright-core. `ensureChromium()` finds it, or installs the package with apt-get (as
 * root; `apt-get update` first when the package lists do not know it), printing progress, bounded
 * in time. Resolves to the executable's path; rejects with a message that says what to do.
 *
 * CLI: node test/env/chromium.js   (prints the path)
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/** The first executable of `candidates` that exists (CHROMIUM_PATH first when set). */
function findChromium(candidates = CANDIDATES, env = process.env, exists = fs.existsSync) {
  const list = env.CHROMIUM_PATH ? [env.CHROMIUM_PATH, ...candidates] : candidates;
  return list.find((file) => exists(file));
}

/** What to do when there is none: `install` (as root with apt-get) or `refuse` with the reason. */
function installPlan({ uid = process.getuid?.(), aptGet = fs.existsSync('/usr/bin/apt-get') } = {}) {
  if (!aptGet)
    return { action: 'refuse', reason: 'no apt-get on this machine: install Chromium and set CHROMIUM_PATH' };
  if (uid !== 0)
    return {
      action: 'refuse',
      reason: 'not root: run `sudo apt-get install -y chromium`, or set CHROMIUM_PATH',
    };
  return { action: 'install' };
}

function aptGet(args, log, deadline) {
  return new Promise((resolve, reject) => {
    log(`apt-get ${args.join(' ')}`);
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (chunk) => {
      tail = (tail + chunk.toString()).slice(-4000);
      const line = chunk.toString().trim().split('\n').pop();
      if (line && /^(Get:|Unpacking|Setting up)/.test(line)) log(line.slice(0, 120));
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1000, deadline - Date.now()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`apt-get ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

async function ensureChromium({ log = (m) => process.stderr.write(`[chromium] ${m}\n`) } = {}) {
  const found = findChromium();
  if (found) return found;
  const plan = installPlan();
  if (plan.action === 'refuse')
    throw new Error(`Chromium is not installed and cannot be installed here: ${plan.reason}`);
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  log("Chromium is missing: installing Debian's chromium package (once per machine)");
  const install = ['install', '-y', '--no-install-recommends', 'chromium'];
  try {
    await aptGet(install, log, deadline);
  } catch (first) {
    log(`the install failed (${first.message.split('\n')[0]}); updating the package lists and trying again`);
    await aptGet(['update'], log, deadline);
    await aptGet(install, log, deadline);
  }
  const installed = findChromium();
  if (!installed) throw new Error(`apt-get installed chromium but none of ${CANDIDATES.join(', ')} exists`);
  log(`installed ${installed}`);
  return installed;
}

module.exports = { ensureChromium, findChromium, installPlan };

if (require.main === module) {
  ensureChromium().then(
    (file) => process.stdout.write(`${file}\n`),
    (error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
