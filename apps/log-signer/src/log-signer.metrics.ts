import { Counter, Gauge, Histogram } from 'prom-client';
import type { MetricsService } from '@cryptomesh/service';
import type { SealReason } from './seal-policy';

/** The log-signer's Prometheus metrics (docs/design/log-signer.md "Operating"). */
export class LogSignerMetrics {
  readonly sequenced: Counter;
  readonly refused: Counter;
  readonly sealed: Counter<'reason'>;
  readonly sealSeconds: Histogram;
  readonly sealInterval: Histogram;
  readonly partEntries: Histogram;
  readonly integrationSeconds: Histogram;
  readonly treeSize: Gauge<'state'>;
  readonly lastSealTime: Gauge;
  readonly leader: Gauge;
  readonly errors: Counter<'code'>;

  /** `queueDepth` is read at each scrape; it MAY reject (the gauge then keeps its last value). */
  constructor(metrics: MetricsService, queueDepth: () => Promise<number>) {
    const registers = [metrics.registry];
    this.sequenced = new Counter({
      name: 'log_entries_sequenced_total',
      help: 'Entries given an index in the log (queued → sequenced)',
      registers,
    });
    this.refused = new Counter({
      name: 'log_entries_refused_total',
      help: 'Queued rows refused, never sequenced: they do not decode, or their record breaks a rule (kept in log_queue_refused)',
      registers,
    });
    this.sealed = new Counter({
      name: 'log_parts_sealed_total',
      help: 'Parts closed by a persisted seal, by why: full (PART_MAX_ENTRIES), interval (SEAL_INTERVAL_MS), heartbeat (empty part)',
      labelNames: ['reason'],
      registers,
    });
    this.sealSeconds = new Histogram({
      name: 'log_seal_duration_seconds',
      help: 'Time to compute, sign and persist one seal',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.sealInterval = new Histogram({
      name: 'log_seal_interval_seconds',
      help: 'Time between two consecutive seals of this signer (SEAL_INTERVAL_MS under load, HEARTBEAT_MS idle)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.partEntries = new Histogram({
      name: 'log_part_entries',
      help: 'Entries in each sealed part (0: a heartbeat)',
      buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
      registers,
    });
    this.integrationSeconds = new Histogram({
      name: 'log_integration_latency_seconds',
      help: "Time from an entry queued (the start of the gateway's transaction that queued it) to its part's seal committed",
      buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60],
      registers,
    });
    this.treeSize = new Gauge({
      name: 'log_tree_size',
      help: 'Entries in the log: sequenced, and covered by the last seal (sealed)',
      labelNames: ['state'],
      registers,
    });
    this.lastSealTime = new Gauge({
      name: 'log_last_seal_timestamp_seconds',
      help: "The last seal's time line, unix seconds",
      registers,
    });
    this.leader = new Gauge({
      name: 'log_signer_leader',
      help: '1 while this instance holds the leadership lock and signs, 0 on standby',
      registers,
    });
    this.errors = new Counter({
      name: 'log_signer_errors_total',
      help: 'Failures of the sequencing/sealing loop, by code; each makes the signer re-read the database',
      labelNames: ['code'],
      registers,
    });
    new Gauge({
      name: 'log_queue_depth',
      help: 'Entries queued and not yet sequenced',
      registers,
      async collect() {
        try {
          this.set(await queueDepth());
        } catch {
          // The database is unreachable: keep the last value; the readiness check reports the cause.
        }
      },
    });
  }

  /**
   * One persisted seal: `seconds` it took, the part's `entries`, the log `size` it covers, its time
   * line, and `sinceLastSeal` (seconds since the previous seal of this signer; undefined for its first).
   */
  observeSeal(
    reason: SealReason,
    seconds: number,
    seal: { readonly entries: number; readonly size: number; readonly timeMs: number },
    sinceLastSeal: number | undefined,
  ): void {
    const { entries, size, timeMs } = seal;
    this.sealed.inc({ reason });
    this.sealSeconds.observe(seconds);
    this.partEntries.observe(entries);
    if (sinceLastSeal !== undefined) this.sealInterval.observe(sinceLastSeal);
    this.treeSize.set({ state: 'sealed' }, size);
    this.lastSealTime.set(timeMs / 1000);
  }
}
