import type { LogError } from './log-error';
import { LogVerifier, type LogVerifierOptions, type LogVerifierState, type PartInput } from './log-verifier';
import type { Seal } from './seal';

export type LogVerdict =
  | {
      readonly ok: true;
      /** Parts verified by this call. */
      readonly parts: number;
      /** The last verified seal (undefined only if there were no parts and no `from`). */
      readonly head: Seal | undefined;
      readonly state: LogVerifierState | undefined;
    }
  | {
      readonly ok: false;
      /** The first violation, with what was expected and what was seen. */
      readonly violation: LogError;
      /** Parts verified before the violation. */
      readonly parts: number;
      readonly head: Seal | undefined;
      readonly state: LogVerifierState | undefined;
    };

/**
 * Verifies a sequence of parts (entries, then the seal that closes them) from the start of the log
 * or from `options.from`, streaming: parts and their entries are read once, in order, and never
 * held together (see `LogVerifier`). Stops at and returns the first violation. MUST NOT throw for
 * bad log data; it throws only what the input iterables or an invalid `options.from` throw.
 */
export async function verifyLog(
  parts: Iterable<PartInput> | AsyncIterable<PartInput>,
  options: LogVerifierOptions,
): Promise<LogVerdict> {
  const verifier = new LogVerifier(options);
  let count = 0;
  for await (const part of parts) {
    const verdict = await verifier.verifyPart(part);
    if (!verdict.ok) {
      return {
        ok: false,
        violation: verdict.violation,
        parts: count,
        head: verifier.lastSeal,
        state: verifier.state(),
      };
    }
    count++;
  }
  return { ok: true, parts: count, head: verifier.lastSeal, state: verifier.state() };
}
