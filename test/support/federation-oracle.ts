import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  MerkleTree,
  entryLeafHash,
  findCosigners,
  fromBase64,
  openSeal,
  parseVerifierKey,
  verifyInclusion,
  type Seal,
  type VerifierKey,
} from '@cryptomesh/log';

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A portal as the tests know it from portals.json. */
export interface KnownPortal {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey: string;
  readonly queryUrl: string;
  readonly gatewayUrl: string;
}

/** One log as a query service serves it, checked against its portal's log key. */
export interface FetchedLog {
  readonly checkpoint: string;
  readonly seal: Seal;
  readonly entries: Uint8Array[];
}

/** The fetch the oracle reads with: the platform's, or one that trusts a federation's local CA. */
export type OracleFetch = (url: string, init?: RequestInit) => Promise<Response>;

async function get(url: string, fetchImpl: OracleFetch = fetch): Promise<Response> {
  return fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
}

/**
 * Fetches log `name` (`self` or a peer id) from `queryUrl` — its checkpoint and every entry — and
 * checks the checkpoint's signature with `owner`'s log key and the entries against its root.
 * Resolves undefined while that log has no checkpoint there. Throws on any failure.
 */
export async function fetchLog(
  queryUrl: string,
  name: string,
  owner: KnownPortal,
  fetchImpl?: OracleFetch,
): Promise<FetchedLog | undefined> {
  const res = await get(`${queryUrl}/logs/${name}/checkpoint`, fetchImpl);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`${queryUrl}/logs/${name}/checkpoint: ${res.status}`);
  const checkpoint = await res.text();
  const { seal } = openSeal(checkpoint, parseVerifierKey(owner.verifierKey), nodeEd25519, owner.origin);
  const entries: Uint8Array[] = [];
  for (let start = 0; start < seal.size; start += 1000) {
    const end = Math.min(seal.size, start + 1000);
    const page = await get(`${queryUrl}/logs/${name}/entries?start=${start}&end=${end}`, fetchImpl);
    if (page.status !== 200) throw new Error(`entries ${start}-${end} of ${name}: ${page.status}`);
    const body = (await page.json()) as { entries: string[] };
    entries.push(...body.entries.map((e) => fromBase64(e)));
  }
  const tree = new MerkleTree();
  for (const entry of entries) tree.append(entry);
  if (!bytesEqual(tree.root(), seal.root))
    throw new Error(`the entries of ${name} at ${queryUrl} do not match its checkpoint`);
  return { checkpoint, seal, entries };
}

/** The ids of the trusted witnesses among `witnesses` that validly cosigned `checkpoint`. */
export function cosignersOf(checkpoint: string, witnesses: readonly KnownPortal[]): string[] {
  const keys: VerifierKey[] = witnesses.map((w) => parseVerifierKey(w.witnessKey));
  const report = findCosigners(checkpoint, keys, nodeEd25519);
  return witnesses
    .filter((w) => report.valid.some((v) => v.key.text === w.witnessKey))
    .map((w) => w.id)
    .sort();
}

/** Checks an inclusion proof of entry bytes against a checkpoint's seal. */
export function checkInclusion(
  entry: Uint8Array,
  proof: { index: number; size: number; path: string[] },
  seal: Seal,
): void {
  verifyInclusion(
    proof.index,
    proof.size,
    entryLeafHash(entry),
    proof.path.map((p) => fromBase64(p)),
    seal.root,
  );
}

/** Polls `probe` until it resolves to something other than undefined/false, or fails with the last error. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})`}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
