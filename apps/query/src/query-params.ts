import { isValidPortalId } from '@cryptomesh/intermesh/topics';
import { QueryError } from './query-error';

/** The name of this portal's own log in `/logs/{peer}/…`. */
export const SELF = 'self';

/**
 * `{peer}` of `/logs/{peer}/…`: `self` or a portal id (1–63 of a–z 0–9 -, DESIGN.md "Kafka"). MUST
 * throw QueryError `peer.invalid` for anything else, before any lookup — so a NUL, a control
 * character or an over-long name never reaches the database (issue #16).
 */
export function peerParam(value: unknown): string {
  if (typeof value === 'string' && (value === SELF || isValidPortalId(value))) return value;
  throw new QueryError(
    'peer.invalid',
    `{peer} must be "self" or a portal id (1–63 of a–z 0–9 -, starting with a letter or digit), got ${shown(value)}`,
  );
}

/**
 * A required non-negative decimal integer parameter (no sign, no leading zeros, at most 2^53 − 1).
 * MUST throw QueryError `request.invalid` naming the parameter otherwise.
 */
export function indexParam(name: string, value: unknown): number {
  if (value === undefined || value === '') throw new QueryError('request.invalid', `${name} is required`);
  if (
    typeof value !== 'string' ||
    !/^(0|[1-9][0-9]{0,15})$/.test(value) ||
    !Number.isSafeInteger(Number(value))
  ) {
    throw new QueryError(
      'request.invalid',
      `${name} must be a non-negative decimal integer (got ${shown(value)})`,
    );
  }
  return Number(value);
}

/**
 * An optional count parameter: `fallback` when absent or empty, else a decimal integer in
 * [1, max]. MUST throw QueryError `request.invalid` naming the parameter otherwise.
 */
export function limitParam(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = indexParam(name, value);
  if (n < 1 || n > max)
    throw new QueryError('request.invalid', `${name} must be between 1 and ${max} (got ${n})`);
  return n;
}

/**
 * An optional parameter that is one of `choices`; undefined when absent or empty. MUST throw
 * QueryError `request.invalid`, listing the choices, otherwise.
 */
export function choiceParam<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new QueryError(
      'request.invalid',
      `${name} must be one of ${choices.join(', ')} (got ${shown(value)})`,
    );
  }
  return value as T;
}

/**
 * An optional free-text parameter of at most `maxLength` characters; undefined when absent or
 * empty. MUST throw QueryError `request.invalid` for a repeated parameter or a longer text.
 */
export function textParam(name: string, value: unknown, maxLength: number): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw new QueryError(
      'request.invalid',
      `${name} must be one text of at most ${maxLength} characters (got ${shown(value)})`,
    );
  }
  return value;
}

/** The value as a message quotes it: JSON (control characters escaped), at most 40 characters. */
function shown(value: unknown): string {
  try {
    return JSON.stringify(typeof value === 'string' ? value.slice(0, 40) : value) ?? String(value);
  } catch {
    return typeof value;
  }
}
