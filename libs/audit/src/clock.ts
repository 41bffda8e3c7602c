/**
 * Wall-clock time as the mirror, the audit, the witness and the intake see it (STYLE.md §4: injected,
 * never global). The replication service provides one, `systemClock`, under one Nest token; a unit test
 * passes a fixed one. `now` MUST return unix milliseconds; it MAY go back (a stepped wall clock): nothing
 * that uses it relies on it being monotonic (seal times are judged against it, cosignatures and findings
 * are dated with it, staleness and lag are measured with it).
 */
export interface Clock {
  now(): number;
}

/** The host's wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that always says `ms` (tests, replays). */
export function fixedClock(ms: number): Clock {
  return { now: () => ms };
}
