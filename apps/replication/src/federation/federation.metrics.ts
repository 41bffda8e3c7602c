import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '@cryptomesh/service';

/** Prometheus metrics of mirroring, auditing and cosigning (docs/design/federation.md). */
export class FederationMetrics {
  readonly parts: Counter<'peer' | 'source'>;
  readonly entries: Counter<'peer'>;
  readonly headPart: Gauge<'peer'>;
  readonly lagSeconds: Gauge<'peer'>;
  readonly lagEntries: Gauge<'peer'>;
  readonly findings: Counter<'subject' | 'kind'>;
  readonly cosignaturesGiven: Counter<'peer'>;
  readonly cosignaturesReceived: Counter<'subject' | 'witness'>;
  readonly witnessMessages: Counter<'type' | 'outcome'>;
  readonly witnessPublished: Counter;
  readonly errors: Counter<'peer' | 'stage'>;
  readonly transportErrors: Counter<'peer' | 'code'>;
  readonly addCheckpoint: Counter<'outcome'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.parts = metrics.counter(
      'intermesh_mirror_parts_total',
      'Peer parts verified and stored in the mirror',
      ['peer', 'source'],
    );
    this.entries = metrics.counter('intermesh_mirror_entries_total', 'Peer entries verified and stored', [
      'peer',
    ]);
    this.headPart = new Gauge({
      name: 'intermesh_mirror_head_part',
      help: "Index of the last part of each peer's log in the mirror (-1: none)",
      labelNames: ['peer'],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'intermesh_mirror_lag_seconds',
      help: "Age of the newest mirrored seal of each peer's log (at most the peer's seal interval when caught up and busy, its heartbeat when idle)",
      labelNames: ['peer'],
      registers,
    });
    this.lagEntries = new Gauge({
      name: 'intermesh_mirror_lag_entries',
      help: "Entries of each peer's log (by its newest checkpoint seen) not yet in the mirror",
      labelNames: ['peer'],
      registers,
    });
    this.findings = metrics.counter(
      'intermesh_findings_total',
      'Findings stored, by subject portal and kind',
      ['subject', 'kind'],
    );
    this.cosignaturesGiven = metrics.counter(
      'intermesh_cosignatures_given_total',
      "This portal's cosignatures of peers' seals",
      ['peer'],
    );
    this.cosignaturesReceived = metrics.counter(
      'intermesh_cosignatures_received_total',
      'Verified cosignatures stored from intermesh.witness, by subject and witness',
      ['subject', 'witness'],
    );
    this.witnessMessages = metrics.counter(
      'intermesh_witness_messages_total',
      'Messages consumed from intermesh.witness, by type and what became of them',
      ['type', 'outcome'],
    );
    this.witnessPublished = metrics.counter(
      'intermesh_witness_messages_published_total',
      'Cosignatures and findings produced to intermesh.witness',
    );
    this.errors = metrics.counter(
      'intermesh_mirror_errors_total',
      'Transient failures of the mirror (database, broker, a peer query service); each is retried',
      ['peer', 'stage'],
    );
    this.addCheckpoint = metrics.counter(
      'tlog_witness_add_checkpoint_total',
      'POST /add-checkpoint requests (C2SP tlog-witness), by outcome: cosigned or the refusal code',
      ['outcome'],
    );
    this.transportErrors = metrics.counter(
      'intermesh_mirror_transport_errors_total',
      'Input about a peer that no valid seal of that peer covers (junk, forged or reordered messages, entries that do not match the seal): never a finding (DESIGN.md invariant 7)',
      ['peer', 'code'],
    );
  }

  witnessRequest(outcome: string): void {
    this.addCheckpoint.inc({ outcome });
  }
}
