import { Inject, Injectable } from '@nestjs/common';
import { isCryptoError, udfMatches, type FlattenedJws, type Udf } from '@cryptomesh/crypto';
import { toBase64 } from '@cryptomesh/log';
import { decodeRecord, profileSetBy } from '@cryptomesh/mesh';
import { parseProfileName } from './profile-name';
import type { ProfileIndexRow, PublishedLog } from './published-log';
import { QueryError } from './query-error';
import { PUBLISHED_LOG, SelfLogService } from './self-log.service';

/** The answer of `GET /profiles/{udf}` (docs/design/query.md). */
export interface ProfileAnswer {
  /** The profile identifier, canonical. */
  readonly id: string;
  /** The account UDF whose entry set it. */
  readonly account: string;
  /** The signed profile exactly as the entry carries it. */
  readonly profile: FlattenedJws;
  /** The index of the entry that set it. */
  readonly index: number;
  /** The entry bytes, base64. */
  readonly entry: string;
  readonly proof: { readonly index: number; readonly size: number; readonly path: string[] };
  /** The checkpoint the proof is against: the latest seal with the cosignatures collected. */
  readonly checkpoint: string;
}

/**
 * Profiles of this portal's own log (mirrors come with issue #6): the current signed value of a
 * profile is the one set by the latest SEALED entry that set or deleted it — proven, so a client
 * needs to trust nothing but the log key (and the cosigners).
 *
 * A device may be connected to two accounts (mesh-model.md "Persistence model"): unless the name
 * is an `mmm:<udf>:<account>` URI, every account is considered and the most recently set value of
 * an account that still has the profile wins; it is "deleted" only when every account deleted it.
 */
@Injectable()
export class ProfileService {
  constructor(
    @Inject(PUBLISHED_LOG) private readonly log: PublishedLog,
    private readonly self: SelfLogService,
  ) {}

  async profile(name: string): Promise<ProfileAnswer> {
    const wanted = parseProfileName(name);
    const seal = await this.self.latest().catch((error: unknown) => {
      if (error instanceof QueryError && error.code === 'log.empty')
        throw new QueryError('profile.not-found', `no profile is sealed yet: the log has no seal`);
      throw error;
    });
    const rows = (await this.log.latestProfileRows(wanted.prefix, seal.size, wanted.account)).filter((r) =>
      matches(wanted.udf, r.id),
    );
    const ids = new Set(rows.map((r) => r.id));
    if (ids.size > 1) {
      throw new QueryError(
        'profile.bad-id',
        `${wanted.udf.text} matches ${ids.size} profiles: give more of its characters`,
      );
    }
    const scope = wanted.account === undefined ? '' : ` of account ${wanted.account}`;
    const current = latest(rows.filter((r) => r.state === 'set'));
    if (current === undefined) {
      const deleted = latest(rows);
      if (deleted !== undefined)
        throw new QueryError(
          'profile.not-found',
          `profile ${deleted.id}${scope} was deleted by entry ${deleted.index} (checkpoint size ${seal.size})`,
        );
      throw new QueryError(
        'profile.not-found',
        `no sealed entry sets profile ${wanted.udf.text}${scope} (checkpoint size ${seal.size})`,
      );
    }
    const proven = await this.self.proveEntry(current.index, seal);
    const signed = profileSetBy(decodeRecord(proven.entry), current.id);
    // The index says this entry set the profile; its bytes must agree, or the index is corrupt.
    if (signed === undefined)
      throw new Error(
        `the profile index names entry ${current.index} for ${current.id}, which does not set it`,
      );
    return {
      id: current.id,
      account: current.account,
      profile: signed.jws,
      index: current.index,
      entry: toBase64(proven.entry),
      proof: proven.proof,
      checkpoint: proven.checkpoint,
    };
  }
}

/** The UDF prefix rule (udf §3.4); an indexed id that is no UDF (a record's bad `Id`) matches nothing. */
function matches(udf: Udf, id: string): boolean {
  try {
    return udfMatches(udf, id);
  } catch (error) {
    if (isCryptoError(error)) return false;
    throw error;
  }
}

function latest(rows: readonly ProfileIndexRow[]): ProfileIndexRow | undefined {
  return rows.reduce<ProfileIndexRow | undefined>(
    (a, r) => (a === undefined || r.index > a.index ? r : a),
    undefined,
  );
}
