import { Logger } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { parseCheckpoint, parseNote } from '@cryptomesh/log';
import type { LogHead } from './log-heads';
import { ProofTree } from './proof-tree';
import type { PublishedLog } from './published-log';

/** A fill logs its progress at most this often (ms), and only a fill that takes longer. */
const PROGRESS_EVERY_MS = 5000;

/** After a failed fill, the next waits this long, doubling with each failure up to the maximum. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

/**
 * The proof tree of every log the query service serves (docs/design/query.md "Proof tree"), by log
 * name. `budgetBytes` is shared: each tree may use an equal share of it, applied at its next fill
 * (0: no trees, every proof is read from the database). A tree is grown when a request's log-heads
 * snapshot holds a seal beyond the one it was checked against, in the background: the request
 * itself is answered at once, from what the tree holds and the database for the rest. A failed
 * fill is retried by a later request after a back-off (1 s, doubling to 60 s).
 *
 * Metrics: `query_proof_tree_entries{log}` (entries held), `query_proof_tree_bytes{log}`,
 * `query_proof_tree_fills_total{outcome}` (`extended`, `mismatch`, `failed`).
 */
export class ProofTrees {
  private readonly trees = new Map<string, ProofTree>();
  /** By log name: when a fill may be tried again after failures, and how long the next wait is. */
  private readonly retry = new Map<string, { at: number; waitMs: number }>();
  private readonly logger = new Logger('query');
  private readonly entries: Gauge<'log'>;
  private readonly bytes: Gauge<'log'>;
  private readonly fills: Counter<'outcome'>;

  constructor(
    private readonly budgetBytes: number,
    registry: Registry,
    private readonly now: () => number = Date.now,
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
        () => Math.floor(this.budgetBytes / Math.max(1, this.trees.size)),
        (level, start, end) => log.levelNodes(level, start, end),
        this.progressLogger(name),
      );
      this.trees.set(name, tree);
    }
    const seal = head?.latest?.seal;
    if (seal !== undefined && seal.size > tree.checkedSize && !tree.isDisabled && !tree.isFilling) {
      const retry = this.retry.get(name);
      if (retry === undefined || this.now() >= retry.at) this.grow(name, tree, log, seal);
    }
    return tree;
  }

  /** Drops the trees of logs not in `names` (peers that left the roster): their memory is freed. */
  retain(names: ReadonlySet<string>): void {
    for (const name of [...this.trees.keys()]) {
      if (names.has(name)) continue;
      this.trees.delete(name);
      this.retry.delete(name);
      this.entries.remove({ log: name });
      this.bytes.remove({ log: name });
    }
  }

  /** The names of the logs that have a tree. */
  names(): string[] {
    return [...this.trees.keys()];
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
        this.retry.delete(name);
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
        const waitMs = this.retry.get(name)?.waitMs ?? RETRY_FIRST_MS;
        this.retry.set(name, { at: this.now() + waitMs, waitMs: Math.min(RETRY_MAX_MS, waitMs * 2) });
        this.logger.warn({
          msg: `growing the proof tree of log ${name} failed; a request tries again in ${waitMs} ms`,
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
