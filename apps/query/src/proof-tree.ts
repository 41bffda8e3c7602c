import {
  HASH_SIZE,
  hashChildren,
  planRangeHash,
  resolvePlan,
  type Hash,
  type HashReader,
  type NodeId,
} from '@cryptomesh/log';

/** Where a proof tree reads the stored nodes of one level of its log (PublishedLog.levelNodes). */
export type LevelReader = (level: number, start: number, end: number) => Promise<Hash[]>;

/** Nodes read per statement while a tree fills: 8,192 leaf hashes are 256 KiB. */
export const FILL_CHUNK = 8192;

/** Room reserved beyond a fill's nodes, for the next seals. */
const HEADROOM = 1.25;

interface Level {
  bytes: Uint8Array;
  /** Nodes written (filled and checked, or being filled). */
  count: number;
  /** Nodes a reader may be given: those checked against a seal's root. */
  visible: number;
}

/** What one `extend` did, for the log and the metrics. */
export type ExtendOutcome =
  | { readonly kind: 'extended'; readonly entries: number }
  | { readonly kind: 'current' }
  | { readonly kind: 'mismatch'; readonly size: number }
  | { readonly kind: 'disabled' };

/**
 * The stored nodes of one log's Merkle tree held in memory (docs/design/query.md "Proof tree";
 * issue #17): one packed array per level, from level `floor` up, so that an inclusion or
 * consistency proof costs no statement. A stored node is immutable (hash-reader.ts), so a node once
 * held never needs refreshing; the tree only grows, one seal at a time.
 *
 * It fills itself from the database's own level `floor` (leaf hashes at 0) and computes every
 * level above, then checks the root it computes for the seal's size against the root that seal
 * signed; only then are the new nodes given to readers. A mismatch (a database whose stored nodes
 * do not give its own seals' roots) empties and disables the tree: proofs go back to the database,
 * as before, and the mismatch is reported. `budgetBytes` bounds its memory: when the next seal
 * would pass it, the lowest level is dropped (the floor rises) and the nodes below the floor are
 * read from the database with each proof — fewer as the floor rises.
 */
export class ProofTree {
  private readonly levels: Level[] = [];
  private floor = 0;
  /** The size of the last seal whose root the tree was checked against. */
  private checked = 0;
  private disabled = false;
  private filling: Promise<ExtendOutcome> | undefined;
  /**
   * Roots of the ranges [begin, checked) by begin: every proof at the latest seal's size needs the
   * same few right-edge roots, which are not stored nodes. Emptied whenever `checked` moves.
   */
  private readonly edge = new Map<number, Hash>();

  constructor(
    /** The memory this tree may use now, read at each fill (a share of PROOF_TREE_MB). */
    private readonly budgetBytes: () => number,
    private readonly readLevel: LevelReader,
    /** Told after each chunk of a fill: nodes of the floor read so far and wanted. */
    private readonly progress: (done: number, wanted: number, floor: number) => void = () => {},
  ) {}

  /** Entries whose every node at or above the floor is held and checked. */
  get covered(): number {
    return (this.levels[this.floor]?.visible ?? 0) * 2 ** this.floor;
  }

  /** The size of the last seal the tree was checked against: a later seal needs a fill. */
  get checkedSize(): number {
    return this.checked;
  }

  /** The lowest level held (0: every node, leaves included). */
  get lowestLevel(): number {
    return this.floor;
  }

  /** Bytes held by the node arrays. */
  get bytes(): number {
    return this.levels.reduce((sum, level) => sum + level.bytes.length, 0);
  }

  /** True while a fill runs. */
  get isFilling(): boolean {
    return this.filling !== undefined;
  }

  get isDisabled(): boolean {
    return this.disabled;
  }

