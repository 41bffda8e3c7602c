import { Injectable } from '@nestjs/common';
import { isCryptoError, udfMatches, type FlattenedJws, type Udf } from '@cryptomesh/crypto';
import { toBase64 } from '@cryptomesh/log';
import { decodeRecord } from '@cryptomesh/mesh';
import { parseProfileName } from './profile-name';
import { ProfileAnswers } from './profile-answers';
import { ProfileValues, type ProfileValue } from './profile-values';
import type { ProfileIndexRow, PublishedSeal } from './published-log';
import { QueryError } from './query-error';
import { LogsService } from './logs.service';
import type { CosignedSeal, InclusionAnswer, ServedLog } from './served-log';

/** The answer of `GET /profiles/{udf}` (docs/design/query.md). */
export interface ProfileAnswer {
  /** The log the profile was found in: `self` or the peer id of a mirror. */
  readonly log: string;
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
  /** The checkpoint the proof is against: a seal of `log` with its stored cosignatures. */
  readonly checkpoint: string;
}

/** What one log's profile index says about the name asked for. */
interface Searched {
  readonly log: ServedLog;
  readonly seal: PublishedSeal;
  readonly rows: readonly ProfileIndexRow[];
}

/** One log's current value of the profile: the latest sealed entry of that log that sets it. */
interface Candidate extends Searched {
  readonly row: ProfileIndexRow;
  readonly value: ProfileValue;
  /** The bytes of the entry that set it (read once: the answer carries them). */
  readonly entry: Uint8Array;
  /** The seal the entry is proven against, and the proof: read with the entry, in one statement. */
  readonly proving: CosignedSeal;
  readonly proof: InclusionAnswer;
}

/**
 * Profiles of this portal's own log and of every mirror (federation.md "Query", "Which value is
 * current"; query.md): in each log, the value set by the latest SEALED entry that set or deleted the
 * profile — proven, so a client needs to trust nothing but that log's key and the cosigners. A
 * MoveAccount ends its account's profiles in the log it closes (the index marks them deleted), so a
 * log the account moved away from offers no value. Among the logs that offer one, a Master or
 * Personal Profile is served from the log with the highest `Sequence` (they never go back: that is
 * the current one, wherever the account lives now); ties, and other profiles, go to the first log
 * in order — `self`, then the mirrors by peer id (a device connected to accounts of two portals is
 * in both logs).
 *
 * A device may be connected to two accounts (mesh-model.md "Persistence model"): unless the name
 * is an `mmm:<udf>:<account>` URI, every account is considered and the most recently set value of
 * an account that still has the profile wins; it is "deleted" only when every account deleted it.
 * A short UDF that matches two profiles — in any of the logs — is refused as ambiguous.
 */
@Injectable()
export class ProfileService {
  /** Decoded values by entry content: one per service, shared by its requests. */
  private readonly values = new ProfileValues();
  /** The answers computed from the current log heads (profile-answers.ts). */
  private readonly answers: ProfileAnswers<ProfileAnswer>;

  constructor(private readonly logs: LogsService) {
    this.answers = new ProfileAnswers<ProfileAnswer>(() => logs.heldSnapshot());
  }

  async profile(name: string): Promise<ProfileAnswer> {
    const { logs, quorum, snapshot } = await this.logs.all();
    const kept = this.answers.get(snapshot, name);
    if (kept !== undefined) return kept;
    const found = await this.find(name, logs, quorum);
    this.answers.set(snapshot, name, found);
    return found;
  }

  private async find(name: string, logs: readonly ServedLog[], quorum: number): Promise<ProfileAnswer> {
    const wanted = parseProfileName(name);
    // Every log's index at once (one statement each), kept in search order.
    const found = await Promise.all(
      logs.map(async (log): Promise<Searched | undefined> => {
        const seal = await log.latestSeal();
        if (seal === undefined) return undefined;
        const rows = (await log.profileRows(wanted.prefix, seal.size, wanted.account)).filter((r) =>
          matches(wanted.udf, r.id),
        );
        return { log, seal, rows };
      }),
    );
    const searched = found.filter((s): s is Searched => s !== undefined);
    if (searched.length === 0)
      throw new QueryError('profile.not-found', `no profile is sealed yet: no log has a seal`);
    const ids = new Set(searched.flatMap((s) => s.rows.map((r) => r.id)));
    if (ids.size > 1) {
      throw new QueryError(
        'profile.bad-id',
        `${wanted.udf.text} matches ${ids.size} profiles: give more of its characters`,
      );
    }
    const candidates: Candidate[] = [];
    for (const s of searched) {
      const row = latest(s.rows.filter((r) => r.state === 'set'));
      if (row !== undefined) {
        // The proving seal first (from the log heads, no statement when they are fresh), so that
        // the entry and its proof are read together; a candidate that loses wasted one proof.
        const proving = await s.log.provingSeal(row.index, quorum, s.seal);
        const { entry, proof } = await s.log.entryWithProof(row.index, proving.seal);
        candidates.push({ ...s, row, entry, proving, proof, value: this.valueIn(s.log, row, entry) });
      }
    }
    const current = candidates.reduce<Candidate | undefined>(
      (best, c) => (best === undefined || c.value.sequence > best.value.sequence ? c : best),
      undefined,
    );
    if (current !== undefined) return answer(current);
    const scope = wanted.account === undefined ? '' : ` of account ${wanted.account}`;
    const deleted = searched.find((s) => s.rows.length > 0);
    if (deleted !== undefined) {
      const row = latest(deleted.rows)!;
      const record = decodeRecord(await deleted.log.entry(row.index));
      const how = record.operation === 'MoveAccount' ? `ended by a move to ${record.to}` : 'deleted';
      throw new QueryError(
        'profile.not-found',
        `profile ${row.id}${scope} was ${how} by entry ${row.index} of log ${deleted.log.name} (checkpoint size ${deleted.seal.size})`,
      );
    }
    const sizes = searched.map((s) => `${s.log.name} ${s.seal.size}`).join(', ');
    throw new QueryError(
      'profile.not-found',
      `no sealed entry sets profile ${wanted.udf.text}${scope} (checkpoint sizes: ${sizes})`,
    );
  }

  /** The signed value `entry` (of `row`) gives the profile; a corrupt index is an internal error. */
  private valueIn(log: ServedLog, row: ProfileIndexRow, entry: Uint8Array): ProfileValue {
    // The index says this entry set the profile; its bytes must agree, or the index is corrupt.
    const signed = this.values.of(entry, row.id);
    if (signed === undefined)
      throw new Error(
        `the profile index of log ${log.name} names entry ${row.index} for ${row.id}, which does not set it`,
      );
    return signed;
  }
}

function answer(current: Candidate): ProfileAnswer {
  const { log, row } = current;
  return {
    log: log.name,
    id: row.id,
    account: row.account,
    profile: current.value.jws,
    index: row.index,
    entry: toBase64(current.entry),
    proof: current.proof,
    checkpoint: current.proving.checkpoint,
  };
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
