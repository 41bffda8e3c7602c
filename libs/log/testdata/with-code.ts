import type { LogErrorCode } from '../src/log-error';

/** A matcher for `toThrow` / `rejects.toThrow` / `toEqual`: any error whose `code` is `code`. */
export function withCode(code: LogErrorCode): Error {
  return expect.objectContaining({ code }) as Error;
}
