import type { KafkaContext } from '@nestjs/microservices';
import type { WitnessIntakeService } from './federation/witness-intake.service';
import { WitnessConsumer } from './witness.consumer';

/** A Kafka context with one witness message, and a heartbeat that counts. */
function contextOf(heartbeats: { n: number }): KafkaContext {
  return {
    getMessage: () => ({ key: 'alpha', value: Buffer.from('{}'), headers: { type: 'finding' }, offset: '7' }),
    getHeartbeat: () => () => {
      heartbeats.n++;
      return Promise.resolve();
    },
  } as unknown as KafkaContext;
}

/** An intake whose database fails `failures` times, then stores. */
function failingIntake(failures: number) {
  const calls = { n: 0 };
  const intake = {
    receive: () => {
      calls.n++;
      return calls.n <= failures ? Promise.reject(new Error('database down')) : Promise.resolve('stored');
    },
  } as unknown as WitnessIntakeService;
  return { intake, calls };
}

describe('WitnessConsumer', () => {
  it('never drops a message: a database failing many times is retried until the message is stored', async () => {
    const { intake, calls } = failingIntake(12);
    const consumer = new WitnessConsumer(intake);
    consumer.retry = { minMs: 1, maxMs: 4 };
    const heartbeats = { n: 0 };
    await expect(consumer.onWitnessMessage(contextOf(heartbeats))).resolves.toBeUndefined();
    expect(calls.n).toBe(13);
    expect(heartbeats.n).toBe(12);
  });

  it('at shutdown a message still failing is not acknowledged: the handler rejects, so its offset is not committed', async () => {
    const { intake, calls } = failingIntake(Number.MAX_SAFE_INTEGER);
    const consumer = new WitnessConsumer(intake);
    consumer.retry = { minMs: 60_000, maxMs: 60_000 };
    const handled = consumer.onWitnessMessage(contextOf({ n: 0 }));
    // Wait until it is pausing after the first failure (a 60 s back-off), then shut down.
    const pausing = () => (consumer as unknown as { wakers: Set<unknown> }).wakers.size > 0;
    while (!pausing()) await new Promise((r) => setImmediate(r));
    consumer.beforeApplicationShutdown();
    await expect(handled).rejects.toThrow('database down');
    expect(calls.n).toBe(2);
  });
});
