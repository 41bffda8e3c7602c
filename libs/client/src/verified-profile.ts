import {
  accountUdf,
  parseMeshUri,
  parseUdf,
  udfMatches,
  type FlattenedJws,
} from '@cryptomesh/crypto/portable';
import type { Seal } from '@cryptomesh/log';
import {
  checkProfileSigner,
  decodeRecord,
  isMeshError,
  profileSetBy,
  type MasterProfile,
  type PersonalProfile,
  type ProfileKind,
  type ProfileView,
  type SignedProfile,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import {
  verifyCheckpoint,
  storeCheckpointMemory,
  type CheckpointMemory,
  type RememberedCheckpoint,
} from './checkpoint-verifier';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import type { FetchLike } from './portal-http';
import { checkInclusion } from './inclusion-check';
import { checkCurrent, storeProfileMemory, type ProfileMemory } from './profile-memory';
import { QueryClient, type ProfileAnswer, type ProofSource } from './query-client';
import { logOwner, type PinnedPortal, type PortalTrust } from './trust';

/** A profile read from a portal after every check of client.md "Verified reads". */
export interface VerifiedProfile {
  /** The profile identifier (canonical UDF). */
  readonly id: string;
  /** The id of the portal whose log holds the entry (the owner, not necessarily the one asked). */
  readonly log: string;
  /** The account UDF of the entry's record. */
  readonly account: string;
  readonly signed: SignedProfile;
  /** The index of the entry that set it in `log`. */
  readonly index: number;
  /** The checkpoint the entry was proven against (signed, cosigned to quorum, consistent). */
  readonly checkpoint: Seal;
  /** Where its inclusion proof came from: built from the log's tiles, or served by the query service. */
  readonly proofSource: 'tiles' | 'json';
}

export interface FetchProfileOptions {
  readonly trust: PortalTrust;
  /** The portal whose query service is asked: MUST be `trust.home` or one of `trust.peers`. */
  readonly via: PinnedPortal;
  /** Holds `checkpoints/<log id>.json`, read and advanced here. */
  readonly store: ClientStore;
  readonly fetchImpl?: FetchLike;
  readonly timeoutMs?: number;
  /** The kind the caller expects; another kind is `verify.profile`. */
  readonly kind?: ProfileKind;
  /**
   * Master and Personal Profiles the caller already trusts (its own, from profile.json): they decide
   * the signing rule of Personal and Application Profiles before any further read, so they MUST be
   * profiles the caller verified itself.
   */
  readonly known?: ProfileView;
  /**
   * The value the caller waits for (what the gateway served): an answer with another JWS is
   * `log.behind` before any check, because an older value need not satisfy the signing rule under
   * the caller's newer `known` profiles. Applies to the profile asked for, not to nested reads.
   */
  readonly expected?: FlattenedJws;
  /**
   * Where the inclusion and consistency proofs come from (`ProofSource`; default `auto`: built from
   * the log's tiles when it serves them, else the query service's answers). Either is verified.
   */
  readonly proofs?: ProofSource;
}

/** Bound on nested reads: an Application Profile needs its Personal, which needs its Master. */
const MAX_DEPTH = 2;

/**
 * `GET /profiles/{udf}` from `via`'s query service, then every check of client.md "Verified
 * reads", in order — a failure is a ClientError naming `via` (who served it) and the check:
 *  1–3. the checkpoint of the log the answer names (`self` = `via`'s own, or a peer id) —
 *     `verify.checkpoint-signature`, `verify.quorum`, `verify.consistency` (verifyCheckpoint);
 *  4. `verify.inclusion` — the entry's RFC 9162 inclusion proof in the checkpoint's tree leads to
 *     its root: built from the log's tiles, or the served one (`options.proofs`), which must then
 *     have `proof.index = index` and `proof.size` = the checkpoint's size;
 *  5. `verify.profile` — the entry is a Mesh record of `account` that sets profile `id`
 *     (`profileSetBy`) to exactly the served JWS; `id` matches `udf` (a UDF or `mmm:` URI; with an
 *     account, the record's account is that account's UDF); the signing rule holds
 *     (`checkProfileSigner`). Master and Device Profiles sign themselves. A Personal Profile needs
 *     its Master Profile and an Application Profile its Personal Profile: taken from `known`, else
 *     from the entry's own record (CreateAccount carries the Master, ConnectComplete the Personal),
 *     else read from `via` with these same checks. Limit: that Master is the CURRENT one, so a
 *     Personal Profile signed by an administrator key that a later Master Profile dropped fails;
 *     and no single answer proves that no later sealed entry changed the profile (query.md).
 * `verify.answer` for an answer of the wrong shape or naming a log that is not pinned;
 * `usage.invalid` for a `udf` that is neither; `portal.*` as QueryClient.
 * The checkpoint memory is advanced only after ALL checks passed (of nested reads too): a failed
 * read changes no stored state.
 */
export async function fetchVerifiedProfile(
  udf: string,
  options: FetchProfileOptions,
): Promise<VerifiedProfile> {
  const memory = deferredMemory(storeCheckpointMemory(options.store), storeProfileMemory(options.store));
  const verified = await read(udf, options, memory, 0);
  await memory.commit();
  return verified;
}

/**
 * The checkpoints and the Master and Personal Profiles a read verified, kept until `commit`, so that
 * one read commits all or nothing.
 */
interface ReadMemory extends CheckpointMemory {
  readonly profiles: ProfileMemory;
  /** A verified Master or Personal Profile to remember on commit. */
  seenProfile(id: string, sequence: number, log: string): void;
  commit(): Promise<void>;
  /** The QueryClient of each query URL asked in this read: nested reads share its tiles. */
  readonly queries: Map<string, QueryClient>;
}

function deferredMemory(base: CheckpointMemory, profiles: ProfileMemory): ReadMemory {
  const pending = new Map<string, RememberedCheckpoint>();
  const seen: Array<{ id: string; sequence: number; log: string }> = [];
  return {
    get: async (logId) => pending.get(logId) ?? (await base.get(logId)),
    put: (logId, value) => {
      const old = pending.get(logId);
      if (old === undefined || old.size < value.size) pending.set(logId, value);
      return Promise.resolve();
    },
    profiles,
    queries: new Map(),
    seenProfile: (id, sequence, log) => void seen.push({ id, sequence, log }),
    commit: async () => {
      for (const [logId, value] of pending) await base.put(logId, value);
      for (const { id, sequence, log } of seen) await profiles.seen(id, sequence, log);
    },
  };
}

/** The asked name: a UDF or `mmm:<udf>[:<account>]`; `usage.invalid` otherwise. */
function askedName(udf: string): { fingerprint: string; account?: string } {
  try {
    if (/^mmm:/i.test(udf)) {
      const uri = parseMeshUri(udf);
      return {
        fingerprint: uri.fingerprint,
        ...(uri.account === undefined ? {} : { account: accountUdf(uri.account.address) }),
      };
    }
    parseUdf(udf);
    return { fingerprint: udf };
  } catch (cause) {
    throw new ClientError('usage.invalid', `${JSON.stringify(udf)} is not a profile UDF or mmm: URI`, {
      cause,
    });
  }
}

async function read(
  udf: string,
  options: FetchProfileOptions,
  memory: ReadMemory,
  depth: number,
): Promise<VerifiedProfile> {
  const { trust, via } = options;
  const asked = askedName(udf);
  let query = memory.queries.get(via.queryUrl);
  if (query === undefined) {
    query = new QueryClient(via.queryUrl, options.fetchImpl, {
      portal: via.id,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    memory.queries.set(via.queryUrl, query);
  }
  const answer = await query.profile(udf);
  if (depth === 0 && options.expected !== undefined && !sameJws(answer.profile, options.expected))
    throw new ClientError(
      'log.behind',
      `${via.id} does not serve the expected value of ${answer.id} yet (its log shows entry ${answer.index})`,
      {
        portal: via.id,
        check: 'profile in the log',
        evidence: { id: answer.id, logged: { ...answer.profile } },
      },
    );
  const owner = answer.log === 'self' ? via : logOwner(trust, answer.log);
  if (owner === undefined)
    throw new ClientError(
      'verify.answer',
      `${via.id} served ${answer.id} from log ${answer.log}, which is not a pinned portal of the federation`,
      {
        portal: via.id,
        check: 'log owner',
        evidence: { log: answer.log, peers: trust.peers.map((p) => p.id) },
      },
    );
  const checkpoint = await verifyCheckpoint(answer.checkpoint, {
    owner,
    trust,
    query,
    logName: answer.log,
    memory,
    ...(options.proofs === undefined ? {} : { proofs: options.proofs }),
  });
  const proof = await query.inclusionPath(
    answer.log,
    answer.index,
    checkpoint.size,
    options.proofs ?? 'auto',
    answer.proof.path,
  );
  const entry = checkInclusion(answer, proof, checkpoint, via.id, owner.id);
  const signed = await checkProfile(answer, entry, asked, { options, memory, depth, owner: owner.id });
  // Check 6 (client.md "Current values"): a genuine but superseded Master or Personal Profile.
  const { profile } = signed;
  if (profile.kind === 'master' || profile.kind === 'personal') {
    checkCurrent(
      { id: profile.id, sequence: profile.sequence, log: owner.id, via: via.id },
      await memory.profiles.get(profile.id),
    );
    memory.seenProfile(profile.id, profile.sequence, owner.id);
  }
  return {
    id: answer.id,
    log: owner.id,
    account: answer.account,
    signed,
    index: answer.index,
    checkpoint,
    proofSource: proof.source,
  };
}

const sameJws = (a: FlattenedJws, b: FlattenedJws): boolean =>
  a.protected === b.protected && a.payload === b.payload && a.signature === b.signature;

interface ProfileCheck {
  readonly options: FetchProfileOptions;
  readonly memory: ReadMemory;
  readonly depth: number;
  readonly owner: string;
}

/** Check 5; returns the entry's signed profile. */
async function checkProfile(
  answer: ProfileAnswer,
  entry: Uint8Array,
  asked: { fingerprint: string; account?: string },
  check: ProfileCheck,
): Promise<SignedProfile> {
  const portal = check.options.via.id;
  const fail = (why: string, cause?: unknown, extra: Record<string, unknown> = {}) =>
    new ClientError(
      'verify.profile',
      `${portal} served profile ${answer.id} (entry ${answer.index} of ${check.owner}'s log): ${why}`,
      {
        portal,
        check: 'profile',
        evidence: {
          log: check.owner,
          index: answer.index,
          id: answer.id,
          profile: answer.profile,
          entry: answer.entry,
          ...extra,
        },
        cause,
      },
    );
  let record: TransactionRecord;
  try {
    record = decodeRecord(entry);
  } catch (cause) {
    if (!isMeshError(cause)) throw cause;
    throw fail(`the entry is not a Mesh record (${cause.code})`, cause);
  }
  if (record.account !== answer.account)
    throw fail(`the entry is a record of account ${record.account}, not ${answer.account}`);
  if (asked.account !== undefined && record.account !== asked.account)
    throw fail(
      `the entry is a record of account ${record.account}, not of the account asked (${asked.account})`,
    );
  const signed = profileSetBy(record, answer.id);
  if (signed === undefined) throw fail(`the entry (${record.operation}) does not set this profile`);
  const { jws } = signed;
  if (
    jws.protected !== answer.profile.protected ||
    jws.payload !== answer.profile.payload ||
    jws.signature !== answer.profile.signature
  )
    throw fail('the served JWS is not the one the entry carries', undefined, { logged: jws });
  if (!udfMatches(asked.fingerprint, signed.profile.id))
    throw fail(`it is not the profile asked for (${asked.fingerprint})`);
  const kind = check.options.kind;
  if (kind !== undefined && signed.profile.kind !== kind)
    throw fail(`it is a ${signed.profile.kind} profile, not a ${kind} profile`);
  const view = await signerView(signed, record, check);
  try {
    await checkProfileSigner(signed, view);
  } catch (cause) {
    if (!isMeshError(cause)) throw cause;
    throw fail(`its signing rule fails: ${cause.message}`, cause, { rule: cause.code });
  }
  return signed;
}

/**
 * The view the signing rule of `signed` needs (000 §6.4): nothing for Master and Device Profiles;
 * the Master Profile of a Personal Profile, the Personal Profile of an Application Profile — from
 * the caller, the record itself, or a nested verified read (at most MAX_DEPTH deep).
 */
async function signerView(
  signed: SignedProfile,
  record: TransactionRecord,
  check: ProfileCheck,
): Promise<ProfileView> {
  const known = check.options.known;
  const inRecord = (id: string): SignedProfile | undefined => {
    if (record.operation === 'CreateAccount')
      return [record.master, record.personal].find((p) => p.profile.id === id);
    if (record.operation === 'ConnectComplete')
      return record.personal.profile.id === id ? record.personal : undefined;
    return undefined;
  };
  const nested = async <K extends 'master' | 'personal'>(id: string, kind: K) => {
    const fromRecord = inRecord(id)?.profile;
    if (fromRecord?.kind === kind) return fromRecord as Extract<MasterProfile | PersonalProfile, { kind: K }>;
    if (check.depth >= MAX_DEPTH) return undefined;
    const verified = await read(id, { ...check.options, kind }, check.memory, check.depth + 1);
    return verified.signed.profile as Extract<MasterProfile | PersonalProfile, { kind: K }>;
  };
  const { profile } = signed;
  if (profile.kind === 'personal') {
    const master = known?.master(profile.master) ?? (await nested(profile.master, 'master'));
    return { master: (id) => (id === master?.id ? master : undefined), personal: () => undefined };
  }
  if (profile.kind === 'application') {
    const personal = known?.personal(profile.personal) ?? (await nested(profile.personal, 'personal'));
    return { master: () => undefined, personal: (id) => (id === personal?.id ? personal : undefined) };
  }
  return { master: () => undefined, personal: () => undefined };
}
