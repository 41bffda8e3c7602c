import fc from 'fast-check';
import { NonceWindow } from './nonce-window';

/** The reference: an immutable copy per version, pruned the way recheck.ts always did. */
function nextCopy(map: ReadonlyMap<string, number>, oldest: number, nonce: string, time: number) {
  const copy = new Map<string, number>();
  for (const [seen, at] of map) if (at >= oldest) copy.set(seen, at);
  copy.set(nonce, time);
  return copy;
}

const sorted = (entries: Iterable<[string, number]>) => [...entries].sort(([a], [b]) => (a < b ? -1 : 1));

describe('NonceWindow: immutable versions at O(1) per step (issue #17)', () => {
  it('every version, old or new, holds what an immutable copy holds, whatever is extended or read', () => {
    const step = fc.record({
      from: fc.nat(), // which version to extend (taken modulo the versions so far)
      newest: fc.boolean(), // or the newest one, as an auditor does nearly always
      oldest: fc.integer({ min: -5, max: 60 }),
      time: fc.integer({ min: 0, max: 60 }),
      read: fc.nat(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const versions: NonceWindow[] = [NonceWindow.empty()];
        const copies: Array<ReadonlyMap<string, number>> = [new Map()];
        steps.forEach((s, i) => {
          const k = s.newest ? versions.length - 1 : s.from % versions.length;
          const nonce = `n${i}`;
          versions.push(versions[k]!.next(s.oldest, nonce, s.time));
          copies.push(nextCopy(copies[k]!, s.oldest, nonce, s.time));
          const r = s.read % versions.length;
          expect(sorted(versions[r]!)).toEqual(sorted(copies[r]!));
          expect(versions[r]!.size).toBe(copies[r]!.size);
          expect(versions[r]!.has(nonce)).toBe(copies[r]!.has(nonce));
          const times = [...copies[r]!.values()];
          expect(versions[r]!.oldestTime()).toBe(times.length === 0 ? undefined : Math.min(...times));
        });
        versions.forEach((v, i) => expect(sorted(v)).toEqual(sorted(copies[i]!)));
      }),
      { numRuns: 300 },
    );
  });

  it('reads the first version of a chain as long as a part without running out of stack', () => {
    const first = NonceWindow.of([['a', 1]]);
    let newest = first;
    for (let i = 0; i < 100_000; i += 1) newest = newest.next(0, `n${i}`, 1 + i);
    expect([...first]).toEqual([['a', 1]]);
    expect(newest.size).toBe(100_001);
    expect(newest.has('n99999')).toBe(true);
  });

  it('extends the newest version without copying: a long chain costs linear time', () => {
    // 200,000 steps of a copy per step would take minutes; linear takes well under a second.
    let newest = NonceWindow.empty();
    for (let i = 0; i < 200_000; i += 1) newest = newest.next(i - 1_000, `n${i}`, i);
    expect(newest.size).toBe(1_001);
  });
});