  /** The held, checked node (`level`, `index`), or undefined. The view MUST NOT be written to. */
  node(level: number, index: number): Hash | undefined {
    if (level < this.floor) return undefined;
    const row = this.levels[level];
    if (row === undefined || index >= row.visible) return undefined;
    return row.bytes.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  /**
   * Grows the tree to `size` entries, the size of a seal whose signed root is `root`, unless a fill
   * is already running (its outcome is returned: one fill at a time, callers never wait for each
   * other's sizes). `fallback` reads the nodes below the floor for the root check.
   */
  extend(size: number, root: Hash, fallback: HashReader): Promise<ExtendOutcome> {
    if (this.disabled) return Promise.resolve({ kind: 'disabled' });
    if (this.filling !== undefined) return this.filling;
    if (size <= this.checked) return Promise.resolve({ kind: 'current' });
    this.filling = this.fill(size, root, fallback).finally(() => {
      this.filling = undefined;
    });
    return this.filling;
  }

  private async fill(size: number, root: Hash, fallback: HashReader): Promise<ExtendOutcome> {
    try {
      return await this.fillChecked(size, root, fallback);
    } catch (error) {
      // Nothing a failed fill wrote is kept: the next fill reads it again and checks it.
      for (const level of this.levels) level.count = level.visible;
      throw error;
    }
  }

  private async fillChecked(size: number, root: Hash, fallback: HashReader): Promise<ExtendOutcome> {
    const before = this.covered;
    this.raiseFloorFor(size);
    const floor = this.floor;
    const wanted = Math.floor(size / 2 ** floor);
    this.reserve(floor, wanted);
    for (let at = this.row(floor).count; at < wanted;) {
      const end = Math.min(wanted, at + FILL_CHUNK);
      const hashes = await this.readLevel(floor, at, end);
      if (hashes.length !== end - at) {
        throw new Error(`level ${floor} nodes [${at}, ${end}) are not all stored (${hashes.length} read)`);
      }
      for (const hash of hashes) this.append(floor, hash);
      at = end;
      this.progress(at, wanted, floor);
    }
    const computed = await resolvePlan(this.reader(fallback, true), planRangeHash(0, size));
    if (!equal(computed, root)) {
      this.disable();
      return { kind: 'mismatch', size };
    }
    // Exactly the nodes of the tree of `size`, which the root just checked, become visible.
    this.levels.forEach((level, height) => {
      level.count = Math.min(level.count, Math.floor(size / 2 ** height));
      level.visible = level.count;
    });
    this.checked = size;
    this.edge.clear();
    return { kind: 'extended', entries: Math.max(0, this.covered - before) };
  }

  /**
   * A HashReader that answers from the tree and reads only what it lacks from `fallback` (one call
   * for all of them): synchronously when the tree holds every node asked for.
   */
  reader(fallback: HashReader, unchecked = false): HashReader {
    return {
      readNodes: (ids: readonly NodeId[]) => {
        const hashes: Hash[] = new Array<Hash>(ids.length);
        const missing: NodeId[] = [];
        const at: number[] = [];
        ids.forEach((id, i) => {
          const held = unchecked ? this.written(id.level, id.index) : this.node(id.level, id.index);
          if (held !== undefined) hashes[i] = held;
          else {
            missing.push(id);
            at.push(i);
          }
        });
        if (missing.length === 0) return hashes;
        return Promise.resolve(fallback.readNodes(missing)).then((read) => {
          read.forEach((hash, j) => (hashes[at[j]!] = hash));
          return hashes;
        });
      },
    };
  }

  /**
   * The held, checked nodes [start, start + count) of `level`, concatenated (a hash tile's bytes:
   * C2SP tlog-tiles), or undefined unless all of them are held. A copy.
   */
  range(level: number, start: number, count: number): Uint8Array | undefined {
    if (level < this.floor) return undefined;
    const row = this.levels[level];
    if (row === undefined || start + count > row.visible) return undefined;
    return row.bytes.slice(start * HASH_SIZE, (start + count) * HASH_SIZE);
  }

  /**
   * MTH(D[begin:end]) of each range (RFC 9162 §2.1.1; a proof's path: `inclusionProofRanges`,
   * `consistencyProofRanges`) from held, checked nodes alone, or undefined unless every node they
   * need is held. A range that is a stored node is that node; one that ends at the checked size (the
   * right edge of the latest seal's tree, the same for every proof at that size) is computed once
   * per seal; any other is computed from its nodes.
   */
  rangeRoots(ranges: readonly (readonly [number, number])[]): Hash[] | undefined {
    const roots: Hash[] = [];
    for (const [begin, end] of ranges) {
      const root = this.rangeRoot(begin, end);
      if (root === undefined) return undefined;
      roots.push(root);
    }
    return roots;
  }

  private rangeRoot(begin: number, end: number): Hash | undefined {
    const n = end - begin;
    const level = Math.round(Math.log2(n));
    if (n > 0 && 2 ** level === n && begin % n === 0) return this.node(level, begin / n);
    const edge = end === this.checked;
    if (edge) {
      const known = this.edge.get(begin);
      if (known !== undefined) return known;
    }
    const plan = planRangeHash(begin, end);
    const hashes: Hash[] = [];
    for (const id of plan.ids) {
      const hash = this.node(id.level, id.index);
      if (hash === undefined) return undefined;
      hashes.push(hash);
    }
    const root = plan.build(hashes);
    if (edge) this.edge.set(begin, root);
    return root;
  }

  private written(level: number, index: number): Hash | undefined {
    if (level < this.floor) return undefined;
    const row = this.levels[level];
    if (row === undefined || index >= row.count) return undefined;
    return row.bytes.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
  }

  private disable(): void {
    this.disabled = true;
    this.levels.length = 0;
    this.edge.clear();
  }

  /**
   * Makes room for `nodes` nodes at `floor` and the levels they complete above it, with a quarter
   * more for the seals to come: one allocation a level per quarter the log grows by.
   */
  private reserve(floor: number, nodes: number): void {
    for (let level = floor, n = nodes; n >= 1; level++, n = Math.floor(n / 2)) {
      const row = this.row(level);
      if (n * HASH_SIZE <= row.bytes.length) continue;
      const grown = new Uint8Array(Math.ceil(n * HEADROOM) * HASH_SIZE);
      grown.set(row.bytes.subarray(0, row.count * HASH_SIZE));
      row.bytes = grown;
    }
  }

  /** Appends the next node of `level` (room reserved) and every parent it completes. */
  private append(level: number, hash: Hash): void {
    const row = this.row(level);
    row.bytes.set(hash, row.count * HASH_SIZE);
    row.count++;
    if (row.count % 2 === 0) {
      const left = row.bytes.subarray((row.count - 2) * HASH_SIZE, (row.count - 1) * HASH_SIZE);
      this.append(level + 1, hashChildren(left, hash));
    }
  }

  private row(level: number): Level {
    while (this.levels.length <= level) {
      this.levels.push({ bytes: new Uint8Array(0), count: 0, visible: 0 });
    }
    return this.levels[level]!;
  }

  /**
   * Raises the floor until a tree of `size` entries fits the budget (2 · 32 bytes per node of the
   * floor, with the headroom `reserve` leaves), dropping the levels below it: what they held is then read
   * from the database with each proof.
   */
  private raiseFloorFor(size: number): void {
    const need = (floor: number): number => 2 * HASH_SIZE * Math.ceil(size / 2 ** floor) * HEADROOM;
    const budget = this.budgetBytes();
    while (need(this.floor) > budget && size / 2 ** this.floor >= 2) {
      const dropped = this.levels[this.floor];
      if (dropped !== undefined) dropped.bytes = new Uint8Array(0);
      this.floor++;
    }
  }
}

function equal(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
