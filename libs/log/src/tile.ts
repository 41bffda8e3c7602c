import { parseDecimal } from './bytes';
import { LogError } from './log-error';
import { HASH_SIZE } from './tree-hasher';

/**
 * C2SP tlog-tiles: the log as static resources. A hash tile at level L, index N holds the
 * RFC 9162 hashes of the stored nodes at tree level 8·L with indices [256·N, 256·N + W) — level 0
 * holds leaf hashes, level L ≥ 1 the roots of full tiles of level L − 1 — and an entry bundle N
 * holds entries [256·N, 256·N + W), each as a big-endian uint16 length and the leaf bytes. W is 256
 * for a full tile; a partial tile (1 ≤ W ≤ 255) is served as `.p/<W>`.
 */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile, entries in a full bundle. */
export const TILE_WIDTH = 256;
/** The largest entry an entry bundle can carry (its length prefix is a uint16). */
export const MAX_BUNDLED_ENTRY = 0xffff;

/** A tile resource: a hash tile (`level` 0…63) or an entry bundle (`level` 'entries'). */
export interface TileCoord {
  readonly level: number | 'entries';
  readonly index: number;
  /** 1…256; 256 is a full tile. */
  readonly width: number;
}

/**
 * Parses the path of a tile below the log prefix — `tile/<L>/<N>[.p/<W>]` or
 * `tile/entries/<N>[.p/<W>]`, with or without the leading `tile/` — in the spec's exact encoding:
 * L decimal 0…63 with no leading zero, N in zero-padded 3-digit elements all but the last prefixed
 * `x`, W decimal 1…255 with no leading zero. MUST throw LogError `tile.malformed` for any other
 * spelling (a non-canonical path would name a resource twice, defeating caches).
 */
export function parseTilePath(path: string): TileCoord {
  const parts = (path.startsWith('tile/') ? path.slice(5) : path).split('/');
  const malformed = (why: string) =>
    new LogError('tile.malformed', `${JSON.stringify(path.slice(0, 120))} is not a tile path: ${why}`);
  const head = parts.shift();
  let level: number | 'entries';
  if (head === 'entries') level = 'entries';
  else {
    const l = head === undefined ? undefined : parseDecimal(head);
    if (l === undefined || l > 63) throw malformed('the level is not a decimal 0…63');
    level = l;
  }
  let width = TILE_WIDTH;
  const last = parts[parts.length - 1];
  if (parts.length >= 2 && parts[parts.length - 2]!.endsWith('.p')) {
    const w = parseDecimal(last ?? '');
    if (w === undefined || w < 1 || w >= TILE_WIDTH) throw malformed('the width is not a decimal 1…255');
    width = w;
    parts.pop();
    parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -2);
  }
  if (parts.length === 0 || parts.length > 6) throw malformed('the index has no or too many elements');
  let index = 0;
  for (let i = 0; i < parts.length; i++) {
    const element = parts[i]!;
    const digits = i < parts.length - 1 ? (element.startsWith('x') ? element.slice(1) : '') : element;
    if (!/^[0-9]{3}$/.test(digits)) throw malformed('the index is not in x-prefixed 3-digit elements');
    index = index * 1000 + Number(digits);
  }
  if (parts.length > 1 && parts[0] === 'x000') throw malformed('the index has a leading zero element');
  if (!Number.isSafeInteger(index)) throw malformed('the index is too large');
  return { level, index, width };
}

/** The path of a tile, `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (see `parseTilePath`). */
export function formatTilePath(tile: TileCoord): string {
  if (!Number.isSafeInteger(tile.index) || tile.index < 0)
    throw new RangeError(`bad tile index ${tile.index}`);
  if (!Number.isInteger(tile.width) || tile.width < 1 || tile.width > TILE_WIDTH)
    throw new RangeError(`bad tile width ${tile.width}`);
  const groups: string[] = [];
  let n = tile.index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  const index = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  const suffix = tile.width === TILE_WIDTH ? '' : `.p/${tile.width}`;
  return `tile/${tile.level}/${index}${suffix}`;
}

/**
 * How many hashes (or entries, for `level` 'entries' ≡ 0) tile `index` of `level` holds in a tree
 * of `size` entries: 256 when full, 1…255 when it is the partial right edge, 0 when it does not
 * exist yet (C2SP tlog-tiles "Partial Tiles": floor(s / 256^l) mod 256 at the edge).
 */
export function tileWidthAt(level: number | 'entries', index: number, size: number): number {
  const l = level === 'entries' ? 0 : level;
  const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * l));
  return Math.max(0, Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH));
}

/**
 * An entry bundle: each entry as its big-endian uint16 length, then its bytes. MUST throw LogError
 * `tile.malformed` for an entry longer than MAX_BUNDLED_ENTRY bytes (it cannot be bundled).
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const [i, entry] of entries.entries()) {
    if (entry.length > MAX_BUNDLED_ENTRY) {
      throw new LogError(
        'tile.malformed',
        `entry ${i} of the bundle is longer than ${MAX_BUNDLED_ENTRY} bytes`,
        {
          expected: `at most ${MAX_BUNDLED_ENTRY}`,
          seen: String(entry.length),
        },
      );
    }
    total += 2 + entry.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const entry of entries) {
    out[at] = entry.length >> 8;
    out[at + 1] = entry.length & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

/**
 * The entries of a bundle, as views into `bundle`. MUST throw LogError `tile.malformed` unless the
 * bundle is exactly `width` length-prefixed entries.
 */
export function decodeEntryBundle(bundle: Uint8Array, width: number): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length)
      throw new LogError('tile.malformed', 'the bundle ends inside a length prefix');
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length)
      throw new LogError('tile.malformed', 'the bundle ends inside an entry');
    entries.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (entries.length !== width) {
    throw new LogError('tile.malformed', `the bundle holds ${entries.length} entries, not ${width}`, {
      expected: String(width),
      seen: String(entries.length),
    });
  }
  return entries;
}

/**
 * The hashes of a hash tile. MUST throw LogError `tile.malformed` unless it is exactly `width`
 * 32-byte hashes.
 */
export function splitHashTile(tile: Uint8Array, width: number): Uint8Array[] {
  if (tile.length !== width * HASH_SIZE) {
    throw new LogError('tile.malformed', `a tile of width ${width} is ${width * HASH_SIZE} bytes`, {
      expected: String(width * HASH_SIZE),
      seen: String(tile.length),
    });
  }
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < width; i++) hashes.push(tile.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return hashes;
}
