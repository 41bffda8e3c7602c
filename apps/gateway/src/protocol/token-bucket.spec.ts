import { TokenBuckets } from './token-bucket';

describe('TokenBuckets', () => {
  it('allows a burst of `capacity`, then refills at the rate', () => {
    let now = 0;
    const buckets = new TokenBuckets(60, 3, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBe(1);
    expect(buckets.take('b')).toBe(0); // keys are independent
    now += 1_000;
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(1);
  });

  it('says how long to wait', () => {
    const buckets = new TokenBuckets(2, 1, () => 0);
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(30);
  });

  it('is disabled by a rate of 0', () => {
    const buckets = new TokenBuckets(0, 0, () => 0);
    for (let i = 0; i < 100; i++) expect(buckets.take('a')).toBe(0);
  });

  it('keeps at most maxKeys buckets', () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 1, () => now, 2);
    buckets.take('a');
    buckets.take('b');
    buckets.take('c'); // evicts a
    expect(buckets.take('a')).toBe(0); // a starts full again
    now += 1;
    expect(buckets.take('c')).toBeGreaterThan(0);
  });
});
