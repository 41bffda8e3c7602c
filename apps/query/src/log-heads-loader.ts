import { countCosigners, type Ed25519, type VerifierKey } from '@cryptomesh/log';
import { cosignedCheckpoint, witnessKeysFor } from './cosigned-checkpoint';
import type { FederationPeer, FederationPortal, FederationReader } from './federation-reader';
import type { CosignedSeal, LogHead, LogHeadsLoader, LogHeadsSnapshot } from './log-heads';
import type { MirrorLogs, PublishedLog } from './published-log';
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
 * The `LogHeadsLoader` over the stores: the roster, every log's latest seal with the stored
 * cosignatures over it and, with a quorum, the latest seal that meets it (federation.md "Query":
 * cosignatures counted only if they verify with the witness keys of the roster, as a client would).
 * One statement (`FederationReader.heads`) reads the roster, the latest seals and each log's newest
 * part with enough cosignature rows; only when that part's rows do not verify to the quorum does the
 * search page on below it. The verdict of `countCosigners` is kept per checkpoint text and key
 * list, so a refresh that finds nothing new verifies nothing.
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
    // The roster and every log's latest seal, its cosignatures and the newest candidate for the
    // quorum in one statement: a checkpoint request waits for this read when the heads are stale.
    const stored = await federation.heads();
    const { portal, peers } = stored;
    const members = membersOf(portal, peers);
    const quorum = portal?.quorum ?? 0;
    const heads = await Promise.all(
      stored.logs.map(async ({ peer, latest, candidate }): Promise<[string, LogHead]> => {
        const name = peer ?? SELF;
        const subject = peer ?? portal?.id;
        if (latest === undefined) return [name, { latest: undefined, cosigned: undefined }];
        const head = {
          seal: latest.seal,
          checkpoint: cosignedCheckpoint(latest.seal.note, latest.cosignatures),
        };
        if (quorum === 0 || subject === undefined) return [name, { latest: head, cosigned: undefined }];
        const keys = witnessKeysFor(subject, members);
        const keysId = keys.map((k) => k.text).join(' ');
        const meets = (c: CosignedSeal) => count(c.checkpoint, keys, keysId) >= quorum;
        if (candidate === undefined) return [name, { latest: head, cosigned: undefined }];
        const first =
          candidate.part === latest.seal.part
            ? head
            : candidate.seal === undefined
              ? undefined
              : {
                  seal: candidate.seal,
                  checkpoint: cosignedCheckpoint(candidate.seal.note, candidate.cosignatures),
                };
        if (first !== undefined && meets(first)) return [name, { latest: head, cosigned: first }];
        // The newest candidate's rows do not verify to the quorum (a peer stored a cosignature over
        // another seal, or a witness key changed): page on below it, a statement per step.
        const log = peer === undefined ? sources.own : sources.mirrors(peer);
        return [
          name,
          { latest: head, cosigned: await olderCosigned(log, subject, candidate.part, quorum, meets) },
        ];
      }),
    );
    return { portal, peers, quorum, heads: new Map(heads) };
  };

  /** The newest part below `before` whose checkpoint meets the quorum, a page of candidates at a time. */
  async function olderCosigned(
    log: PublishedLog,
    subject: string,
    before: number,
    quorum: number,
    meets: (c: CosignedSeal) => boolean,
  ): Promise<CosignedSeal | undefined> {
    const { federation } = sources;
    for (;;) {
      const parts = await federation.cosignedParts(subject, 0, quorum, COSIGNED_PAGE, before);
      for (const part of parts) {
        const seal = await log.sealOfPart(part);
        if (seal === undefined) continue;
        const candidate = {
          seal,
          checkpoint: cosignedCheckpoint(seal.note, await federation.cosignatures(subject, part)),
        };
        if (meets(candidate)) return candidate;
      }
      if (parts.length < COSIGNED_PAGE) return undefined;
      before = parts[parts.length - 1]!;
    }
  }
}

export type Member = { readonly id: string; readonly witnessKey: string | null };

export function membersOf(portal: FederationPortal | undefined, peers: readonly FederationPeer[]): Member[] {
  return [...(portal === undefined ? [] : [portal]), ...peers];
}
