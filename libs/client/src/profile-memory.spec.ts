import { isClientError, type ClientError } from './client-error';
import { MemoryClientStore } from './client-store';
import { checkCurrent, storeProfileMemory } from './profile-memory';

/**
 * The client's memory of Master and Personal Profiles (client.md "Current values"): what it
 * remembers only ever rises, and an answer below it — or from a log the account moved away from —
 * is refused `verify.stale` naming the portal that served it.
 */
const ID = 'MBLJ-5I4B-OELU-RACJ-GRVW-H2RT-LGFO';

function refusal(fn: () => void): ClientError {
  try {
    fn();
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('profile memory and the stale-answer check', () => {
  it('remembers the highest sequence and its log; a lower one never lowers it', async () => {
    const store = new MemoryClientStore();
    const memory = storeProfileMemory(store);
    expect(await memory.get(ID)).toBeUndefined();
    await memory.seen(ID, 3, 'alpha');
    await memory.seen(ID, 2, 'beta');
    expect(await memory.get(ID)).toEqual({ id: ID, sequence: 3, home: 'alpha', left: [] });
    await memory.seen(ID, 5, 'beta');
    expect(await memory.get(ID)).toEqual({ id: ID, sequence: 5, home: 'beta', left: [] });
    expect([...store.documents.keys()]).toEqual([`profiles/${ID}.json`]);
  });

  it('remembers a move: the new home, and the old portal as left', async () => {
    const memory = storeProfileMemory(new MemoryClientStore());
    await memory.seen(ID, 4, 'alpha');
    await memory.moved(ID, 4, 'alpha', 'beta');
    expect(await memory.get(ID)).toEqual({ id: ID, sequence: 4, home: 'beta', left: ['alpha'] });
    // Moving back to alpha later makes its log current again.
    await memory.moved(ID, 6, 'beta', 'alpha');
    expect(await memory.get(ID)).toEqual({ id: ID, sequence: 6, home: 'alpha', left: ['beta'] });
  });

  it('refuses a lower sequence, naming the portal that served it', () => {
    const remembered = { id: ID, sequence: 5, home: 'beta', left: [] };
    const error = refusal(() => checkCurrent({ id: ID, sequence: 4, log: 'beta', via: 'gamma' }, remembered));
    expect(error).toMatchObject({ code: 'verify.stale', portal: 'gamma', check: 'profile sequence' });
    expect(error.message).toContain('gamma served');
    expect(error.evidence).toMatchObject({ sequence: 4, remembered });
  });

  it('refuses any value from a log the account left, even at a higher sequence', () => {
    const remembered = { id: ID, sequence: 5, home: 'beta', left: ['alpha'] };
    const error = refusal(() =>
      checkCurrent({ id: ID, sequence: 9, log: 'alpha', via: 'alpha' }, remembered),
    );
    expect(error).toMatchObject({ code: 'verify.stale', portal: 'alpha', check: 'current home' });
  });

  it('accepts the same or a higher sequence from a log the account did not leave, and anything unknown', () => {
    const remembered = { id: ID, sequence: 5, home: 'beta', left: ['alpha'] };
    expect(() => checkCurrent({ id: ID, sequence: 5, log: 'beta', via: 'gamma' }, remembered)).not.toThrow();
    expect(() => checkCurrent({ id: ID, sequence: 6, log: 'gamma', via: 'gamma' }, remembered)).not.toThrow();
    expect(() => checkCurrent({ id: ID, sequence: 0, log: 'alpha', via: 'alpha' }, undefined)).not.toThrow();
  });

  it('a corrupt memory document is state.corrupt', async () => {
    const store = new MemoryClientStore();
    await store.write(`profiles/${ID}.json`, '{"id": 1}');
    await expect(storeProfileMemory(store).get(ID)).rejects.toMatchObject({ code: 'state.corrupt' });
    await store.write(`profiles/${ID}.json`, 'not json');
    await expect(storeProfileMemory(store).get(ID)).rejects.toMatchObject({ code: 'state.corrupt' });
  });
});
