import { Logger } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import {
  LOG_MESSAGE_TYPE_HEADER,
  encodeInboundMessage,
  isIntermeshError,
  signInbound,
  type InboundRecord,
} from '@cryptomesh/intermesh';
import type { NoteSigner } from '@cryptomesh/log';
import type { QueuedInbound } from '@cryptomesh/persistence';

export const INBOUND_PUBLICATION = Symbol('INBOUND_PUBLICATION');

/** The inbound outbox as the publisher uses it (TypeOrmInboundOutbox). */
export interface InboundOutbox {
  /**
   * MUST hand out only rows whose log entries of the time of the post are published (the order rule
   * of docs/design/inbound.md), under the topic's publication cursor, and mark them published in the
   * transaction that called `publish`.
   */
  publishPending(
    topic: string,
    limit: number,
    publish: (items: readonly QueuedInbound[]) => Promise<void>,
  ): Promise<number>;
  /** Deletes the rows published more than `keepMs` ago. */
  purgePublished(keepMs: number): Promise<number>;
}

/** Inbound items handed out per transaction. */
const BATCH = 32;
/**
 * How long published rows are kept: the gateway counts a sender's contact requests of the last hour
 * in them (INBOUND_CONTACT_REQUESTS_PER_HOUR), so a day is ample.
 */
export const INBOUND_OUTBOX_KEEP_MS = 24 * 3_600_000;
const PURGE_INTERVAL_MS = 60_000;

/**
 * Publishes the inbound items this portal accepted for recipients at other members to its own log
 * topic (issue #20; docs/design/replication.md "Inbound items"), signed as their origin with the
 * witness key. Called by the log publisher between two parts, after the escrow blobs: the outbox holds
 * the topic's publication cursor meanwhile, so no part is being published. Without a witness key (no
 * federation) the items stay queued until there is one.
 */
export class InboundPublication {
  private readonly logger = new Logger('inbound-publication');
  /** Owned by the publisher loop (one step at a time). */
  private lastPurgeMs = 0;

  constructor(
    private readonly outbox: InboundOutbox,
    private readonly portalId: string,
    private readonly witnessKey: NoteSigner | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Publishes up to one batch; resolves with how many queued items it took (more may wait). */
  async publish(producer: Producer, topic: string): Promise<number> {
    const signer = this.witnessKey;
    if (signer === undefined) return 0;
    await this.purge();
    return this.outbox.publishPending(topic, BATCH, async (items) => {
      const messages = [];
      for (const item of items) {
        const record = this.record(item, signer);
        if (record === undefined) continue;
        messages.push({
          partition: 0,
          key: record.key,
          value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
          headers: { [LOG_MESSAGE_TYPE_HEADER]: record.type },
        });
      }
      if (messages.length > 0) await producer.send({ topic, acks: -1, messages });
    });
  }

  /** At most once a minute: the published rows older than a day go (a failure is retried later). */
  private async purge(): Promise<void> {
    const now = this.now();
    if (now - this.lastPurgeMs < PURGE_INTERVAL_MS) return;
    this.lastPurgeMs = now;
    const purged = await this.outbox.purgePublished(INBOUND_OUTBOX_KEEP_MS);
    if (purged > 0) this.logger.debug({ msg: 'published inbound rows purged', purged });
  }

  /**
   * The signed message of one item; undefined (logged, marked published with the batch) for a row
   * no member would accept — a gateway bug, since InboundPost checks what the codec checks.
   */
  private record(item: QueuedInbound, signer: NoteSigner): InboundRecord | undefined {
    try {
      return encodeInboundMessage(
        signInbound(this.portalId, item.to, new TextEncoder().encode(item.envelope), item.pow, signer),
      );
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      this.logger.warn({
        msg: 'inbound item not relayed: the message would not decode',
        id: item.id,
        to: item.to,
        code: error.code,
      });
      return undefined;
    }
  }
}
