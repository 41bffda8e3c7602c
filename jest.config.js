// Two projects: `unit` (pure code, no I/O, runs anywhere) and `integration` (real PostgreSQL
// and a real Kafka broker, provided by test/env/run-tests.js). `npm test` runs both.
const swcOptions = require('./.swcrc.jest.json');

const moduleNameMapper = {
  '^@cryptomesh/(crypto|log|mesh|persistence|intermesh|service)$': '<rootDir>/libs/$1/src',
  '^@cryptomesh/(crypto|log|mesh|persistence|intermesh|service)/(.*)$': '<rootDir>/libs/$1/src/$2',
};

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcOptions, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
};

module.exports = {
  // Per test; integration tests start processes and wait for the broker. (A global option in jest.)
  testTimeout: 30_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
      setupFiles: ['<rootDir>/test/env/require-environment.js'],
      slowTestThreshold: 30,
    },
  ],
};
