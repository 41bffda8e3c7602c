/**
 * PostgreSQL array literals for the statements that pass a thousand values an array (issue #17).
 *
 * node-postgres sends a JavaScript array parameter as the text of an array literal, made one element
 * at a time: each turned to a string, escaped with two regular expressions, quoted and appended —
 * several strings an element, about 7 % of what the auditor allocated in a catch-up. These make the
 * same literal at once; the statement casts it (`$n::int[]`, `$n::text[]`) as before, and the
 * server reads it as it read node-postgres's.
 */

/** `{1,2,3}`: integers, as an `int[]`, `smallint[]` or `bigint[]` parameter. */
export function integerArray(values: readonly number[]): string {
  for (const value of values)
    if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not an integer for an array literal`);
  return `{${values.join(',')}}`;
}

// Inside a quoted element only `"` and `\` are special (PostgreSQL, "Array Value Input").
const SPECIAL = /["\\]/g;

/** `{"a","b",NULL}`: strings (or NULL), each quoted, as a `text[]` parameter. */
export function textArray(values: readonly (string | null)[]): string {
  const parts: string[] = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    parts[i] =
      value === null
        ? 'NULL'
        : `"${value.includes('"') || value.includes('\\') ? value.replace(SPECIAL, '\\$&') : value}"`;
  }
  return `{${parts.join(',')}}`;
}
