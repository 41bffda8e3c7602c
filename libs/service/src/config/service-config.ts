import { enumVar, integerVar, optionalPathVar, portVar } from './env';
import { z } from 'zod';

/**
 * Variables every service reads. Each service adds its own (see apps/<service>/src/*.config.ts);
 * `heapGrowingPercent` is the service's default HEAP_GROWING_PERCENT.
 */
export function commonConfigShape(defaultPort: number, { heapGrowingPercent = 50 } = {}) {
  return {
    HOST: z.preprocess((v) => (v === undefined || v === '' ? '127.0.0.1' : v), z.string().trim().min(1)),
    PORT: portVar(defaultPort),
    LOG_LEVEL: enumVar(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    /** How long a graceful shutdown may take before the process exits anyway. */
    SHUTDOWN_TIMEOUT_MS: integerVar({ default: 10_000, min: 100, max: 600_000 }),
    /**
     * How long a client may take to send one whole request, headers and body, before the server
     * answers 408 and closes the connection (issue #16: a stalled body held a connection 330 s).
     */
    REQUEST_TIMEOUT_MS: integerVar({ default: 30_000, min: 100, max: 600_000 }),
    /** HTTPS when both are set (docs/tls.md); checked against each other by readTlsMaterial. */
    TLS_CERT_FILE: optionalPathVar(),
    TLS_KEY_FILE: optionalPathVar(),
    /** Intermediate certificates sent after TLS_CERT_FILE's. */
    TLS_CA_FILE: optionalPathVar(),
    /**
     * How far the JS heap may grow past what the last major collection left before the next one,
     * in percent (V8's --heap-growing-percent, set at start; 0: V8's own factor, up to 4×). Issue
     * #17: with V8's factor every busy service's garbage made its peak RSS (docs/configuration.md).
     */
    HEAP_GROWING_PERCENT: integerVar({ default: heapGrowingPercent, min: 0, max: 300 }),
  };
}
