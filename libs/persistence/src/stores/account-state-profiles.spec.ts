import { createHash } from 'node:crypto';
import type { AccountStateRecord } from '@cryptomesh/audit';
import { storedStates } from './account-state-profiles';

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
});
