import { BoundedMemo } from './bounded-memo';

describe('BoundedMemo', () => {
  it('computes a key once and answers it from memory after', () => {
    const memo = new BoundedMemo<string, number>(4);
    const compute = jest.fn((key: string) => key.length);
    expect(memo.get('abc', compute)).toBe(3);
    expect(memo.get('abc', compute)).toBe(3);
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('keeps at most its limit, the oldest out first', () => {
    const memo = new BoundedMemo<number, number>(2);
    const compute = jest.fn((key: number) => key * 10);
    memo.get(1, compute);
    memo.get(2, compute);
    memo.get(3, compute);
    expect(memo.size).toBe(2);
    expect(memo.get(3, compute)).toBe(30);
    expect(memo.get(2, compute)).toBe(20);
    expect(compute).toHaveBeenCalledTimes(3);
    expect(memo.get(1, compute)).toBe(10);
    expect(compute).toHaveBeenCalledTimes(4);
  });

  it('keeps no answer for a key whose computation throws', () => {
    const memo = new BoundedMemo<string, string>(4);
    let calls = 0;
    const compute = (): string => {
      calls++;
      throw new Error('bad key');
    };
    expect(() => memo.get('x', compute)).toThrow('bad key');
    expect(() => memo.get('x', compute)).toThrow('bad key');
    expect(calls).toBe(2);
    expect(memo.size).toBe(0);
  });

  it('keeps an undefined answer like any other', () => {
    const memo = new BoundedMemo<string, undefined>(1);
    const compute = jest.fn(() => undefined);
    memo.get('k', compute);
    memo.get('k', compute);
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('answers a string key longer than its bound without keeping it', () => {
    const memo = new BoundedMemo<string, number>(8, 16);
    const compute = jest.fn((key: string) => key.length);
    const long = 'x'.repeat(17);
    expect(memo.get(long, compute)).toBe(17);
    expect(memo.get(long, compute)).toBe(17);
    expect(compute).toHaveBeenCalledTimes(2);
    expect(memo.size).toBe(0);
    memo.get('x'.repeat(16), compute);
    expect(memo.size).toBe(1);
  });

  it('peeks without computing, and keeps what it is given within its bounds', () => {
    const memo = new BoundedMemo<string, number>(2, 4);
    expect(memo.peek('a')).toBeUndefined();
    memo.keep('a', 1);
    memo.keep('a', 2);
    memo.keep('toolong', 3);
    expect([memo.peek('a'), memo.peek('toolong'), memo.size]).toEqual([2, undefined, 1]);
    memo.keep('b', 4);
    memo.keep('c', 5);
    expect([memo.peek('a'), memo.peek('b'), memo.peek('c'), memo.size]).toEqual([undefined, 4, 5, 2]);
  });

  it('refuses a limit below one', () => {
    expect(() => new BoundedMemo(0)).toThrow(RangeError);
  });
});
