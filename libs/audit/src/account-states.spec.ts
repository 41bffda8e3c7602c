import { encodeAuditedAccount, recheckEntry, type AuditedAccount } from '@cryptomesh/mesh';
import { accountRequestEntry, createAccountEntry, NOW, ORIGIN } from '../../mesh/test/fixtures';
import { AccountStates } from './account-states';
import type { StoredAccountState } from './mirror-store';

/** A mirror's reads of one peer, counting each kind of read. */
class Reads {
  readonly states = new Map<string, StoredAccountState>();
  readonly history = new Map<string, Uint8Array[]>();
  stateReads = 0;
  historyReads = 0;

  accountState(account: string): Promise<StoredAccountState | undefined> {
    this.stateReads++;
    return Promise.resolve(this.states.get(account));
  }

  accountEntries(account: string): Promise<readonly Uint8Array[]> {
    this.historyReads++;
    return Promise.resolve(this.history.get(account) ?? []);
  }
}

async function rechecked(state: AuditedAccount | undefined, entry: Uint8Array) {
  const result = await recheckEntry(state, entry, { origin: ORIGIN });
  if (!result.ok) throw new Error(`${result.code}: ${result.detail}`);
  return result;
}

async function recheck(state: AuditedAccount | undefined, entry: Uint8Array): Promise<AuditedAccount> {
  return (await rechecked(state, entry)).account;
}

/** The stored form of `account` as the mirror reads it back: the state row and its nonce rows. */
const stored = (account: AuditedAccount, through: number): StoredAccountState => ({
  state: encodeAuditedAccount(account),
  through,
  nonces: [...account.nonces],
});

describe('AccountStates', () => {
  let create: Uint8Array;
  let update: Uint8Array;
  let account: string;
  let afterUpdate: AuditedAccount;

  beforeAll(async () => {
    create = await createAccountEntry(1);
    update = await accountRequestEntry(
      1,
      { kind: 'update-device', description: 'v1' },
      { time: NOW + 1, nonce: 1 },
    );
    afterUpdate = await recheck(await recheck(undefined, create), update);
    account = afterUpdate.state.account;
  });

  it('reads a miss from the stored state (one row) and never calls the history loader', async () => {
    const reads = new Reads();
    reads.states.set(account, stored(afterUpdate, 7));
    // A history that would give another state: the stored one must win, unread.
    reads.history.set(account, [create]);
    const states = new AccountStates(reads, { origin: ORIGIN });
    expect(await states.get(account)).toEqual(afterUpdate);
    expect(reads).toMatchObject({ stateReads: 1, historyReads: 0 });
    // A hit of the cache reads nothing more.
    expect(await states.get(account)).toEqual(afterUpdate);
    expect(reads).toMatchObject({ stateReads: 1, historyReads: 0 });
  });

  it('with no stored state (a mirror older than the table), replays the history once and stages it for storage', async () => {
    const reads = new Reads();
    reads.history.set(account, [create, update]);
    const states = new AccountStates(reads, { origin: ORIGIN });
    const before = await states.get(account);
    expect(before).toEqual(afterUpdate);
    expect(reads).toMatchObject({ stateReads: 1, historyReads: 1 });
    const next = await accountRequestEntry(
      1,
      { kind: 'update-device', description: 'v2' },
      { time: NOW + 2, nonce: 2 },
    );
    const { account: after, nonce } = await rechecked(before, next);
    states.stage(account, after, 12, nonce);
    // Only the nonce this part added is written; the window (no seal time: nothing pruned) still
    // holds the oldest, so nothing stored is forgotten below it.
    expect(states.staged()).toEqual([
      {
        account,
        state: encodeAuditedAccount(after),
        through: 12,
        nonces: [nonce],
        forgetBefore: Math.min(...after.nonces.values()),
      },
    ]);
    expect(nonce).toEqual([expect.any(String), NOW + 2]);
    states.commit();
    expect(states.staged()).toEqual([]);
  });

  it('an evicted account is read again from its stored row, not from its history (capacity 1)', async () => {
    const reads = new Reads();
    reads.states.set(account, stored(afterUpdate, 1));
    const states = new AccountStates(reads, { origin: ORIGIN }, 1);
    await states.get(account);
    states.stage('other', afterUpdate, 2, ['n', NOW]);
    states.commit(); // evicts `account`
    expect(await states.get(account)).toEqual(afterUpdate);
    expect(reads).toMatchObject({ stateReads: 2, historyReads: 0 });
  });

  it('writes a nonce the window pruned within the part not at all, and forgets below what the window holds', async () => {
    const reads = new Reads();
    const states = new AccountStates(reads, { origin: ORIGIN });
    const sealed = { origin: ORIGIN, sealTimeMs: NOW, maxSkewMs: 10, maxSealDelayMs: 0 };
    const first = await recheckEntry(undefined, create, sealed);
    if (!first.ok) throw new Error(first.detail);
    states.stage(account, first.account, 0, first.nonce);
    // A seal 1,000 ms later: the first request (time NOW) is forgotten by the next entry.
    const later = await accountRequestEntry(
      1,
      { kind: 'update-device', description: 'later' },
      { time: NOW + 1_000, nonce: 9 },
    );
    const second = await recheckEntry(first.account, later, { ...sealed, sealTimeMs: NOW + 1_000 });
    if (!second.ok) throw new Error(second.detail);
    states.stage(account, second.account, 1, second.nonce);
    const [record] = states.staged();
    expect(record!.nonces).toEqual([second.nonce]);
    expect(record!.forgetBefore).toBe(NOW + 1_000);
  });

  it('a discarded part leaves nothing staged', () => {
    const states = new AccountStates(new Reads(), { origin: ORIGIN });
    states.stage(account, afterUpdate, 3, ['n', NOW]);
    states.discard();
    expect(states.staged()).toEqual([]);
  });

  it('keeps a part being stored pinned (never evicted, never read from the store) until confirmed or dropped', async () => {
    const reads = new Reads();
    reads.states.set('b', stored(afterUpdate, 1));
    reads.states.set('c', stored(afterUpdate, 2));
    const states = new AccountStates(reads, { origin: ORIGIN }, 1);
    states.stage(account, afterUpdate, 3, ['n', NOW]);
    states.advance();
    // The next part reads two stored accounts through a cache of one: the pinned state stays, unread.
    await states.get('b');
    await states.get('c'); // evicts b
    states.stage('other', afterUpdate, 4, ['m', NOW]);
    expect(states.staged().map((s) => s.account)).toEqual(['other']);
    expect(() => states.advance()).toThrow('a part is being stored already');
    expect(await states.get(account)).toEqual(afterUpdate);
    expect(await states.get('b')).toEqual(afterUpdate);
    expect(reads.stateReads).toBe(3); // b, c, b again: never the pinned account
    // Its store failed: what the store holds (nothing here) is read again.
    states.drop();
    expect(states.staged()).toEqual([]);
    expect(await states.get(account)).toBeUndefined();
    expect(reads.stateReads).toBe(4);
    // Stored: the state is the cached one.
    states.stage(account, afterUpdate, 3, ['n', NOW]);
    states.advance();
    states.confirm();
    expect(await states.get(account)).toEqual(afterUpdate);
    expect(reads.stateReads).toBe(4);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new AccountStates(new Reads(), { origin: ORIGIN }, 0)).toThrow(RangeError);
  });
});
