import { CryptoError } from '../src/crypto-error';

/**
 * The CryptoError code `action` throws, undefined when it throws nothing, or a description of anything
 * else it threw: tests assert on the code (STYLE.md §7), and a wrong kind of error shows up in the diff.
 */
export function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return describe(error);
  }
  return undefined;
}

/** codeOf for asynchronous actions. */
export async function asyncCodeOf(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return describe(error);
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof CryptoError ? error.code : `not a CryptoError: ${String(error)}`;
}
