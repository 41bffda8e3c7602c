import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext } from '@nestjs/microservices';
import { WITNESS_TOPIC } from '@cryptomesh/intermesh';
import { WitnessIntakeService } from './federation/witness-intake.service';

const ATTEMPTS = 5;

/**
 * Consumes `intermesh.witness` through the Nest Kafka transport (with `keepBinary`, so the exact
 * bytes reach the strict decoder) and hands each message to the intake, which verifies and stores
 * what it can trust (docs/design/federation.md "Cosignatures received"). Writes are idempotent; a
 * database failure is retried a few times with back-off, then the message is dropped with an error
 * log — a lost cosignature costs one checkpoint a line, and the next seal is cosigned anew.
 */
@Controller()
export class WitnessConsumer {
  private readonly logger = new Logger('witness-consumer');

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
    for (let attempt = 1; ; attempt++) {
      try {
        await this.intake.receive(record);
        return;
      } catch (error) {
        if (attempt >= ATTEMPTS) {
          this.logger.error({ msg: 'witness message dropped', offset: message.offset, err: String(error) });
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}
