import fc from 'fast-check';
import { packBytes } from './packed-bytes';

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
});
