#!/usr/bin/env node
'use strict';
/**
 * The compose file's `kafka-setup` job (docs/kafka-security.md): the federation's topics and ACLs
 * (deploy/kafka/acls.js) created in ONE admin-client session, instead of a JVM per `kafka-topics.sh` /
 * `kafka-acls.sh` call. Idempotent: existing topics are kept and Kafka ignores an ACL that exists.
 *
 *   KAFKA_BROKERS             host:port[,…]
 *   KAFKA_SASL_USERNAME       the admin (a super user), SCRAM-SHA-512
 *   KAFKA_SASL_PASSWORD_FILE  its password
 *   FEDERATION_FILE           federation.json (the portals' ids), or FEDERATION_PORTALS=a,b,c
 *   KAFKA_SETUP_TIMEOUT_MS    how long to retry while the broker is not ready (default 120000)
 */
const fs = require('node:fs');
const { federationAcls, LOG_PREFIX, WITNESS_TOPIC } = require('./acls');

/** The topics of `portals`: one log topic each (1 partition: one ordered log), the witness topic (3). */
function federationTopics(portals) {
  return [
    ...portals.map((id) => ({ topic: `${LOG_PREFIX}${id}`, numPartitions: 1, replicationFactor: 1 })),
    { topic: WITNESS_TOPIC, numPartitions: 3, replicationFactor: 1 },
  ];
}

/** The kafkajs createAcls entries of `portals`. */
function kafkajsAcls(portals, kafkajs) {
  const { AclResourceTypes, ResourcePatternTypes, AclOperationTypes, AclPermissionTypes } = kafkajs;
  return federationAcls(portals).map((a) => ({
    principal: a.principal,
    host: '*',
    resourceType: a.resourceType === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
    resourceName: a.name,
    resourcePatternType:
      a.patternType === 'literal' ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.PREFIXED,
    operation: AclOperationTypes[a.operation.toUpperCase()],
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

function portalsFromEnv(env) {
  if (env.FEDERATION_PORTALS) return env.FEDERATION_PORTALS.split(',').map((s) => s.trim());
  if (!env.FEDERATION_FILE) throw new Error('FEDERATION_FILE or FEDERATION_PORTALS is required');
  return JSON.parse(fs.readFileSync(env.FEDERATION_FILE, 'utf8')).map((p) => p.id);
}

async function setup(env = process.env, log = (m) => process.stdout.write(`kafka-setup: ${m}\n`)) {
  const kafkajs = require('kafkajs');
  const portals = portalsFromEnv(env);
  for (const name of ['KAFKA_BROKERS', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD_FILE'])
    if (!env[name]) throw new Error(`${name} is required`);
  const password = fs.readFileSync(env.KAFKA_SASL_PASSWORD_FILE, 'utf8').trim();
  const timeoutMs = Number(env.KAFKA_SETUP_TIMEOUT_MS ?? 120_000);
  const deadline = Date.now() + timeoutMs;
  const admin = new kafkajs.Kafka({
    clientId: 'cryptomesh-kafka-setup',
    brokers: env.KAFKA_BROKERS.split(','),
    sasl: { mechanism: 'scram-sha-512', username: env.KAFKA_SASL_USERNAME, password },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 8 },
  }).admin();
  for (;;) {
    try {
      await admin.connect();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      log(`broker not ready (${error.message}), retrying`);
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
  try {
    const topics = federationTopics(portals);
    const created = await admin.createTopics({ topics, waitForLeaders: true });
    log(`${topics.length} topics (${created ? 'created' : 'already there'})`);
    const acls = kafkajsAcls(portals, kafkajs);
    await admin.createAcls({ acl: acls });
    log(`${acls.length} ACLs for ${portals.join(', ')}: topics and ACLs in place`);
  } finally {
    await admin.disconnect();
  }
}

module.exports = { setup, federationTopics, kafkajsAcls };

if (require.main === module)
  setup().catch((error) => {
    process.stderr.write(`kafka-setup: ${error.message}\n`);
    process.exit(1);
  });
