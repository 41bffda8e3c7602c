/**
 * Time as the log-signer sees it, injected (STYLE.md §4). `now` is wall-clock unix milliseconds,
 * used only for the seal's `time` line; `monotonic` never goes backwards and paces sealing, so that a
 * wall clock stepped back cannot delay a seal (DESIGN.md invariant 1).
 */
export interface Clock {
  now(): number;
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
