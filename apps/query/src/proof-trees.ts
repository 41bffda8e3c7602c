import { Logger } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { parseCheckpoint, parseNote } from '@cryptomesh/log';
import type { LogHead } from './log-heads';
import { ProofTree } from './proof-tree';
import type { PublishedLog } from './published-log';

/** A fill logs its progress at most this often (ms), and only a fill that takes longer. */
const PROGRESS_EVERY_MS = 5000;

/**
 * The proof tree of every log the query service serves (docs/design/query.md "Proof tree"), by log
 * name, each with `budgetBytes` of memory (0: none, every proof is read from the database). A tree
 * is grown when a request's log-heads snapshot holds a seal beyond it, in the background: the
 * request itself is answered at once, from what the tree holds and the database for the rest.
 *
 * Metrics: `query_proof_tree_entries{log}` (entries held), `query_proof_tree_bytes{log}`,
 * `query_proof_tree_fills_total{outcome}` (`extended`, `mismatch`, `failed`).
 */
export class ProofTrees {
  private readonly trees = new Map<string, ProofTree>();
  private readonly logger = new Logger('query');
  private readonly entries: Gauge<'log'>;
  private readonly bytes: Gauge<'log'>;
  private readonly fills: Counter<'outcome'>;

  constructor(
    private readonly budgetBytes: number,
    registry: Registry,
  ) {
    const registers = [registry];
    this.entries = new Gauge({
      name: 'query_proof_tree_entries',
      help: 'Entries whose proof nodes the query service holds in memory, by log',
      labelNames: ['log'],
      registers,
    });
    this.bytes = new Gauge({
      name: 'query_proof_tree_bytes',
      help: 'Memory of the in-memory proof trees, by log',
      labelNames: ['log'],
      registers,
    });
    this.fills = new Counter({
      name: 'query_proof_tree_fills_total',
      help: 'Growths of an in-memory proof tree to a new seal, by outcome: extended, mismatch, failed',
      labelNames: ['outcome'],
      registers,
    });
  }

  /**
   * The tree of log `name` (read through `log`), grown towards `head`'s latest seal in the
   * background when it is behind; undefined when trees are off.
   */
  tree(name: string, log: PublishedLog, head: LogHead | undefined): ProofTree | undefined {
    if (this.budgetBytes === 0) return undefined;
    let tree = this.trees.get(name);
    if (tree === undefined) {
      tree = new ProofTree(
        this.budgetBytes,
        (level, start, end) => log.levelNodes(level, start, end),
        this.progressLogger(name),
      );
      this.trees.set(name, tree);
    }
    const seal = head?.latest?.seal;
    if (seal !== undefined && seal.size > tree.covered && !tree.isDisabled) this.grow(name, tree, log, seal);
    return tree;
  }

  private grow(name: string, tree: ProofTree, log: PublishedLog, seal: { size: number; note: string }): void {
    let root: Uint8Array;
    try {
      root = parseCheckpoint(parseNote(seal.note).text).root;
    } catch (error) {
      this.logger.warn({
        msg: `the seal of log ${name} at size ${seal.size} does not parse`,
        err: String(error),
      });
      return;
    }
    tree.extend(seal.size, root, log).then(
      (outcome) => {
        if (outcome.kind === 'extended') this.fills.inc({ outcome: 'extended' });
        if (outcome.kind === 'mismatch') {
          this.fills.inc({ outcome: 'mismatch' });
          this.logger.error({
            msg: `the stored tree of log ${name} does not give the root its seal of size ${outcome.size} signed; its proofs are read from the database from now on`,
            log: name,
            size: outcome.size,
          });
        }
        this.entries.set({ log: name }, tree.covered);
        this.bytes.set({ log: name }, tree.bytes);
      },
      (error: unknown) => {
        this.fills.inc({ outcome: 'failed' });
        this.logger.warn({
          msg: `growing the proof tree of log ${name} failed; the next request tries again`,
          log: name,
          err: String(error),
        });
      },
    );
  }

  private progressLogger(name: string): (done: number, wanted: number, floor: number) => void {
    let started: number | undefined;
    let last = 0;
    return (done, wanted, floor) => {
      const now = Date.now();
      started ??= now;
      if (done >= wanted) {
        if (now - started >= PROGRESS_EVERY_MS)
          this.logger.log({ msg: `proof tree of log ${name}: filled`, log: name, nodes: done, floor });
        started = undefined;
        last = 0;
        return;
      }
      if (now - Math.max(started, last) < PROGRESS_EVERY_MS) return;
      last = now;
      this.logger.log({
        msg: `proof tree of log ${name}: ${done} of ${wanted} nodes of level ${floor} read`,
        log: name,
        nodes: done,
        wanted,
        floor,
      });
    };
  }
}
