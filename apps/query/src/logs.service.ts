import { Inject, Injectable } from '@nestjs/common';
import { nodeEd25519 } from '@cryptomesh/crypto';
import type { VerifierKey } from '@cryptomesh/log';
import { witnessKeysFor } from './cosigned-checkpoint';
import type { FederationReader } from './federation-reader';
import { membersOf } from './log-heads-loader';
import type { LogHead, LogHeads, LogHeadsSnapshot } from './log-heads';
import type { MirrorLogs, PublishedLog } from './published-log';
import { QueryError } from './query-error';
import { SELF } from './query-params';
import type { ProofTree } from './proof-tree';
import type { ProofTrees } from './proof-trees';
import { FEDERATION_READER, LOG_HEADS, MIRROR_LOGS, PROOF_TREES, PUBLISHED_LOG } from './query-tokens';
import { ServedLog, type SealCosignatures } from './served-log';

/** The name of this portal's own log in `/logs/{peer}/…` and in `/profiles` answers. */
export { SELF };

/**
 * The logs this portal serves (federation.md "Query"): its own, named `self`, and the mirror of
 * every peer in `federation_peers` (configured or not), named by the peer id. The roster and each
 * log's head come from the LogHeads snapshot (query.md "Log heads": at most CHECKPOINT_MAX_AGE_MS
 * old); a peer that is not in it (added since) is looked up in the database.
 */
@Injectable()
export class LogsService {
  /** The snapshot the proof trees were last pruned for. */
  private treesFor: LogHeadsSnapshot | undefined;

  constructor(
    @Inject(PUBLISHED_LOG) private readonly own: PublishedLog,
    @Inject(MIRROR_LOGS) private readonly mirrors: MirrorLogs,
    @Inject(FEDERATION_READER) private readonly federation: FederationReader,
    @Inject(LOG_HEADS) private readonly heads: LogHeads,
    @Inject(PROOF_TREES) private readonly trees: ProofTrees,
  ) {}

  /**
   * The log `{peer}` names: `self` or a peer id. MUST reject QueryError `peer.unknown` for any
   * other name. A known peer with nothing mirrored is an empty log (`log.empty` where a seal is needed).
   */
  async log(name: string): Promise<ServedLog> {
    const snapshot = await this.current();
    if (name === SELF) return this.served(snapshot, SELF, this.own, snapshot.portal?.id);
    if (snapshot.peers.some((p) => p.id === name))
      return this.served(snapshot, name, this.mirrors(name), name);
    const peer = await this.federation.peer(name);
    if (peer === undefined) {
      throw new QueryError(
        'peer.unknown',
        `${JSON.stringify(name.slice(0, 80))} is neither self nor a peer of this portal's federation`,
      );
    }
    // Added to the roster after the snapshot: served from the database, with the snapshot's roster
    // and this peer for the witness keys.
    const members = [...membersOf(snapshot.portal, snapshot.peers), peer];
    return this.servedWith(peer.id, this.mirrors(peer.id), peer.id, () => witnessKeysFor(peer.id, members));
  }

  /**
   * Every log in search order — `self` first, then each peer's mirror by peer id — and the quorum
   * of cosignatures a checkpoint should carry (`federation_portal.quorum`; 0 without the row).
   */
  /** The log heads' snapshot held now (LogHeads.held). */
  heldSnapshot(): LogHeadsSnapshot | undefined {
    return this.heads.held();
  }

  async all(): Promise<{ logs: ServedLog[]; quorum: number; snapshot: LogHeadsSnapshot }> {
    const snapshot = await this.current();
    const logs = [
      this.served(snapshot, SELF, this.own, snapshot.portal?.id),
      ...snapshot.peers.map((p) => this.served(snapshot, p.id, this.mirrors(p.id), p.id)),
    ];
    return { logs, quorum: snapshot.quorum, snapshot };
  }

  /** The held snapshot; with a new one, the proof trees of logs that left the roster are dropped. */
  private async current(): Promise<LogHeadsSnapshot> {
    const snapshot = await this.heads.current();
    if (snapshot !== this.treesFor) {
      this.treesFor = snapshot;
      this.trees.retain(new Set([SELF, ...snapshot.peers.map((p) => p.id)]));
    }
    return snapshot;
  }

  /** `subject`: the portal whose seals the log holds (cosignatures' subject); undefined: none stored. */
  private served(
    snapshot: LogHeadsSnapshot,
    name: string,
    log: PublishedLog,
    subject: string | undefined,
  ): ServedLog {
    const keys = () => witnessKeysFor(subject, membersOf(snapshot.portal, snapshot.peers));
    const head = snapshot.heads.get(name);
    return this.servedWith(name, log, subject, keys, head, this.trees.tree(name, log, head));
  }

  private servedWith(
    name: string,
    log: PublishedLog,
    subject: string | undefined,
    /** Only the database path of `provingSeal` needs them: parsed on demand. */
    witnessKeys: () => readonly VerifierKey[],
    head?: LogHead,
    tree?: ProofTree,
  ): ServedLog {
    const federation = this.federation;
    const cosignatures: SealCosignatures = {
      of: async (part) => (subject === undefined ? [] : federation.cosignatures(subject, part)),
      parts: async (from, witnesses, limit, before) =>
        subject === undefined ? [] : federation.cosignedParts(subject, from, witnesses, limit, before),
      witnessKeys: () => Promise.resolve(witnessKeys()),
    };
    return new ServedLog(name, log, cosignatures, nodeEd25519, head, tree);
  }
}
