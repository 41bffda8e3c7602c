import { Partitioners, type Producer } from 'kafkajs';
import { LOG_MESSAGE_TYPE_HEADER, type LogRecord } from './log-message';

/**
 * Sends log records to one log topic (partition 0) through an idempotent kafkajs producer, in
 * order. Records are grouped into `send` calls of at most `maxBatchBytes` of values: Kafka limits
 * the RECORD BATCH (all records of one partition in one request) by `message.max.bytes`, not each
 * record, so one send of many large records would be refused as a whole.
 *
 * The producer MUST be created with `idempotent: true` and `maxInFlightRequests: 1` (see
 * `logProducerConfig`): with acks=all, a send that resolved is durable on every in-sync replica
 * and a retried request is never written twice by the broker. `publish` resolves only after
 * every record was acknowledged; when it rejects, any prefix of the records MAY be on the topic.
 */
export class KafkaLogProducer {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly maxBatchBytes: number,
  ) {}

  async publish(
    records: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  ): Promise<{ messages: number; bytes: number }> {
    let batch: LogRecord[] = [];
    let batchBytes = 0;
    let messages = 0;
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: batch.map((r) => ({
          partition: 0,
          key: r.key,
          value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
          headers: { [LOG_MESSAGE_TYPE_HEADER]: r.type },
        })),
      });
      messages += batch.length;
      bytes += batchBytes;
      batch = [];
      batchBytes = 0;
    };
    for await (const record of records) {
      if (batch.length > 0 && batchBytes + record.value.length > this.maxBatchBytes) await flush();
      batch.push(record);
      batchBytes += record.value.length;
    }
    await flush();
    return { messages, bytes };
  }
}

/** The producer settings every log publisher uses (DESIGN.md "Kafka": idempotent, acks=all). */
export const logProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  // Every record names partition 0; this only silences kafkajs's warning about its default.
  createPartitioner: Partitioners.DefaultPartitioner,
} as const;
