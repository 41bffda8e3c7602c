import { findDuplicateMember } from './duplicate-member';

describe('findDuplicateMember (issue #14, hole 5)', () => {
  it.each<[string, string | undefined]>([
    ['{}', undefined],
    ['{"a":1,"b":2}', undefined],
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"a":{"b":1},"b":2}', undefined],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"a":1},{"a":2}]', undefined],
    ['[{"a":1,"a":2}]', 'a'],
    ['{"a":["a","a",{"x":"a","y":"a"}],"b":"a,\\"a\\":"}', undefined],
    ['{"a":"{\\"b\\":1,\\"b\\":2}"}', undefined],
    ['{ "x" : 1 , "y" : [ 1 , 2 ] , "x" : 3 }', 'x'],
    ['"a"', undefined],
    ['[1,2,3]', undefined],
  ])('%s → %s', (text, expected) => {
    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(findDuplicateMember(text)).toBe(expected);
  });
});
