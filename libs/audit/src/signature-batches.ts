import type { SignatureCheck, SignatureVerdicts } from '@cryptomesh/crypto/portable';

/**
 * The port through which an auditor has signatures verified elsewhere (a pool of worker threads,
 * issue #17). It MUST resolve with exactly one verdict per check, in order, each the plain EdDSA
 * verification of exactly that check's bytes (RFC 8032, as OpenSSL does it: `crypto.verify`). It MAY
 * reject (a worker crashed, the pool closed): nothing is then judged, and the caller's part fails
 * as any transient error does (retried from the stored head).
 */
export type VerifyBatch = (checks: readonly SignatureCheck[]) => Promise<readonly boolean[]>;

/** Checks sent to the pool at a time: small enough that the workers start while the re-check runs. */
export const DEFAULT_SIGNATURE_CHUNK = 128;

/**
 * Runs a re-check (`run`, deterministic for given signature verdicts) with its signatures verified
 * through `verifyBatch`, in parallel with the re-check itself:
 *
 * 1. `run` goes once with every signature it asks about taken as valid; each check is recorded and
 *    sent to the pool in chunks of `chunkSize` as it comes, so the workers verify while the rule
 *    re-check goes on in this thread, in order.
 * 2. When every verdict is `true`, the first run asked exactly the questions a run with the real
 *    verdicts asks, and got the same answers: its result is the result, unchanged.
 * 3. Otherwise (a forged signature: only a hostile peer or a compromised gateway gets here) `restart`
 *    discards what the first run staged and `run` goes again with the pool's verdicts, each trusted
 *    only for exactly the bytes it was computed on; any other signature is verified in-thread. The
 *    result is that of an in-thread re-check: the same violation, at the same entry.
 *
 * Rejects when `verifyBatch` or `run` rejects (nothing is judged then).
 */
export async function withBatchedSignatures<T>(
  verifyBatch: VerifyBatch,
  run: (verdicts: SignatureVerdicts) => Promise<T>,
  restart: () => void,
  chunkSize = DEFAULT_SIGNATURE_CHUNK,
): Promise<T> {
  const checks: SignatureCheck[] = [];
  const pending: Array<Promise<readonly boolean[]>> = [];
  let chunk: SignatureCheck[] = [];
  const flush = (): void => {
    if (chunk.length === 0) return;
    const sent = chunk;
    chunk = [];
    const verdicts = verifyBatch(sent).then((answer) => {
      if (answer.length !== sent.length)
        throw new Error(`the signature pool answered ${answer.length} verdicts for ${sent.length} checks`);
      return answer;
    });
    // Awaited below; until then a rejection must not count as unhandled.
    verdicts.catch(() => undefined);
    pending.push(verdicts);
  };
  let result: T;
  try {
    result = await run((check) => {
      checks.push(check);
      chunk.push(check);
      if (chunk.length >= chunkSize) flush();
      return true;
    });
  } finally {
    flush();
  }
  const verdicts = (await Promise.all(pending)).flat();
  if (verdicts.every((v) => v)) return result;
  restart();
  const known = new VerdictTable(checks, verdicts);
  return run((check) => known.verdict(check));
}

/** Verdicts by the exact bytes they were computed on. */
class VerdictTable {
  private readonly bySignature = new Map<string, Array<{ check: SignatureCheck; verdict: boolean }>>();

  constructor(checks: readonly SignatureCheck[], verdicts: readonly boolean[]) {
    checks.forEach((check, i) => {
      const id = signatureId(check.signature);
      const same = this.bySignature.get(id) ?? [];
      same.push({ check, verdict: verdicts[i]! });
      this.bySignature.set(id, same);
    });
  }

  verdict(check: SignatureCheck): boolean | undefined {
    const same = this.bySignature.get(signatureId(check.signature));
    return same?.find((known) => sameCheck(known.check, check))?.verdict;
  }
}

function signatureId(signature: Uint8Array): string {
  return String.fromCharCode(...signature);
}

function sameCheck(a: SignatureCheck, b: SignatureCheck): boolean {
  return (
    a.algorithm === b.algorithm &&
    sameBytes(a.signature, b.signature) &&
    sameBytes(a.publicKey, b.publicKey) &&
    sameBytes(a.message, b.message)
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
