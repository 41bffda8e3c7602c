import fc from 'fast-check';
import { AccountQueue } from './account-queue';
import { GroupBatcher, nextBatch } from './group-batcher';

const tick = () => new Promise((r) => setImmediate(r));

describe('nextBatch', () => {
  it('takes the first waiting item of each key, in order, up to the bound, and no other', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        (keys, max) => {
          const taken = nextBatch(keys, max);
          expect(taken.length).toBeLessThanOrEqual(max);
          expect([...taken].sort((x, y) => x - y)).toEqual(taken);
          const takenKeys = taken.map((i) => keys[i]);
          expect(new Set(takenKeys).size).toBe(taken.length);
          for (const i of taken) expect(keys.indexOf(keys[i]!)).toBe(i);
          // maximal: below the bound, every waiting key is in the batch
          if (taken.length < max) expect(new Set(takenKeys)).toEqual(new Set(keys));
        },
      ),
    );
  });
});

describe('GroupBatcher', () => {
  it('settles every submission once with its own answer or its flush’s error; batches are bounded, one per key, a key in one flush at a time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), delay: fc.nat(3), fails: fc.boolean() }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        async (submissions, maxBatch, maxInFlight) => {
          const flushes: number[][] = [];
          let inFlight = 0;
          const busy = new Set<string>();
          const submitted: number[] = [];
          const batcher = new GroupBatcher<number, string>(
            async (items) => {
              inFlight++;
              expect(inFlight).toBeLessThanOrEqual(maxInFlight);
              const keys = items.map((i) => submissions[i]!.key);
              // a key is in one flush in flight at most
              for (const key of keys) expect(busy.has(key)).toBe(false);
              for (const key of keys) busy.add(key);
              const index = flushes.push([...items]);
              for (let t = 0; t < 2 + (items[0]! % 3); t++) await tick();
              for (const key of keys) busy.delete(key);
              inFlight--;
              if (items.some((i) => submissions[i]!.fails)) throw new Error(`flush ${index}`);
              return items.map((i) => `answer ${i}`);
            },
            (i) => submissions[i]!.key,
            { maxBatch, windowMs: 0, maxInFlight },
          );
          const settled = await Promise.allSettled(
            submissions.map(async (s, i) => {
              for (let t = 0; t < s.delay; t++) await tick();
              submitted.push(i);
              return batcher.submit(i);
            }),
          );
          // each submission is in exactly one flush
          expect(flushes.flat().sort((x, y) => x - y)).toEqual(submissions.map((_, i) => i));
          for (const batch of flushes) {
            expect(batch.length).toBeLessThanOrEqual(maxBatch);
            expect(new Set(batch.map((i) => submissions[i]!.key)).size).toBe(batch.length);
          }
          // each key's items are flushed in submission order
          for (const key of ['a', 'b', 'c', 'd']) {
            const of = (list: number[]) => list.filter((i) => submissions[i]!.key === key);
            expect(of(flushes.flat())).toEqual(of(submitted));
          }
          settled.forEach((result, i) => {
            const batch = flushes.findIndex((f) => f.includes(i));
            if (flushes[batch]!.some((j) => submissions[j]!.fails)) {
              expect(result).toEqual({ status: 'rejected', reason: new Error(`flush ${batch + 1}`) });
            } else expect(result).toEqual({ status: 'fulfilled', value: `answer ${i}` });
          });
          expect(batcher.backlog).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('flushes what arrives during a flush together in the next one (self-clocking)', async () => {
    const flushes: number[][] = [];
    let release: () => void = () => undefined;
    const batcher = new GroupBatcher<number, number>(
      async (items) => {
        flushes.push([...items]);
        if (flushes.length === 1) await new Promise<void>((r) => (release = r));
        return items;
      },
      (i) => String(i),
      { maxBatch: 100, windowMs: 0 },
    );
    const first = batcher.submit(0);
    await tick();
    expect(flushes).toEqual([[0]]);
    const rest = [1, 2, 3, 4].map((i) => batcher.submit(i));
    await tick();
    expect(flushes).toEqual([[0]]);
    release();
    await Promise.all([first, ...rest]);
    expect(flushes).toEqual([[0], [1, 2, 3, 4]]);
  });

  it('waits GROUP_COMMIT_WINDOW_MS when idle, and refuses a bad bound', async () => {
    jest.useFakeTimers();
    try {
      const flushes: number[][] = [];
      const batcher = new GroupBatcher<number, number>(
        (items) => (flushes.push([...items]), Promise.resolve(items)),
        (i) => String(i),
        { maxBatch: 10, windowMs: 5 },
      );
      const answers = [batcher.submit(1), batcher.submit(2)];
      jest.advanceTimersByTime(4);
      expect(flushes).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(await Promise.all(answers)).toEqual([1, 2]);
      expect(flushes).toEqual([[1, 2]]);
    } finally {
      jest.useRealTimers();
    }
    expect(
      () => new GroupBatcher<number, number>((i) => Promise.resolve(i), String, { maxBatch: 0, windowMs: 0 }),
    ).toThrow(RangeError);
    expect(
      () =>
        new GroupBatcher<number, number>((i) => Promise.resolve(i), String, { maxBatch: 1, windowMs: -1 }),
    ).toThrow(RangeError);
    expect(
      () =>
        new GroupBatcher<number, number>((i) => Promise.resolve(i), String, {
          maxBatch: 1,
          windowMs: 0,
          maxInFlight: 0,
        }),
    ).toThrow(RangeError);
  });

  it('behind the account queue, holds at most one change per account, in each account’s order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 30 }),
        async (accounts) => {
          const queue = new AccountQueue();
          const flushes: number[][] = [];
          // keyed by the submission, not the account: the queue alone must keep one per account
          const batcher = new GroupBatcher<number, number>(
            async (items) => {
              flushes.push([...items]);
              await tick();
              return items;
            },
            (i) => String(i),
            { maxBatch: 64, windowMs: 0 },
          );
          await Promise.all(accounts.map((account, i) => queue.run(account, () => batcher.submit(i))));
          for (const batch of flushes) expect(new Set(batch.map((i) => accounts[i])).size).toBe(batch.length);
          for (const account of new Set(accounts)) {
            const order = flushes.flat().filter((i) => accounts[i] === account);
            expect(order).toEqual([...order].sort((x, y) => x - y));
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
