#!/usr/bin/env node
'use strict';
/**
 * `npm start`: one portal in one process (apps/portal) — embedded PostgreSQL (PGlite) in ./data
 * unless DATABASE_URL is set, a log key created on first start, one HTTP server on PORT (8080).
 * Builds the portal first when dist/ is missing or older than the sources, so that
 * `npm ci && npm start` works on a clean clone.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist/apps/portal/apps/portal/src/main.js');

function newestSource(dir) {
  let newest = 0;
  for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (item.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

const stale =
  !fs.existsSync(entry) ||
  fs.statSync(entry).mtimeMs <
    Math.max(newestSource(path.join(root, 'apps')), newestSource(path.join(root, 'libs')));
if (stale) {
  process.stderr.write('portal: building (nest build portal)…\n');
  const nest = path.join(root, 'node_modules/@nestjs/cli/bin/nest.js');
  const build = spawnSync(process.execPath, [nest, 'build', 'portal'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
require(entry);
