import { countCosigners, type Ed25519, type VerifierKey } from '@cryptomesh/log';
import { cosignedCheckpoint, witnessKeysFor } from './cosigned-checkpoint';
import type { FederationPeer, FederationPortal, FederationReader } from './federation-reader';
import type { CosignedSeal, LogHead, LogHeadsLoader, LogHeadsSnapshot } from './log-heads';
import type { MirrorLogs, PublishedLog, PublishedSeal } from './published-log';
import { SELF } from './query-params';

/** Cosigned parts examined per round trip while looking for a seal that meets the quorum. */
export const COSIGNED_PAGE = 16;

/** Verdicts kept by checkpoint text (a text and a key list give one count forever). */
const MAX_REMEMBERED_COUNTS = 1024;

export interface LogHeadsSources {
  readonly own: PublishedLog;
  readonly mirrors: MirrorLogs;
  readonly federation: FederationReader;
  readonly ed25519: Ed25519;
}

/**
 * The `LogHeadsLoader` over the stores: the roster, then every log's latest seal with the stored
 * cosignatures over it and, with a quorum, the latest seal that meets it (federation.md "Query":
 * cosignatures counted only if they verify with the witness keys of the roster, as a client would).
 * The verdict of `countCosigners` is kept per checkpoint text and key list, so a refresh that finds
 * nothing new verifies nothing.
 */
export function logHeadsLoader(sources: LogHeadsSources): LogHeadsLoader {
  const counts = new Map<string, number>();
  const count = (checkpoint: string, keys: readonly VerifierKey[], keysId: string): number => {
    const key = `${keysId}\n${checkpoint}`;
    let n = counts.get(key);
    if (n === undefined) {
      n = countCosigners(checkpoint, keys, sources.ed25519);
      if (counts.size >= MAX_REMEMBERED_COUNTS) counts.clear();
      counts.set(key, n);
    }
    return n;
  };
  return async (): Promise<LogHeadsSnapshot> => {
    const { federation } = sources;
    // The own log's latest seal is read with the roster (it needs nothing from it): one round trip
    // less for every read of the heads, which a checkpoint request waits for when they are stale.
    const [portal, peers, ownLatest] = await Promise.all([
      federation.portal(),
      federation.peers(),
      sources.own.latestSeal(),
    ]);
    const members = membersOf(portal, peers);
    const quorum = portal?.quorum ?? 0;
    const logs = [
      { name: SELF, log: sources.own, subject: portal?.id },
      ...peers.map((p) => ({ name: p.id, log: sources.mirrors(p.id), subject: p.id })),
    ];
    const heads = await Promise.all(
      logs.map(async ({ name, log, subject }): Promise<[string, LogHead]> => {
        const latest = name === SELF ? ownLatest : await log.latestSeal();
        if (latest === undefined) return [name, { latest: undefined, cosigned: undefined }];
        const checkpointOf = async (seal: PublishedSeal): Promise<CosignedSeal> => ({
          seal,
          checkpoint: cosignedCheckpoint(
            seal.note,
            subject === undefined ? [] : await federation.cosignatures(subject, seal.part),
          ),
        });
        const head = await checkpointOf(latest);
        if (quorum === 0 || subject === undefined) return [name, { latest: head, cosigned: undefined }];
        const keys = witnessKeysFor(subject, members);
        const keysId = keys.map((k) => k.text).join(' ');
        let cosigned: CosignedSeal | undefined;
        let before = latest.part + 1;
        search: for (;;) {
          const parts = await federation.cosignedParts(subject, 0, quorum, COSIGNED_PAGE, before);
          for (const part of parts) {
            // Parts are stored contiguously, so every part up to `latest` is there; a cosignature
            // stored before its part was mirrored (gossip) is beyond `latest` and not asked for.
            const seal = part === latest.part ? latest : await log.sealOfPart(part);
            if (seal === undefined) continue;
            const candidate = part === latest.part ? head : await checkpointOf(seal);
            if (count(candidate.checkpoint, keys, keysId) >= quorum) {
              cosigned = candidate;
              break search;
            }
          }
          if (parts.length < COSIGNED_PAGE) break;
          before = parts[parts.length - 1]!;
        }
        return [name, { latest: head, cosigned }];
      }),
    );
    return { portal, peers, quorum, heads: new Map(heads) };
  };
}

export type Member = { readonly id: string; readonly witnessKey: string | null };

export function membersOf(portal: FederationPortal | undefined, peers: readonly FederationPeer[]): Member[] {
  return [...(portal === undefined ? [] : [portal]), ...peers];
}
