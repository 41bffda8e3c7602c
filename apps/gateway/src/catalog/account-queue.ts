/**
 * Runs the changes of one account one after the other inside this process, changes of different
 * accounts side by side.
 *
 * The database already serialises them (the committer locks the account row), but a request that
 * waits for that lock holds a pooled connection while it waits: a burst on a few accounts then
 * parks every connection of the pool behind one row lock, and requests for every other account wait
 * for a connection (measured in docs/BENCHMARKS.md: 98 clients waiting on a pool of 10, all for
 * 16 accounts). Waiting here costs no connection, and the state validated before the transaction is
 * nearly always still current when the lock is taken, so the record is validated once. Several
 * gateway processes still meet at the row lock, which stays the guarantee.
 */
export class AccountQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** The number of accounts with a change running or waiting (for tests and metrics). */
  get busyAccounts(): number {
    return this.tails.size;
  }

  /** Runs `work` once every change of `account` queued before it has settled; resolves as it does. */
  run<T>(account: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(account) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(account, tail);
    void tail.then(() => {
      if (this.tails.get(account) === tail) this.tails.delete(account);
    });
    return result;
  }
}
