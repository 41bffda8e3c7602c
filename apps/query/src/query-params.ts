import { QueryError } from './query-error';

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
      `${name} must be a non-negative decimal integer (got ${JSON.stringify(typeof value === 'string' ? value.slice(0, 40) : value)})`,
    );
  }
  return Number(value);
}
