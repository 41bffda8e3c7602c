import type { Admin } from 'kafkajs';

export interface TopicSpec {
  readonly topic: string;
  readonly numPartitions: number;
}

/**
 * Creates the topics that do not exist yet and waits for their leaders. Idempotent: topics that
 * exist are left as they are (their partition count is not changed). The test and deployment
 * brokers run with auto.create.topics.enable=false, so every topic is created on purpose here.
 */
export async function ensureTopics(admin: Admin, topics: readonly TopicSpec[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.numPartitions, replicationFactor: -1 })),
  });
}
