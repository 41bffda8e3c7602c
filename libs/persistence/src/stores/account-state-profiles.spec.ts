import { createHash } from 'node:crypto';
import type { AccountStateRecord } from '@cryptomesh/audit';
import { CommittedProfiles, storedStates } from './account-state-profiles';

const jws = (tag: string) => ({ protected: `h-${tag}`, payload: `p-${tag}`, signature: `s-${tag}` });
const record = (account: string, state: Record<string, unknown>): AccountStateRecord => ({
  account,
  state: state as AccountStateRecord['state'],
  through: 0,
  nonces: [],
});
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('storedStates: each signed profile once, the state row by reference (issue #17)', () => {
  it('replaces the master, the personal and every active object by the SHA-256 of its JSON text', () => {
    const stored = storedStates([
      record('a', {
        v: 2,
        account: 'a',
        status: 'active',
        master: jws('m'),
        personal: jws('p'),
        objects: [
          ['app', jws('app')],
          ['gone', null],
        ],
      }),
    ]);
    const ref = (tag: string) => ({ sha256: sha256(JSON.stringify(jws(tag))) });
    expect(JSON.parse(stored.states[0]!)).toEqual({
      v: 2,
      account: 'a',
      status: 'active',
      master: ref('m'),
      personal: ref('p'),
      objects: [
        ['app', ref('app')],
        ['gone', null],
      ],
    });
    expect(stored.bodies).toHaveLength(3);
    expect(stored.bodies.map((b) => JSON.parse(b) as unknown)).toEqual(
      expect.arrayContaining([jws('m'), jws('p'), jws('app')]),
    );
    expect(stored.digests.map((d) => d.toString('hex'))).toEqual(stored.bodies.map((b) => sha256(b)));
  });

  it('sends a profile that several states share once, and keeps each state in its order', () => {
    const shared = { master: jws('m'), personal: jws('p'), objects: [] };
    const stored = storedStates([
      record('a', { v: 2, account: 'a', status: 'active', ...shared }),
      record('b', { v: 2, account: 'b', status: 'deleted', ...shared }),
    ]);
    expect(stored.states.map((s) => (JSON.parse(s) as { account: string }).account)).toEqual(['a', 'b']);
    expect(stored.digests).toHaveLength(2);
    expect(stored.bodies).toHaveLength(2);
  });

  const active = (account: string, master: object, objects: unknown[] = []) =>
    record(account, { v: 2, account, status: 'active', master, personal: jws('p'), objects });
  const masterDigest = (states: string[]) =>
    (JSON.parse(states[0]!) as { master: { sha256: string } }).master.sha256;

  it('refers to a profile object stored before by the digest of what it holds now, not what it held then', () => {
    const master = jws('m');
    const first = storedStates([active('a', master)]);
    expect(storedStates([active('a', master)])).toEqual(first);
    // The same object, one member changed: a stale digest would name a profile the state no longer holds.
    master.signature = 's-other';
    const changed = storedStates([active('a', master)]);
    expect(masterDigest(changed.states)).toBe(sha256(JSON.stringify(master)));
    expect(masterDigest(changed.states)).not.toBe(masterDigest(first.states));
    // A member added, or one taken away and put back in another order: the text changes, so does the digest.
    const added = Object.assign(master, { header: 'h' });
    expect(masterDigest(storedStates([active('a', added)]).states)).toBe(sha256(JSON.stringify(added)));
    const reordered = { payload: 'p-m', protected: 'h-m', signature: 's-m' };
    storedStates([active('a', reordered)]);
    const back = reordered as Record<string, string>;
    delete back.payload;
    back.payload = 'p-m';
    expect(masterDigest(storedStates([active('a', back)]).states)).toBe(sha256(JSON.stringify(back)));
  });

  it("finds a profile object's digest again instead of hashing its text (the codec's frozen objects)", () => {
    const master = Object.freeze(jws('m'));
    const first = storedStates([active('a', master)]);
    const again = storedStates([active('a', master)]);
    const digestOf = (stored: typeof first) =>
      stored.digests[stored.bodies.findIndex((b) => b === JSON.stringify(master))];
    // The same Buffer: made once, found by the object (a digest made again would be another).
    expect(digestOf(again)).toBe(digestOf(first));
    expect(digestOf(again)!.toString('hex')).toBe(sha256(JSON.stringify(master)));
    // A copy of it is another object: hashed from its text, the same digest.
    const copy = storedStates([active('a', { ...master })]);
    expect(digestOf(copy)).not.toBe(digestOf(first));
    expect(digestOf(copy)).toEqual(digestOf(first));
  });

  it('digests a profile that is not a flat object of strings from its text every time', () => {
    const nested = { protected: 'h', payload: 'p', signature: 's', extra: { n: 1 } };
    storedStates([active('a', nested)]);
    nested.extra.n = 2;
    expect(masterDigest(storedStates([active('a', nested)]).states)).toBe(sha256(JSON.stringify(nested)));
  });

  it('leaves out the profiles a committed transaction stored, and still refers to them', () => {
    const committed = new CommittedProfiles();
    const first = storedStates([active('a', jws('m'), [['app', jws('app')]])], committed);
    expect(first.bodies).toHaveLength(3);
    // Written, not committed: sent again.
    expect(storedStates([active('a', jws('m'))], committed).bodies).toHaveLength(2);
    committed.add(first);
    const next = storedStates([active('a', jws('m'), [['app', jws('app2')]])], committed);
    expect(next.bodies.map((b) => JSON.parse(b) as unknown)).toEqual([jws('app2')]);
    expect(masterDigest(next.states)).toBe(sha256(JSON.stringify(jws('m'))));
  });

  it('holds at most its limit of digests, forgetting the oldest first', () => {
    const committed = new CommittedProfiles(2);
    const one = (tag: string) =>
      storedStates([record(tag, { v: 2, account: tag, status: 'deleted', master: jws(tag), objects: [] })]);
    for (const tag of ['a', 'b', 'c']) committed.add(one(tag));
    expect(committed.size).toBe(2);
    expect(committed.has(sha256(JSON.stringify(jws('a'))))).toBe(false);
    expect(committed.has(sha256(JSON.stringify(jws('c'))))).toBe(true);
  });
});
