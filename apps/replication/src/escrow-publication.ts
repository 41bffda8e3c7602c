import { Logger } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import {
  LOG_MESSAGE_TYPE_HEADER,
  encodeEscrowMessage,
  isIntermeshError,
  signEscrow,
  type EscrowRecord,
} from '@cryptomesh/intermesh';
import type { NoteSigner } from '@cryptomesh/log';
import type { QueuedEscrow } from '@cryptomesh/persistence';

export const ESCROW_PUBLICATION = Symbol('ESCROW_PUBLICATION');

/** The escrow outbox as the publisher uses it (TypeOrmEscrowOutbox). */
export interface EscrowOutbox {
  publishPending(
    topic: string,
    limit: number,
    publish: (escrows: readonly QueuedEscrow[]) => Promise<void>,
  ): Promise<number>;
}

/** Escrow blobs handed out per transaction. */
const BATCH = 16;

/**
 * Publishes the escrow blobs this portal received to its own log topic (issue #19 item 2;
 * docs/design/replication.md "Escrow blobs"), signed as their origin with the witness key. Called by
 * the log publisher between two parts: the outbox holds the topic's publication cursor meanwhile,
 * so no part is being published and a member's part assembler never sees an escrow message inside
 * a part. Without a witness key (no federation) the blobs stay queued until there is one.
 */
export class EscrowPublication {
  private readonly logger = new Logger('escrow-publication');

  constructor(
    private readonly outbox: EscrowOutbox,
    private readonly portalId: string,
    private readonly witnessKey: NoteSigner | undefined,
  ) {}

  /** Publishes up to one batch; resolves with how many queued blobs it took (more may wait). */
  async publish(producer: Producer, topic: string): Promise<number> {
    const signer = this.witnessKey;
    if (signer === undefined) return 0;
    return this.outbox.publishPending(topic, BATCH, async (escrows) => {
      for (const escrow of escrows) {
        const record = this.record(escrow, signer);
        if (record === undefined) continue;
        await producer.send({
          topic,
          acks: -1,
          messages: [
            {
              partition: 0,
              key: record.key,
              value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
              headers: { [LOG_MESSAGE_TYPE_HEADER]: record.type },
            },
          ],
        });
      }
    });
  }

  /**
   * The signed message of one blob; undefined (logged, dropped from the outbox) for a blob that is
   * not an escrow JWE to its key: EscrowPut stores any bytes, but no member would accept it.
   */
  private record(escrow: QueuedEscrow, signer: NoteSigner): EscrowRecord | undefined {
    try {
      return encodeEscrowMessage(signEscrow(this.portalId, escrow.key, escrow.blob, signer));
    } catch (error) {
      if (!isIntermeshError(error)) throw error;
      this.logger.warn({
        msg: 'escrow blob not replicated: it is not a JWE to its key',
        key: escrow.key,
        code: error.code,
      });
      return undefined;
    }
  }
}
