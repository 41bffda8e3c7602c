import { createRequire } from 'node:module';

/**
 * The part of kafkajs's per-connection request queue (`kafkajs/src/network/requestQueue`) that the
 * repair below replaces and relies on. Not a public kafkajs API: `kafka-request-queue.spec.ts`
 * runs the real class, so a kafkajs that changes it fails there, not in production.
 */
interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

interface RequestQueueClass {
  prototype: RequestQueueInternals & { [REPAIRED]?: true };
}

/** kafkajs's own retry interval for a queue that still holds requests it may not send yet. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
const REPAIRED = Symbol.for('cryptomesh.kafkajs.requestQueue.repaired');

/** kafkajs's request queue class, loaded from the kafkajs this module resolves. */
export function kafkaRequestQueueClass(): RequestQueueClass {
  const load = createRequire(require.resolve('kafkajs'));
  return load('./src/network/requestQueue') as RequestQueueClass;
}

/**
 * Stops kafkajs 2.2.4's idle timer loop (docs/decisions.md "Performance, seventh slice";
 * tulios/kafkajs#1556, #1704, unreleased fix #1667). After its first answer, every connection's
 * request queue re-arms a timer with a negative delay — 1 ms — whether or not a request waits, and
 * does so forever: about a thousand wake-ups a second per broker connection, several percent of a
 * core for an idle replication service. The repaired check schedules a timer only for a request
 * that is waiting (for a client-side throttle to end, or, when the throttle's end is already past,
 * in kafkajs's own 10 ms); every other path to a waiting request is unchanged — `push` schedules a
 * check for the request it could not send, and each answer checks the queue at once.
 *
 * Idempotent and process-wide (the class is shared by every client); `kafkaClientConfig` applies
 * it, so every kafkajs client of a service is covered before its first connection.
 */
export function repairKafkaRequestQueue(queueClass: RequestQueueClass = kafkaRequestQueueClass()): void {
  const proto = queueClass.prototype;
  if (proto[REPAIRED]) return;
  if (
    typeof proto.scheduleCheckPendingRequests !== 'function' ||
    typeof proto.checkPendingRequests !== 'function'
  )
    throw new Error('kafkajs request queue: scheduleCheckPendingRequests/checkPendingRequests not found');
  proto.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueInternals) {
    if (this.pending.length === 0 || this.throttleCheckTimeoutId) return;
    const throttledForMs = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttledForMs > 0 ? throttledForMs : CHECK_PENDING_REQUESTS_INTERVAL_MS,
    );
  };
  proto[REPAIRED] = true;
}
