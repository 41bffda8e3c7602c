import fc from 'fast-check';
import pg from 'pg';
import { integerArray, textArray } from './array-literal';

/** node-postgres's own writer of a parameter (what it sent for an array before). */
const prepareValue = (pg as unknown as { utils: { prepareValue: (value: unknown) => unknown } }).utils
  .prepareValue;

describe('array literals made at once (#17)', () => {
  it('textArray writes what node-postgres writes for the same array', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ unit: 'grapheme' }), { nil: null })), (values) => {
        expect(textArray(values)).toBe(prepareValue(values));
      }),
    );
    expect(textArray(['a"b', 'c\\d', '', 'NULL', '{,}', ' x '])).toBe(
      prepareValue(['a"b', 'c\\d', '', 'NULL', '{,}', ' x ']),
    );
  });

  it('integerArray writes the integers node-postgres quotes, and refuses anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeInteger()), (values) => {
        expect(integerArray(values)).toBe((prepareValue(values) as string).replace(/"/g, ''));
      }),
    );
    expect(integerArray([])).toBe('{}');
    for (const bad of [1.5, NaN, Infinity, 2 ** 53]) expect(() => integerArray([1, bad])).toThrow(RangeError);
  });
});
