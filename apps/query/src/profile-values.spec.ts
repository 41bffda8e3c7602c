import { decodeRecord, encodeRecord, profileSetBy } from '@cryptomesh/mesh';
import { countingRandom, makeAccount } from '../../../libs/mesh/test/fixtures';
import { ProfileValues } from './profile-values';

describe('ProfileValues', () => {
  it('gives what decoding the entry gives, by content, and keeps at most its limit', async () => {
    const account = await makeAccount(countingRandom(3100));
    const entry = encodeRecord(account.create);
    const ids = [account.master.profile.id, account.adminDevice.profile.id];
    const values = new ProfileValues(1);
    for (const id of ids) {
      const decoded = profileSetBy(decodeRecord(entry), id)!;
      const value = values.of(entry, id);
      expect(value?.jws).toEqual(decoded.jws);
      expect(values.of(Uint8Array.from(entry), id)).toBe(value); // the same bytes, another array
    }
    expect(values.of(entry, ids[0]!)?.sequence).toBe(account.master.profile.sequence);
    expect(values.of(entry, ids[1]!)?.sequence).toBe(-1);
    expect(values.of(entry, 'MAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA')).toBeUndefined();
  });

  it('answers other bytes from those bytes, never from a kept value', async () => {
    const account = await makeAccount(countingRandom(3200));
    const values = new ProfileValues();
    const id = account.master.profile.id;
    const created = encodeRecord(account.create);
    expect(values.of(created, id)).toBeDefined();
    const other = Uint8Array.from(created);
    other[other.length - 2]! ^= 1; // inside the last string: other bytes, no longer canonical
    expect(() => values.of(other, id)).toThrow();
  });
});
