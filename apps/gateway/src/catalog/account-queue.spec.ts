import fc from 'fast-check';
import { AccountQueue } from './account-queue';

const tick = () => new Promise((r) => setImmediate(r));

describe('AccountQueue', () => {
  it('runs the changes of one account in order, one at a time, whatever their outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ account: fc.constantFrom('a', 'b', 'c'), fails: fc.boolean(), ticks: fc.nat(3) }),
          {
            maxLength: 30,
          },
        ),
        async (changes) => {
          const queue = new AccountQueue();
          const running = new Map<string, number>();
          const order = new Map<string, number[]>();
          const results = await Promise.allSettled(
            changes.map((change, i) =>
              queue.run(change.account, async () => {
                running.set(change.account, (running.get(change.account) ?? 0) + 1);
                expect(running.get(change.account)).toBe(1);
                order.set(change.account, [...(order.get(change.account) ?? []), i]);
                for (let t = 0; t < change.ticks; t++) await tick();
                running.set(change.account, 0);
                if (change.fails) throw new Error(`change ${i}`);
                return i;
              }),
            ),
          );
          results.forEach((r, i) => {
            if (changes[i]!.fails)
              expect(r).toEqual({ status: 'rejected', reason: new Error(`change ${i}`) });
            else expect(r).toEqual({ status: 'fulfilled', value: i });
          });
          for (const [account, indices] of order)
            expect(indices).toEqual(changes.flatMap((c, i) => (c.account === account ? [i] : [])));
          await tick();
          expect(queue.busyAccounts).toBe(0);
        },
      ),
    );
  });

  it('lets another account run while one account waits', async () => {
    const queue = new AccountQueue();
    let release!: () => void;
    const blocked = queue.run('a', () => new Promise<void>((r) => (release = r)));
    const behind = queue.run('a', () => Promise.resolve('a2'));
    await expect(queue.run('b', () => Promise.resolve('b1'))).resolves.toBe('b1');
    expect(queue.busyAccounts).toBe(1);
    release();
    await blocked;
    await expect(behind).resolves.toBe('a2');
  });
});
