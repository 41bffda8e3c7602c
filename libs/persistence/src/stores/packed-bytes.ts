import { integerArray } from './array-literal';

/**
 * Many byte strings as ONE binary statement parameter (issue #17).
 *
 * node-postgres sends a `Buffer` parameter as binary, but a `Buffer[]` as the text of an array
 * literal: every element hex-encoded by the client and decoded again by the server. For 1,000
 * entries of about 1 KB that was 61–69 ms a statement and 18–27 ms of the client's CPU; packed,
 * 13–17 ms and 6–11 ms (docs/decisions.md, "Performance, fifth slice"). The statement takes
 * element i back with `substring($data::bytea FROM off FOR len)`, `off` and `len` unnested from
 * `offsets` and `lengths` beside the statement's other arrays.
 */
export interface PackedBytes {
  /** Every byte string, one after the other. */
  readonly data: Buffer;
  /** Where each starts in `data`, counted from 1 as SQL's `substring` counts. */
  readonly offsets: number[];
  readonly lengths: number[];
}

/** Packs `items` in order; `data` is a fresh copy, so later changes to `items` do not reach it. */
export function packBytes(items: readonly Uint8Array[]): PackedBytes {
  const offsets: number[] = [];
  const lengths: number[] = [];
  let next = 1;
  for (const item of items) {
    offsets.push(next);
    lengths.push(item.length);
    next += item.length;
  }
  if (next - 1 > 0x7fffffff) throw new RangeError('packed bytes exceed the 2 GiB an int offset addresses');
  return { data: Buffer.concat(items), offsets, lengths };
}

/**
 * Log entries with their leaf hashes as six packed parameters, numbered from `$from`, for an
 * `INSERT … SELECT` over `FROM unnest(${arrays}, …) WITH ORDINALITY AS t(entry_off, entry_len,
 * hash_off, hash_len, …, n)`: `entry` and `leafHash` are the SELECT's expressions of row `t`, and
 * `arrays` the unnest's first four arrays. The caller's further arrays follow them in the unnest.
 */
export function packedEntries(
  entries: readonly Uint8Array[],
  leafHashes: readonly Uint8Array[],
  from: number,
): {
  readonly entry: string;
  readonly leafHash: string;
  readonly arrays: string;
  readonly params: unknown[];
} {
  if (leafHashes.length !== entries.length) throw new RangeError('one leaf hash per entry');
  const bytes = packBytes(entries);
  const hashes = packBytes(leafHashes);
  const p = (k: number) => `$${from + k}`;
  return {
    entry: `substring(${p(0)}::bytea FROM t.entry_off FOR t.entry_len)`,
    leafHash: `substring(${p(1)}::bytea FROM t.hash_off FOR t.hash_len)`,
    arrays: `${p(2)}::int[], ${p(3)}::int[], ${p(4)}::int[], ${p(5)}::int[]`,
    params: [
      bytes.data,
      hashes.data,
      integerArray(bytes.offsets),
      integerArray(bytes.lengths),
      integerArray(hashes.offsets),
      integerArray(hashes.lengths),
    ],
  };
}
