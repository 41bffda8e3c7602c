export { WITNESS_TOPIC, logTopic, portalIdOfLogTopic, isValidPortalId } from './topics';
export { kafkaClientConfig } from './kafka-client-config';
export type { KafkaConnection } from './kafka-client-config';
export { ensureTopics } from './ensure-topics';
export type { TopicSpec } from './ensure-topics';
export type { ConsumerProgressStore } from './consumer-progress-store';
