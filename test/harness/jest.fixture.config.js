// Used only by test/integration/test-environment.spec.ts: a jest run whose single test holds a
// database open and waits, so that the outer test can interrupt the runner mid-run.
const base = require('../../jest.config.js');
const integration = base.projects.find((p) => p.displayName === 'integration');

module.exports = {
  testTimeout: 120_000,
  projects: [{ ...integration, displayName: 'fixture', testMatch: ['<rootDir>/test/harness/*.fixture.ts'] }],
};
