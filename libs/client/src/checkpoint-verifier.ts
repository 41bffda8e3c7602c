import { nobleEd25519 } from '@cryptomesh/crypto/portable';
import {
  findCosigners,
  fromBase64,
  HASH_SIZE,
  isLogError,
  parseVerifierKey,
  toBase64,
  verifyConsistency,
  type Hash,
  type Seal,
} from '@cryptomesh/log';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import type { ProofSource, QueryClient } from './query-client';
import { openWithKeyChain, transitionsFrom } from './log-key-chain';
import { cosignerKeysFor, logKeyOf, type PinnedPortal, type PortalTrust } from './trust';

/** The last checkpoint this client accepted of one log: its size, root (base64) and note text. */
export interface RememberedCheckpoint {
  readonly size: number;
  readonly root: string;
  readonly note: string;
}

/**
 * The last checkpoint seen of each log, by log id (the owner portal's id). `put` is only called by
 * verifyCheckpoint, with a checkpoint that passed every check and is larger than the remembered
 * one: the memory never moves back (client.md "State"). `put` MUST be atomic; `get` MUST throw
 * `state.corrupt` rather than return a value it cannot vouch for.
 */
export interface CheckpointMemory {
  get(logId: string): Promise<RememberedCheckpoint | undefined>;
  put(logId: string, value: RememberedCheckpoint): Promise<void>;
}

/** `checkpoints/<log id>.json`: the id is URI-encoded so that no id can name another document. */
export function checkpointDocument(logId: string): string {
  return `checkpoints/${encodeURIComponent(logId)}.json`;
}

function readRemembered(name: string, text: string): RememberedCheckpoint {
  const corrupt = (why: string) =>
    new ClientError('state.corrupt', `${name}: ${why}`, { check: 'local state' });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  const { size, root, note } = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  if (
    !Number.isSafeInteger(size) ||
    (size as number) < 0 ||
    typeof root !== 'string' ||
    typeof note !== 'string'
  )
    throw corrupt('not {size, root, note}');
  try {
    if (fromBase64(root, 'root', 'proof.invalid').length !== HASH_SIZE) throw corrupt('root is not 32 bytes');
  } catch (error) {
    if (isLogError(error)) throw corrupt('root is not base64');
    throw error;
  }
  return { size: size as number, root, note };
}

/**
 * A CheckpointMemory over a ClientStore (`checkpoints/<log id>.json`). `put` re-reads the document
 * and writes only when the new size is larger, so that even a racing second writer (two commands
 * at once) cannot move it back; the store's atomic write leaves the old or the new document after
 * a crash.
 */
export function storeCheckpointMemory(store: ClientStore): CheckpointMemory {
  const get = async (logId: string): Promise<RememberedCheckpoint | undefined> => {
    const name = checkpointDocument(logId);
    const text = await store.read(name);
    return text === undefined ? undefined : readRemembered(name, text);
  };
  return {
    get,
    async put(logId, value) {
      const old = await get(logId);
      if (old !== undefined && old.size >= value.size) return;
      await store.write(checkpointDocument(logId), `${JSON.stringify(value)}\n`);
    },
  };
}

/** What verifyCheckpoint needs besides the checkpoint's text. */
export interface CheckpointContext {
  /** The portal whose log it is: its pinned log key and origin sign the checkpoint. */
  readonly owner: PinnedPortal;
  readonly trust: PortalTrust;
  /** The query service that served the checkpoint; consistency proofs are asked of it. */
  readonly query: QueryClient;
  /** The owner's log as `query` names it: `self` when `query` is the owner's, else the owner's id. */
  readonly logName: string;
  readonly memory: CheckpointMemory;
  /** Where the consistency proof comes from (default `auto`: the log's tiles when it serves them). */
  readonly proofs?: ProofSource;
}

/** Builds the ClientError of a failed check, naming the serving portal and the log. */
type Fail = (
  code: ClientError['code'],
  check: string,
  message: string,
  evidence: Record<string, unknown>,
  cause?: unknown,
) => ClientError;

/**
 * Verifies a checkpoint a query service served, in the order of client.md "Verified reads" 1–3,
 * and returns its seal:
 *  1. `verify.checkpoint-signature` — it opens (`openSeal`) with the owner's pinned log key and origin;
 *  2. `verify.quorum` — at least `trust.quorum` distinct valid cosignatures by the pinned witness
 *     keys of every portal of the federation but the owner (`findCosigners`: unknown keys and the
 *     owner's own witness key do not count);
 *     — and a valid cosignature by each of `trust.requiredWitnesses` (outside witnesses);
 *  3. `verify.consistency` — with the remembered checkpoint of the owner's log: same size ⇒ same
 *     root; a larger one ⇒ a consistency proof old → new (built from the log's tiles, or asked of
 *     `query`: `context.proofs`) verifies, and it is remembered;
 *     a smaller one ⇒ a proof new → old verifies, and the remembered one stays.
 * Every error names the serving portal (`query.portalName`); `verify.consistency` carries both notes
 * in `evidence.remembered` and `evidence.served` (proof that the log showed two histories). It MUST
 * NOT change the memory unless every check passed, and never moves it back. A refused or unreachable
 * consistency request is `portal.refused` / `portal.unreachable` (not proof of a fork) and changes
 * nothing. Concurrent calls for one log are safe with storeCheckpointMemory (see there).
 */
