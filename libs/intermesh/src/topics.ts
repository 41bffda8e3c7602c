/**
 * InterMesh topic names (DESIGN.md "Kafka"). A portal id becomes part of a topic name, so it is
 * restricted to what Kafka allows in one (RFC-free: Kafka's legal characters are [a-zA-Z0-9._-],
 * at most 249) and, further, to lower case so that ids never differ by case alone.
 */
export const WITNESS_TOPIC = 'intermesh.witness';

const LOG_TOPIC_PREFIX = 'intermesh.log.';
const PORTAL_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function isValidPortalId(id: string): boolean {
  return PORTAL_ID.test(id);
}

/** `intermesh.log.<portal-id>`: one partition, written only by that portal. */
export function logTopic(portalId: string): string {
  if (!isValidPortalId(portalId)) {
    throw new RangeError(`portal id ${JSON.stringify(portalId)} must match ${PORTAL_ID.source}`);
  }
  return `${LOG_TOPIC_PREFIX}${portalId}`;
}

/** The portal id of a log topic, or undefined when `topic` is not one. */
export function portalIdOfLogTopic(topic: string): string | undefined {
  if (!topic.startsWith(LOG_TOPIC_PREFIX)) return undefined;
  const id = topic.slice(LOG_TOPIC_PREFIX.length);
  return isValidPortalId(id) ? id : undefined;
}
