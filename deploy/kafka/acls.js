'use strict';
/**
 * The Kafka ACLs of a federation member set (docs/kafka-security.md): one source of truth, rendered
 * into the compose file's setup script (deploy/compose/init.js) and checked by the tests.
 *
 * Portal X (principal User:X) may
 *   - Write and Describe its own log topic `intermesh.log.X`, and no other portal's;
 *   - Read and Describe every `intermesh.log.*` (it mirrors and audits every peer);
 *   - Read, Write and Describe `intermesh.witness` (cosignatures and findings of everyone);
 *   - Read (join, commit) its own consumer groups: those whose names start with `cryptomesh.X.`.
 * Nothing else: the broker runs with allow.everyone.if.no.acl.found=false.
 *
 * The group prefix ends with a dot, a character portal ids cannot hold (a–z 0–9 -): with no delimiter,
 * `cryptomesh-alpha` was also a prefix of portal `alpha2`'s groups, and with `-` of portal `alpha-2`'s.
 */

const LOG_PREFIX = 'intermesh.log.';
const WITNESS_TOPIC = 'intermesh.witness';

/** The prefix of every consumer group of portal `id`; no other portal's group name starts with it. */
function groupPrefix(id) {
  return `cryptomesh.${id}.`;
}

/**
 * The replication service's KAFKA_GROUP_ID for portal `id`: its groups are this name (intermesh.witness)
 * and this name + `-mirror` (the peers' log topics), both under groupPrefix(id).
 */
function groupId(id) {
  return `${groupPrefix(id)}replication`;
}

/** The ACL entries of `portals` (ids). */
function federationAcls(portals) {
  const acls = [];
  for (const id of portals) {
    const principal = `User:${id}`;
    const allow = (resourceType, name, patternType, operations) => {
      for (const operation of operations)
        acls.push({ principal, resourceType, name, patternType, operation });
    };
    allow('topic', `${LOG_PREFIX}${id}`, 'literal', ['Write', 'Describe']);
    allow('topic', LOG_PREFIX, 'prefixed', ['Read', 'Describe']);
    allow('topic', WITNESS_TOPIC, 'literal', ['Read', 'Write', 'Describe']);
    allow('group', groupPrefix(id), 'prefixed', ['Read', 'Describe']);
  }
  return acls;
}

/** Whether `acls` allow `principal` `operation` on the topic or group `name` (prefix matching as Kafka does). */
function allows(acls, principal, resourceType, name, operation) {
  return acls.some(
    (a) =>
      a.principal === principal &&
      a.resourceType === resourceType &&
      a.operation === operation &&
      (a.patternType === 'literal' ? a.name === name : name.startsWith(a.name)),
  );
}

/** The `kafka-acls.sh` command lines that create `acls` (with `--command-config <file>`). */
function aclCommands(acls, bootstrap, commandConfig) {
  return acls.map(
    (a) =>
      `/opt/kafka/bin/kafka-acls.sh --bootstrap-server ${bootstrap} --command-config ${commandConfig} ` +
      `--add --allow-principal ${a.principal} --operation ${a.operation} ` +
      `--${a.resourceType} ${a.name} --resource-pattern-type ${a.patternType}`,
  );
}

module.exports = { federationAcls, allows, aclCommands, groupPrefix, groupId, LOG_PREFIX, WITNESS_TOPIC };
