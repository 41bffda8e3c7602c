// A client of the query service that trusts nothing but keys (test/integration/query-mirrors.spec.ts,
// query-federation.spec.ts): the whole-log oracle over `/logs/{peer}/…` and the check of a
// `/profiles/{udf}` answer, as docs/design/query.md "How a client verifies an answer" says.
import { isDeepStrictEqual } from 'node:util';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  entryLeafHash,
  findCosigners,
  fromBase64,
  openSeal,
  verifyConsistency,
  verifyInclusion,
  verifyLog,
  type Seal,
  type VerifierKey,
} from '@cryptomesh/log';
import { decodeRecord, profileSetBy } from '@cryptomesh/mesh';
import type { BuiltLog } from './mirror-log';

export interface ProfileAnswer {
  log: string;
  id: string;
  account: string;
  profile: unknown;
  index: number;
  entry: string;
  proof: { index: number; size: number; path: string[] };
  checkpoint: string;
}

export interface Answer {
  status: number;
  body: unknown;
  type: string | null;
}

/** GET `path`: JSON bodies parsed, text bodies as text. */
export async function get(baseUrl: string, path: string): Promise<Answer> {
  const res = await fetch(`${baseUrl}${path}`);
  const type = res.headers.get('content-type');
  const text = await res.text();
  return { status: res.status, type, body: type?.startsWith('application/json') ? JSON.parse(text) : text };
}

/** GET `path`, which MUST answer 200. */
export async function getOk<T>(baseUrl: string, path: string): Promise<T> {
  const res = await get(baseUrl, path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

/** The names of the `trusted` witnesses with a valid cosignature on `checkpoint`, sorted. */
export function cosigners(checkpoint: string, trusted: readonly VerifierKey[]): string[] {
  return findCosigners(checkpoint, trusted, nodeEd25519)
    .valid.map((c) => c.key.name)
    .sort();
}

/**
 * The whole-log oracle over `/logs/{name}/…` with nothing but the log's verifier key: the checkpoint
 * opens, the parts verify (`verifyLog`), the entries are exactly `log`'s, every entry's inclusion
 * proof against the checkpoint's root and every pair of successive seals' consistency proof verify.
 * Throws on any failure; resolves to the checkpoint and its seal.
 */
export async function verifyServedLog(
  baseUrl: string,
  name: string,
  log: BuiltLog,
): Promise<{ checkpoint: string; head: Seal }> {
  const key = log.logKey.verifierKey;
  const checkpoint = (await get(baseUrl, `/logs/${name}/checkpoint`)).body as string;
  const head = openSeal(checkpoint, key, nodeEd25519, log.origin).seal;
  const notes: string[] = [];
  const entries: Uint8Array[] = [];
  for (let n = 0; n <= head.part.index; n++) {
    const part = await getOk<{ first: number; size: number; seal: string }>(
      baseUrl,
      `/logs/${name}/parts/${n}`,
    );
    notes.push(part.seal);
    const page = await getOk<{ entries: string[] }>(
      baseUrl,
      `/logs/${name}/entries?start=${part.first}&end=${part.size}`,
    );
    entries.push(...page.entries.map((e) => fromBase64(e)));
  }
  if (entries.length !== log.entries.length || entries.some((e, i) => !same(e, log.entries[i]!)))
    throw new Error(`the entries of ${name} are not those stored`);
  const seals = notes.map((note) => openSeal(note, key, nodeEd25519, log.origin).seal);
  const verdict = await verifyLog(
    seals.map((seal, i) => ({ entries: entries.slice(seal.part.first, seal.size), seal: notes[i]! })),
    { logKey: key, ed25519: nodeEd25519, origin: log.origin },
  );
  if (!verdict.ok) throw verdict.violation;
  for (let i = 0; i < head.size; i++) {
    const proof = await getOk<{ path: string[] }>(
      baseUrl,
      `/logs/${name}/proofs/inclusion?index=${i}&size=${head.size}`,
    );
    verifyInclusion(
      i,
      head.size,
      entryLeafHash(entries[i]!),
      proof.path.map((p) => fromBase64(p)),
      head.root,
    );
  }
  for (let i = 1; i < seals.length; i++) {
    const [a, b] = [seals[i - 1]!, seals[i]!];
    const proof = await getOk<{ path: string[] }>(
      baseUrl,
      `/logs/${name}/proofs/consistency?from=${a.size}&to=${b.size}`,
    );
    verifyConsistency(
      a.size,
      b.size,
      proof.path.map((p) => fromBase64(p)),
      a.root,
      b.root,
    );
  }
  return { checkpoint, head };
}

/**
 * A client's check of a `/profiles/{udf}` answer for profile `id` against `log`'s key: the checkpoint
 * opens, the proof is for its size and verifies against its root, the entry carries `profile`.
 * Throws on any failure; resolves to the names of the `trusted` cosigners of the checkpoint.
 */
export function verifyProfileAnswer(
  answer: ProfileAnswer,
  log: BuiltLog,
  id: string,
  trusted: readonly VerifierKey[],
): string[] {
  const { seal } = openSeal(answer.checkpoint, log.logKey.verifierKey, nodeEd25519, log.origin);
  if (answer.proof.index !== answer.index || answer.proof.size !== seal.size)
    throw new Error(`the proof is not for entry ${answer.index} in the checkpoint's tree`);
  const entry = fromBase64(answer.entry);
  verifyInclusion(
    answer.index,
    seal.size,
    entryLeafHash(entry),
    answer.proof.path.map((p) => fromBase64(p)),
    seal.root,
  );
  const signed = profileSetBy(decodeRecord(entry), id);
  if (answer.id !== id || !isDeepStrictEqual(signed?.jws, answer.profile))
    throw new Error(`the entry does not carry the profile ${id} served`);
  return cosigners(answer.checkpoint, trusted);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
