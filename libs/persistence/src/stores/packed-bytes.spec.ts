import fc from 'fast-check';
import { packBytes, packedEntries } from './packed-bytes';

describe('packBytes: many byte strings as one binary parameter (#17)', () => {
  it('gives back each string from its 1-based offset and length, as SQL substring reads it', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 40 }), (items) => {
        const packed = packBytes(items);
        expect(packed.offsets).toHaveLength(items.length);
        expect(packed.data.length).toBe(items.reduce((n, item) => n + item.length, 0));
        items.forEach((item, i) => {
          const start = packed.offsets[i]! - 1;
          expect(packed.lengths[i]).toBe(item.length);
          expect(Buffer.from(packed.data.subarray(start, start + packed.lengths[i]!))).toEqual(
            Buffer.from(item),
          );
        });
      }),
    );
  });

  it('copies: a later change to an item does not reach the packed data', () => {
    const item = new Uint8Array([1, 2, 3]);
    const packed = packBytes([item]);
    item[0] = 9;
    expect([...packed.data]).toEqual([1, 2, 3]);
  });

  it('packedEntries: six parameters numbered from the first free one, in the order the SQL names them', () => {
    const entries = [new Uint8Array([1, 2]), new Uint8Array([3])];
    const hashes = [new Uint8Array(32).fill(7), new Uint8Array(32).fill(8)];
    const packed = packedEntries(entries, hashes, 3);
    expect(packed.entry).toBe('substring($3::bytea FROM t.entry_off FOR t.entry_len)');
    expect(packed.leafHash).toBe('substring($4::bytea FROM t.hash_off FOR t.hash_len)');
    expect(packed.arrays).toBe('$5::int[], $6::int[], $7::int[], $8::int[]');
    expect(packed.params).toEqual([
      Buffer.from([1, 2, 3]),
      Buffer.concat(hashes),
      '{1,3}',
      '{2,1}',
      '{1,33}',
      '{32,32}',
    ]);
    expect(() => packedEntries(entries, hashes.slice(1), 1)).toThrow(RangeError);
  });
});
