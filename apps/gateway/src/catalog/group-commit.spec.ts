import fc from 'fast-check';
import { writeGroup, type GroupFailure, type GroupWriter } from './group-commit';

interface Change {
  readonly id: number;
  /** Its nonce was recorded by another transaction first. */
  readonly replay: boolean;
  /** The account moved since it was validated. */
  readonly stale: boolean;
}

class NonceConflict extends Error {}
class Deadlock extends Error {}

/** A database of one statement: all or nothing, failing on a recorded nonce as the real one does. */
function fakeWriter(deadlocks: number) {
  const writes: number[][] = [];
  const committed: number[][] = [];
  const rewrites: string[] = [];
  let left = deadlocks;
  const writer: GroupWriter<Change> = {
    write: (changes) => {
      writes.push(changes.map((c) => c.id));
      if (left-- > 0) return Promise.reject(new Deadlock());
      if (changes.some((c) => c.replay && !c.stale)) return Promise.reject(new NonceConflict());
      committed.push(changes.map((c) => c.id));
      return Promise.resolve(
        changes.map((c) => (c.stale ? { outcome: 'stale' } : { outcome: 'committed', revision: `r${c.id}` })),
      );
    },
    recorded: (changes) => Promise.resolve(changes.map((c) => c.replay)),
    classify: (error): GroupFailure =>
      error instanceof NonceConflict ? 'nonce' : error instanceof Deadlock ? 'retry' : 'fail',
    rewritten: (_, failure) => rewrites.push(failure),
  };
  return { writer, writes, committed, rewrites };
}

describe('writeGroup', () => {
  it('answers each change its own outcome: a replay is refused and the others are written again without it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ replay: fc.boolean(), stale: fc.boolean() }), { minLength: 1, maxLength: 20 }),
        fc.nat(1),
        async (flags, deadlocks) => {
          const changes = flags.map((f, id) => ({ id, ...f }));
          const { writer, writes, committed, rewrites } = fakeWriter(deadlocks);
          const outcomes = await writeGroup(changes, writer);
          changes.forEach((c, i) => {
            // a replay of a moved account may be answered stale (then the general path refuses it)
            if (c.replay) expect(['replayed', 'stale']).toContain(outcomes[i]!.outcome);
            else if (c.stale) expect(outcomes[i]).toEqual({ outcome: 'stale' });
            else expect(outcomes[i]).toEqual({ outcome: 'committed', revision: `r${c.id}` });
          });
          // at most one write committed, the last, and it wrote no replay
          expect(committed.length).toBeLessThanOrEqual(1);
          if (committed.length === 1) expect(committed[0]).toEqual(writes[writes.length - 1]);
          for (const id of committed.flat()) expect(!changes[id]!.replay || changes[id]!.stale).toBe(true);
          // order kept: every write lists its changes in the group's order
          for (const w of writes) expect(w).toEqual([...w].sort((x, y) => x - y));
          expect(writes.length).toBeLessThanOrEqual(deadlocks + 2);
          // every write after the first is told, with its reason: the deadlocks first, then a replay
          expect(rewrites).toEqual(
            [...Array<string>(Math.min(deadlocks, writes.length - 1)).fill('retry')].concat(
              Array<string>(Math.max(0, writes.length - 1 - deadlocks)).fill('nonce'),
            ),
          );
        },
      ),
    );
  });

  it('rejects — nothing written — on any other error, and after too many attempts without progress', async () => {
    const changes = [{ id: 0, replay: false, stale: false }];
    const failing: GroupWriter<Change> = {
      write: async () => Promise.reject(new Error('connection terminated')),
      recorded: (cs) => Promise.resolve(cs.map(() => false)),
      classify: () => 'fail',
    };
    await expect(writeGroup(changes, failing)).rejects.toThrow('connection terminated');
    const { writer, writes, rewrites } = fakeWriter(10);
    await expect(writeGroup(changes, writer, 3)).rejects.toBeInstanceOf(Deadlock);
    expect(writes).toHaveLength(3);
    expect(rewrites).toEqual(['retry', 'retry']); // the third failure is given up, not written again
    // a nonce conflict whose nonce is gone again (purged) is retried, then given up
    const vanishing: GroupWriter<Change> = {
      ...writer,
      write: async () => Promise.reject(new NonceConflict()),
      recorded: (cs) => Promise.resolve(cs.map(() => false)),
      classify: () => 'nonce',
    };
    await expect(writeGroup(changes, vanishing, 2)).rejects.toBeInstanceOf(NonceConflict);
  });
});
