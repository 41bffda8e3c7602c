import { isLogError } from './log-error';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  formatTilePath,
  parseTilePath,
  splitHashTile,
  tileWidthAt,
} from './tile';

// C2SP tlog-tiles "Merkle Tree" and "Partial Tiles".
describe('tile paths (C2SP tlog-tiles)', () => {
  it.each([
    ['tile/0/000', { level: 0, index: 0, width: 256 }],
    ['tile/0/x001/x234/067', { level: 0, index: 1234067, width: 256 }],
    ['tile/2/001.p/17', { level: 2, index: 1, width: 17 }],
    ['tile/63/x999/999.p/255', { level: 63, index: 999999, width: 255 }],
    ['tile/entries/x001/000', { level: 'entries', index: 1000, width: 256 }],
    ['tile/entries/000.p/1', { level: 'entries', index: 0, width: 1 }],
  ] as const)('%s round-trips', (path, tile) => {
    expect(parseTilePath(path)).toEqual(tile);
    expect(formatTilePath(tile)).toBe(path);
  });

  it.each([
    'tile/00/000',
    'tile/64/000',
    'tile/0/0',
    'tile/0/1234',
    'tile/0/001/234',
    'tile/0/x000/001',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/0/000.p/07',
    'tile/0/000.p',
    'tile/entry/000',
    'tile/0/x1/000',
    'tile/0/x001/x002/x003/x004/x005/x006/007',
    'tile/-1/000',
    'tile/0/',
  ])('refuses %s with tile.malformed', (path) => {
    let code: string | undefined;
    try {
      parseTilePath(path);
    } catch (error) {
      code = isLogError(error) ? error.code : 'other';
    }
    expect(code).toBe('tile.malformed');
  });

  it('widths follow the spec example of a tree of size 70,000', () => {
    expect(tileWidthAt(0, 272, 70_000)).toBe(256);
    expect(tileWidthAt(0, 273, 70_000)).toBe(112);
    expect(tileWidthAt(0, 274, 70_000)).toBe(0);
    expect(tileWidthAt(1, 0, 70_000)).toBe(256);
    expect(tileWidthAt(1, 1, 70_000)).toBe(17);
    expect(tileWidthAt(2, 0, 70_000)).toBe(1);
    expect(tileWidthAt(3, 0, 70_000)).toBe(0);
    expect(tileWidthAt('entries', 273, 70_000)).toBe(112);
    // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
    expect(tileWidthAt(0, 0, 256)).toBe(256);
    expect(tileWidthAt(1, 0, 256)).toBe(1);
    expect(tileWidthAt(0, 0, 0)).toBe(0);
  });
});

describe('entry bundles and hash tiles', () => {
  it('round-trips entries with big-endian uint16 lengths', () => {
    const entries = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7)];
    const bundle = encodeEntryBundle(entries);
    expect([...bundle.subarray(0, 2)]).toEqual([0, 3]);
    expect([...bundle.subarray(7, 9)]).toEqual([1, 44]);
    expect(decodeEntryBundle(bundle, 3).map((e) => [...e])).toEqual(entries.map((e) => [...e]));
  });

  it('refuses a truncated bundle, a wrong count, an oversized entry and a ragged tile', () => {
    const bundle = encodeEntryBundle([new Uint8Array([1, 2, 3])]);
    expect(() => decodeEntryBundle(bundle.subarray(0, 4), 1)).toThrow(/ends inside an entry/);
    expect(() => decodeEntryBundle(bundle.subarray(0, 1), 1)).toThrow(/length prefix/);
    expect(() => decodeEntryBundle(bundle, 2)).toThrow(/holds 1 entries/);
    expect(() => encodeEntryBundle([new Uint8Array(65_536)])).toThrow(/longer than 65535/);
    expect(() => splitHashTile(new Uint8Array(33), 1)).toThrow(/32 bytes/);
    expect(splitHashTile(new Uint8Array(64), 2)).toHaveLength(2);
  });
});
