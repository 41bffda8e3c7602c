import { integerVar } from './env';

/**
 * When the gateway pushes back (503 with Retry-After) instead of queueing more entries, and when the
 * status page says so (docs/design/gateway.md "Pushback"). The gateway and the query service read the
 * same variables, so that both judge the log queue alike.
 */
export function logBacklogConfigShape() {
  return {
    /** Queued entries not yet sequenced beyond which logged transactions are refused (0 disables). */
    PUSHBACK_QUEUE_DEPTH: integerVar({ default: 20_000, min: 0, max: 100_000_000 }),
    /** Age of the oldest queued entry beyond which the log-signer counts as stalled (0 disables). */
    PUSHBACK_QUEUE_AGE_MS: integerVar({ default: 30_000, min: 0, max: 86_400_000 }),
    /** How often the gateway samples the queue. */
    PUSHBACK_SAMPLE_MS: integerVar({ default: 500, min: 50, max: 60_000 }),
  };
}
