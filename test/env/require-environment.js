'use strict';
// Integration tests need the real PostgreSQL and Kafka that `npm test` (test/env/run-tests.js) provides.
if (!process.env.CMP_TEST_RUN_TAG || !process.env.KAFKA_BROKERS || !process.env.TEST_DATABASE_ADMIN_URL) {
  throw new Error(
    'integration tests run under `npm test` (test/env/run-tests.js), which provides PostgreSQL and Kafka; ' +
      'to run a subset: npm test -- --selectProjects integration -t "<name>"',
  );
}
