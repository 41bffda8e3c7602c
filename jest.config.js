// Two projects: `unit` (pure code, no I/O, runs anywhere) and `integration` (real PostgreSQL
// and a real Kafka broker, provided by test/env/run-tests.js). `npm test` runs both.

const moduleNameMapper = {
  '^@cryptomesh/(crypto|log|mesh|persistence|intermesh|service|client|audit)$': '<rootDir>/libs/$1/src',
  '^@cryptomesh/(crypto|log|mesh|persistence|intermesh|service|client|audit)/(.*)$':
    '<rootDir>/libs/$1/src/$2',
};

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  // ts-jest in transpile-only mode (tsc does the type check before jest runs): it emits the
  // decorator metadata Nest's injection needs. Pure-JS on purpose: no native binary to install.
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: '<rootDir>/tsconfig.json' }] },
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
