import { BeforeApplicationShutdown, Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { WITNESS_TOPIC } from '@cryptomesh/intermesh';
import { WitnessIntakeService } from './federation/witness-intake.service';

/** The back-off between attempts to store one message: doubling from `minMs` up to `maxMs`. */
export interface WitnessRetry {
  readonly minMs: number;
  readonly maxMs: number;
}

const DEFAULT_RETRY: WitnessRetry = { minMs: 200, maxMs: 10_000 };

/**
 * Consumes `intermesh.witness` through the Nest Kafka transport (with `keepBinary`, so the exact
 * bytes reach the strict decoder) and hands each message to the intake, which verifies and stores
 * what it can trust (docs/design/federation.md "Cosignatures received").
 *
 * No message is ever dropped (issue #14): a failure to store it (the database) is retried forever,
 * with back-off, keeping the consumer's session alive. The consumer progress is the group's committed
 * offset, which kafkajs commits only after this handler resolved — i.e. after the message is stored.
 * Every write of the intake is idempotent (primary key, fingerprint), so a message read again after
 * a crash changes nothing: stored-then-acknowledged is exactly-once in effect.
 * Crash points: before the intake's transaction commits → nothing stored, the offset not committed,
 * the message is read again; after it commits but before the offset is → read again, a duplicate,
 * changes nothing. At shutdown a message still failing is not acknowledged: the handler rejects, the
 * offset stays, the next consumer of the group reads it again.
 */
@Controller()
export class WitnessConsumer implements BeforeApplicationShutdown {
  private readonly logger = new Logger('witness-consumer');
  private stopping = false;
  private readonly wakers = new Set<() => void>();
  retry: WitnessRetry = DEFAULT_RETRY;

  constructor(private readonly intake: WitnessIntakeService) {}

  @EventPattern(WITNESS_TOPIC)
  async onWitnessMessage(@Ctx() context: KafkaContext): Promise<void> {
    const message = context.getMessage();
    const value = message.value;
    const record = {
      key: typeof message.key === 'string' ? message.key : message.key?.toString('utf8'),
      type: headerText(message.headers?.type),
      value: Buffer.isBuffer(value)
        ? value
        : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    };
    for (let retryMs = this.retry.minMs; ; retryMs = Math.min(this.retry.maxMs, retryMs * 2)) {
      try {
        await this.intake.receive(record);
        return;
      } catch (error) {
        if (this.stopping) throw error;
        this.logger.error({
          msg: 'witness message not stored; retrying (it is never dropped)',
          offset: message.offset,
          retryMs,
          err: String(error),
        });
        await this.pause(retryMs);
        // A long outage must not cost the group membership (and a rebalance storm).
        await context
          .getHeartbeat()()
          .catch(() => undefined);
      }
    }
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const wake of this.wakers) wake();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}