export async function verifyCheckpoint(text: string, context: CheckpointContext): Promise<Seal> {
  const { owner, trust, query, memory } = context;
  const portal = query.portalName;
  const fail: Fail = (code, check, message, evidence, cause) =>
    new ClientError(code, `${portal} served a checkpoint of ${owner.id}'s log that ${message}`, {
      portal,
      check,
      evidence: { log: owner.id, servedBy: portal, ...evidence },
      cause,
    });

  const old = await memory.get(owner.id);
  let seal: Seal;
  try {
    seal = await openWithKeyChain(
      text,
      logKeyOf(owner),
      owner.origin,
      transitionsFrom(query, context.logName),
      old?.note,
    );
  } catch (error) {
    if (!isLogError(error)) throw error;
    throw fail(
      'verify.checkpoint-signature',
      'checkpoint signature',
      `does not open with its pinned key ${owner.verifierKey} and origin ${owner.origin}: ${error.message}`,
      { checkpoint: text, reason: error.code },
      error,
    );
  }

  const report = findCosigners(text, cosignerKeysFor(trust, owner.id), nobleEd25519);
  if (report.valid.length < trust.quorum)
    throw fail(
      'verify.quorum',
      'cosignature quorum',
      `has ${report.valid.length} valid peer cosignatures, ${trust.quorum} are required`,
      {
        checkpoint: text,
        quorum: trust.quorum,
        cosigners: report.valid.map((c) => c.key.text),
        invalid: report.invalid.map((i) => ({ key: i.key.text, reason: i.error.code })),
      },
    );

  // Outside witnesses the user pinned: each one MUST have cosigned, whatever the peers did.
  const required = (trust.requiredWitnesses ?? []).map((k) => parseVerifierKey(k));
  if (required.length > 0) {
    const cosigned = new Set(findCosigners(text, required, nobleEd25519).valid.map((c) => c.key.text));
    const missing = required.filter((k) => !cosigned.has(k.text));
    if (missing.length > 0)
      throw fail(
        'verify.quorum',
        'required witnesses',
        `lacks a valid cosignature by the required witness${missing.length > 1 ? 'es' : ''} ${missing.map((k) => k.name).join(', ')}`,
        { checkpoint: text, required: required.map((k) => k.text), missing: missing.map((k) => k.text) },
      );
  }

  if (old !== undefined) await checkConsistency(old, seal, text, context, fail);
  if (old === undefined || seal.size > old.size)
    await memory.put(owner.id, { size: seal.size, root: toBase64(seal.root), note: text });
  return seal;
}

/** Check 3 of verifyCheckpoint: `seal` (served as `text`) against the remembered checkpoint `old`. */
async function checkConsistency(
  old: RememberedCheckpoint,
  seal: Seal,
  text: string,
  context: CheckpointContext,
  fail: Fail,
): Promise<void> {
  const oldRoot = fromBase64(old.root, 'remembered root', 'proof.invalid');
  const inconsistent = (why: string, proof?: readonly string[], cause?: unknown) =>
    fail(
      'verify.consistency',
      'consistency',
      `is not consistent with the one this client saw before (size ${old.size}): ${why}`,
      {
        remembered: old.note,
        served: text,
        ...(proof === undefined ? {} : { proof }),
      },
      cause,
    );
  if (seal.size === old.size) {
    if (toBase64(seal.root) !== old.root) throw inconsistent(`same size ${seal.size}, another root`);
    return;
  }
  // RFC 9162 §2.1.4: the smaller tree must be a prefix of the larger, whichever was seen first.
  const [first, second] =
    seal.size > old.size
      ? [
          { size: old.size, root: oldRoot },
          { size: seal.size, root: seal.root },
        ]
      : [
          { size: seal.size, root: seal.root },
          { size: old.size, root: oldRoot },
        ];
  if (first.size === 0) return; // Every tree extends the empty tree; no proof to ask for.
  const answer = await context.query.consistencyPath(
    context.logName,
    first.size,
    second.size,
    context.proofs ?? 'auto',
  );
  let path: Hash[];
  try {
    path = answer.path.map((hash) => {
      const bytes = fromBase64(hash, 'consistency proof hash', 'proof.invalid');
      if (bytes.length !== HASH_SIZE) throw new RangeError(`a proof hash is ${HASH_SIZE} bytes`);
      return bytes;
    });
  } catch (error) {
    throw inconsistent('the consistency proof does not decode', answer.path, error);
  }
  try {
    verifyConsistency(first.size, second.size, path, first.root, second.root);
  } catch (error) {
    if (!isLogError(error)) throw error;
    throw inconsistent(
      `the consistency proof from ${first.size} to ${second.size} fails: ${error.message}`,
      answer.path,
      error,
    );
  }
}
