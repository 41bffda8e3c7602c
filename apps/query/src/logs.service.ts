import { Inject, Injectable } from '@nestjs/common';
import { nodeEd25519 } from '@cryptomesh/crypto';
import type { VerifierKey } from '@cryptomesh/log';
import { witnessKeysFor } from './cosigned-checkpoint';
import type { FederationPeer, FederationPortal, FederationReader } from './federation-reader';
import type { MirrorLogs, PublishedLog } from './published-log';
import { QueryError } from './query-error';
import { SELF } from './query-params';
import { FEDERATION_READER, MIRROR_LOGS, PUBLISHED_LOG } from './query-tokens';
import { ServedLog, type SealCosignatures } from './served-log';

/** The name of this portal's own log in `/logs/{peer}/…` and in `/profiles` answers. */
export { SELF };

/**
 * The logs this portal serves (federation.md "Query"): its own, named `self`, and the mirror of
 * every peer in `federation_peers` (configured or not), named by the peer id. The roster is read at
 * each call — a query instance holds no federation state, so it follows what replication wrote.
 */
@Injectable()
export class LogsService {
  constructor(
    @Inject(PUBLISHED_LOG) private readonly own: PublishedLog,
    @Inject(MIRROR_LOGS) private readonly mirrors: MirrorLogs,
    @Inject(FEDERATION_READER) private readonly federation: FederationReader,
  ) {}

  /**
   * The log `{peer}` names: `self` or a peer id. MUST reject QueryError `peer.unknown` for any
   * other name. A known peer with nothing mirrored is an empty log (`log.empty` where a seal is needed).
   */
  async log(name: string): Promise<ServedLog> {
    if (name === SELF) {
      // The portal id is read only if a cosignature is needed (checkpoints, not entries or proofs).
      const subject = async () => (await this.federation.portal())?.id;
      return this.served(SELF, this.own, subject, async () =>
        witnessKeysFor(await subject(), await this.members()),
      );
    }
    const peer = await this.federation.peer(name);
    if (peer === undefined) {
      throw new QueryError(
        'peer.unknown',
        `${JSON.stringify(name.slice(0, 80))} is neither self nor a peer of this portal's federation`,
      );
    }
    return this.served(
      peer.id,
      this.mirrors(peer.id),
      () => Promise.resolve(peer.id),
      async () => witnessKeysFor(peer.id, await this.members()),
    );
  }

  /**
   * Every log in search order — `self` first, then each peer's mirror by peer id — and the quorum
   * of cosignatures a checkpoint should carry (`federation_portal.quorum`; 0 without the row).
   */
  async all(): Promise<{ logs: ServedLog[]; quorum: number }> {
    const [portal, peers] = await Promise.all([this.federation.portal(), this.federation.peers()]);
    const members = membersOf(portal, peers);
    const log = (name: string, published: PublishedLog, subject: string | undefined): ServedLog =>
      this.served(
        name,
        published,
        () => Promise.resolve(subject),
        () => Promise.resolve(witnessKeysFor(subject, members)),
      );
    const logs = [log(SELF, this.own, portal?.id), ...peers.map((p) => log(p.id, this.mirrors(p.id), p.id))];
    return { logs, quorum: portal?.quorum ?? 0 };
  }

  /** `subject`: the portal whose seals the log holds (cosignatures' subject); undefined: none stored. */
  private served(
    name: string,
    log: PublishedLog,
    subject: () => Promise<string | undefined>,
    witnessKeys: () => Promise<readonly VerifierKey[]>,
  ): ServedLog {
    const federation = this.federation;
    const cosignatures: SealCosignatures = {
      of: async (part) => {
        const id = await subject();
        return id === undefined ? [] : federation.cosignatures(id, part);
      },
      parts: async (from, witnesses, limit, before) => {
        const id = await subject();
        return id === undefined ? [] : federation.cosignedParts(id, from, witnesses, limit, before);
      },
      witnessKeys,
    };
    return new ServedLog(name, log, cosignatures, nodeEd25519);
  }

  private async members(): Promise<Member[]> {
    const [portal, peers] = await Promise.all([this.federation.portal(), this.federation.peers()]);
    return membersOf(portal, peers);
  }
}

type Member = { readonly id: string; readonly witnessKey: string | null };

function membersOf(portal: FederationPortal | undefined, peers: readonly FederationPeer[]): Member[] {
  return [...(portal === undefined ? [] : [portal]), ...peers];
}
