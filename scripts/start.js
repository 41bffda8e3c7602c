#!/usr/bin/env node
'use strict';
// `npm start`: the single-portal embedded mode (all four services in one process, PGlite in ./data).
// That mode arrives with the gateway and log-signer (issue #5); until then this says so and exits 0.
process.stdout.write(
  [
    'CryptoMesh Portal 0.1.0',
    'The single-portal embedded mode (`npm start`) is not implemented yet: it comes with the gateway and',
    'log-signer (issue #5). What exists today: the four services, built with `npm run build`, each',
    'serving /health and /metrics against PostgreSQL (see docs/running.md), and the test suite (`npm test`).',
    '',
  ].join('\n'),
);
process.exitCode = 0;
