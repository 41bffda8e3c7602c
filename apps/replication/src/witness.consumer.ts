import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';
import { Counter } from 'prom-client';
import { WITNESS_TOPIC } from '@cryptomesh/intermesh';
import { MetricsService } from '@cryptomesh/service';

/**
 * Consumes `intermesh.witness` (cosignatures and findings of the federation). Until the
 * federation issue (#6) verifies and stores them, it only classifies and counts what arrives:
 * nothing on the topic is trusted, and a message that is not a JSON object with a string `type`
 * is counted as `malformed` and otherwise ignored.
 */
@Controller()
export class WitnessConsumer {
  private readonly logger = new Logger(WitnessConsumer.name);
  private readonly received: Counter<'type'>;

  constructor(metrics: MetricsService) {
    this.received = metrics.counter(
      'intermesh_witness_messages_total',
      'Messages consumed from intermesh.witness, by declared type (not yet verified)',
      ['type'],
    );
  }

  @EventPattern(WITNESS_TOPIC)
  onWitnessMessage(@Payload() message: unknown, @Ctx() context: KafkaContext): void {
    const type = classify(message);
    this.received.inc({ type });
    this.logger.debug({
      msg: 'witness message',
      type,
      partition: context.getPartition(),
      offset: context.getMessage().offset,
    });
  }
}

const KNOWN_TYPES = new Set(['cosignature', 'finding']);

function classify(message: unknown): string {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return 'malformed';
  const type = (message as { type?: unknown }).type;
  if (typeof type !== 'string') return 'malformed';
  return KNOWN_TYPES.has(type) ? type : 'unknown';
}
