import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  KEY_TYPE_ED25519,
  MerkleTree,
  formatCheckpoint,
  makeNoteSigner,
  signNote,
  type Hash,
  type NodeId,
} from '@cryptomesh/log';
import type { LogHead } from './log-heads';
import { ProofTrees } from './proof-trees';
import type { PublishedLog } from './published-log';

const signer = makeNoteSigner('trees.test/log', KEY_TYPE_ED25519, randomBytes(32), nodeEd25519);

/** A stored log of `size` entries behind the two reads a proof tree makes, with its head at `size`. */
function storedLog(size: number) {
  const tree = new MerkleTree();
  for (let i = 0; i < size; i++) tree.append(Uint8Array.of(i & 0xff, i >> 8));
  const calls = { levelNodes: 0, fail: false };
  const log = {
    levelNodes: (level: number, start: number, end: number): Promise<Hash[]> => {
      calls.levelNodes++;
      if (calls.fail) return Promise.reject(new Error('the database is away'));
      const ids: NodeId[] = [];
      for (let index = start; index < Math.min(end, tree.reader.count(level)); index++)
        ids.push({ level, index });
      return Promise.resolve(tree.reader.readNodes(ids));
    },
    readNodes: (ids: readonly NodeId[]) => Promise.resolve(tree.reader.readNodes(ids)),
  } as unknown as PublishedLog;
  const head = (at = size): LogHead => {
    const note = signNote(
      formatCheckpoint({ origin: 'trees.test/log', size: at, root: tree.rootAt(at), extensions: [] }),
      signer,
    );
    return {
      latest: { seal: { part: 0, first: 0, size: at, timeMs: 1, note }, checkpoint: note },
      cosigned: undefined,
    };
  };
  return { log, head, calls };
}

async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve));
}

describe('ProofTrees (query.md "Proof tree")', () => {
  it('grows a log’s tree to the seal of the snapshot in the background, and reports it', async () => {
    const registry = new Registry();
    const trees = new ProofTrees(1 << 20, registry);
    const { log, head } = storedLog(500);
    const tree = trees.tree('self', log, head())!;
    await until(() => tree.checkedSize === 500);
    expect(tree.covered).toBe(500);
    const text = await registry.metrics();
    expect(text).toMatch(/query_proof_tree_entries\{log="self"\} 500/);
    expect(text).toMatch(/query_proof_tree_fills_total\{outcome="extended"\} 1/);
    // A request with the same head starts no fill.
    expect(trees.tree('self', log, head())).toBe(tree);
    expect(await registry.metrics()).toMatch(/query_proof_tree_fills_total\{outcome="extended"\} 1/);
  });

  it('backs off after a failed fill: 1 s, then 2 s, before a request tries again', async () => {
    const registry = new Registry();
    let now = 1_000_000;
    const trees = new ProofTrees(1 << 20, registry, () => now);
    const { log, head, calls } = storedLog(100);
    calls.fail = true;
    trees.tree('self', log, head());
    await until(async () => /outcome="failed"\} 1/.test(await registry.metrics()));
    trees.tree('self', log, head());
    now += 999;
    trees.tree('self', log, head());
    expect(calls.levelNodes).toBe(1);
    now += 1;
    trees.tree('self', log, head());
    await until(async () => /outcome="failed"\} 2/.test(await registry.metrics()));
    now += 1999;
    trees.tree('self', log, head());
    expect(calls.levelNodes).toBe(2);
    calls.fail = false;
    now += 1;
    const tree = trees.tree('self', log, head())!;
    await until(() => tree.checkedSize === 100);
  });

  it('shares its memory between the logs, and frees the tree of a log that left', async () => {
    const trees = new ProofTrees(64 * 1000 * 1.25 * 1.5, new Registry());
    const own = storedLog(1000);
    const peer = storedLog(1000);
    const first = trees.tree('self', own.log, own.head())!;
    await until(() => first.checkedSize === 1000);
    expect(first.lowestLevel).toBe(0);
    const second = trees.tree('beta', peer.log, peer.head())!;
    await until(() => second.checkedSize === 1000);
    // Each has half: not enough for a whole tree of 1,000 entries.
    expect(second.lowestLevel).toBeGreaterThan(0);
    expect(trees.names().sort()).toEqual(['beta', 'self']);
    trees.retain(new Set(['self']));
    expect(trees.names()).toEqual(['self']);
  });

  it('makes no tree with no memory for it', () => {
    const { log, head } = storedLog(10);
    expect(new ProofTrees(0, new Registry()).tree('self', log, head())).toBeUndefined();
  });
});
