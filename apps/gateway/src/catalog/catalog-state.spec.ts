import type { AccountState, SignedProfile } from '@cryptomesh/mesh';
import { changedProfiles, sameJws } from './catalog-state';

/** A signed profile as far as these functions read it: its three JWS members. */
function signed(protectedHeader: string, payload: string, signature: string): SignedProfile {
  return { jws: { protected: protectedHeader, payload, signature } } as unknown as SignedProfile;
}

function state(master: SignedProfile, personal: SignedProfile): AccountState {
  return { master, personal } as unknown as AccountState;
}

describe('sameJws', () => {
  it('is true for the same object and for equal members, false when any member differs', () => {
    const a = signed('h', 'p', 's');
    expect(sameJws(a, a)).toBe(true);
    expect(sameJws(a, signed('h', 'p', 's'))).toBe(true);
    expect(sameJws(a, signed('h2', 'p', 's'))).toBe(false);
    expect(sameJws(a, signed('h', 'p2', 's'))).toBe(false);
    expect(sameJws(a, signed('h', 'p', 's2'))).toBe(false);
  });
});

describe('changedProfiles: what a fast-path change sends for the account row', () => {
  const master = signed('mh', 'mp', 'ms');
  const personal = signed('ph', 'pp', 'ps');
  const flat = (p: SignedProfile) => ({
    protected: p.jws.protected,
    payload: p.jws.payload,
    signature: p.jws.signature,
  });

  it('leaves out both profiles when neither changed (copies included)', () => {
    expect(changedProfiles(state(master, personal), state(master, personal))).toEqual({});
    const copies = state(signed('mh', 'mp', 'ms'), signed('ph', 'pp', 'ps'));
    expect(changedProfiles(state(master, personal), copies)).toEqual({});
  });

  it('sends the Personal Profile alone when only it changed', () => {
    const next = signed('ph', 'pp2', 'ps2');
    expect(changedProfiles(state(master, personal), state(master, next))).toEqual({ personal: flat(next) });
  });

  it('sends the Master Profile alone when only it changed', () => {
    const next = signed('mh', 'mp2', 'ms2');
    expect(changedProfiles(state(master, personal), state(next, personal))).toEqual({ master: flat(next) });
  });

  it('sends both when both changed', () => {
    const m = signed('mh', 'mp', 'ms3');
    const p = signed('ph', 'pp', 'ps3');
    expect(changedProfiles(state(master, personal), state(m, p))).toEqual({
      master: flat(m),
      personal: flat(p),
    });
  });
});
