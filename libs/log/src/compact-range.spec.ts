import { referenceRoot } from '../testdata/reference-merkle';
import { toHex } from './bytes';
import { CompactRange } from './compact-range';
import type { StoredNode } from './hash-reader';
import { MemoryHashStore } from './memory-hash-store';
import { planRangeHash } from './range-hash';
import { resolvePlanSync } from './hash-reader';
import { withCode as code } from '../testdata/with-code';

const entry = (i: number): Uint8Array => Uint8Array.of(i & 0xff, i >> 8, 7);

describe('CompactRange', () => {
  it('keeps one hash per set bit of the size and folds them to the RFC 9162 root', () => {
    const range = CompactRange.empty();
    const entries: Uint8Array[] = [];
    for (let i = 0; i < 70; i++) {
      range.appendEntry(entry(i));
      entries.push(entry(i));
      expect(range.hashes()).toHaveLength(range.size.toString(2).replace(/0/g, '').length);
      expect(toHex(range.root())).toBe(toHex(referenceRoot(entries)));
    }
  });

  it('reports each stored node once, in order, and those nodes are the perfect subtrees', () => {
    const store = new MemoryHashStore();
    const range = CompactRange.empty();
    const seen: StoredNode[] = [];
    const entries = Array.from({ length: 37 }, (_, i) => entry(i));
    for (const e of entries)
      range.appendEntry(e, (node) => (seen.push(node), store.writeNode(node.level, node.index, node.hash)));
    // A tree of n leaves has n stored nodes at level 0, ⌊n/2⌋ at level 1, …
    for (let level = 0; level < 6; level++) expect(store.count(level)).toBe(Math.floor(37 / 2 ** level));
    expect(seen).toHaveLength([37, 18, 9, 4, 2, 1].reduce((a, b) => a + b, 0));
    for (const { level, index, hash } of seen) {
      const width = 2 ** level;
      expect(toHex(hash)).toBe(toHex(referenceRoot(entries.slice(index * width, (index + 1) * width))));
    }
    expect(toHex(resolvePlanSync(store, planRangeHash(0, 37)))).toBe(toHex(range.root()));
  });

  it('restores from its peaks, as a log-signer does at start-up from its stored nodes', () => {
    const store = new MemoryHashStore();
    const range = CompactRange.empty();
    for (let i = 0; i < 45; i++)
      range.appendEntry(entry(i), (n) => store.writeNode(n.level, n.index, n.hash));
    const restored = CompactRange.fromHashes(45, store.readNodes(CompactRange.peakIds(45)));
    expect(restored.hashes()).toEqual(range.hashes());
    restored.appendEntry(entry(45));
    range.appendEntry(entry(45));
    expect(toHex(restored.root())).toBe(toHex(range.root()));
    expect(CompactRange.peakIds(45)).toEqual([
      { level: 5, index: 0 },
      { level: 3, index: 4 },
      { level: 2, index: 10 },
      { level: 0, index: 44 },
    ]);
  });

  it('refuses peaks that do not fit the size with tree.range', () => {
    expect(() => CompactRange.fromHashes(3, [new Uint8Array(32)])).toThrow(code('tree.range'));
    expect(() => CompactRange.fromHashes(1, [new Uint8Array(31)])).toThrow(code('tree.range'));
    expect(() => CompactRange.fromHashes(-1, [])).toThrow(code('tree.range'));
  });

  it('clones independently', () => {
    const a = CompactRange.empty();
    a.appendEntry(entry(1));
    const b = a.clone();
    b.appendEntry(entry(2));
    expect(a.size).toBe(1);
    expect(b.size).toBe(2);
  });
});

describe('MemoryHashStore', () => {
  it('fails with store.missing-node for nodes it does not hold', () => {
    const store = new MemoryHashStore();
    store.writeNode(0, 0, new Uint8Array(32));
    expect(() => store.readNodes([{ level: 0, index: 1 }])).toThrow(code('store.missing-node'));
    expect(() => store.readNodes([{ level: 3, index: 0 }])).toThrow(code('store.missing-node'));
  });

  it('accepts an identical replay but never a changed or out-of-order node', () => {
    const store = new MemoryHashStore();
    store.writeNode(0, 0, new Uint8Array(32).fill(1));
    store.writeNode(0, 0, new Uint8Array(32).fill(1));
    expect(() => store.writeNode(0, 0, new Uint8Array(32).fill(2))).toThrow(RangeError);
    expect(() => store.writeNode(0, 2, new Uint8Array(32))).toThrow(RangeError);
  });

  it('grows past its initial capacity', () => {
    const store = new MemoryHashStore();
    for (let i = 0; i < 1000; i++) store.writeNode(0, i, new Uint8Array(32).fill(i & 0xff));
    expect(store.readNodes([{ level: 0, index: 999 }])[0]![0]).toBe(999 & 0xff);
  });
});
