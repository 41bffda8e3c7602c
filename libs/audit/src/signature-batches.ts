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
  return judged(await firstRun(verifyBatch, run, chunkSize), run, restart);
}

/** Some verdict of a deferred re-check was false (`withDeferredSignatures`): judge the part again. */
export class SignaturesRefused extends Error {
  constructor(refused: number, checks: number) {
    super(`${refused} of ${checks} signatures did not verify: the part is to be judged again`);
    this.name = 'SignaturesRefused';
  }
}

/**
 * `withBatchedSignatures`, but a re-check that `passed` with every signature taken as valid is
 * answered at once, its verdicts still coming: `signatures` resolves when every one is true, and
 * rejects with `SignaturesRefused` when one is not (or with the pool's error). The caller MUST NOT
 * keep anything of the result — store it, sign for it, or store what it built on it — before
 * `signatures` resolves; on `SignaturesRefused` it judges the same input again with
 * `withBatchedSignatures`, which gives the in-thread result. A re-check that failed waits for its
 * verdicts and is judged as `withBatchedSignatures` judges it (`signatures` then resolves): a
 * violation found while a signature was only assumed valid may not be the first one.
 */
export async function withDeferredSignatures<T>(
  verifyBatch: VerifyBatch,
  run: (verdicts: SignatureVerdicts) => Promise<T>,
  restart: () => void,
  passed: (result: T) => boolean,
  chunkSize = DEFAULT_SIGNATURE_CHUNK,
): Promise<{ result: T; signatures: Promise<void> }> {
  const first = await firstRun(verifyBatch, run, chunkSize);
  if (!passed(first.result))
    return { result: await judged(first, run, restart), signatures: Promise.resolve() };
  const signatures = first.verdicts.then((verdicts) => {
    const refused = verdicts.filter((v) => !v).length;
    if (refused > 0) throw new SignaturesRefused(refused, verdicts.length);
  });
  // Awaited by the caller when it keeps the result; until then a rejection must not be unhandled.
  signatures.catch(() => undefined);
  return { result: first.result, signatures };
}

interface FirstRun<T> {
  readonly result: T;
  readonly checks: readonly SignatureCheck[];
  /** Every check's verdict, in order; rejects when the pool does. */
  readonly verdicts: Promise<boolean[]>;
}

/** Step 1 of `withBatchedSignatures`: the run with every signature taken as valid, its checks sent. */
async function firstRun<T>(
  verifyBatch: VerifyBatch,
  run: (verdicts: SignatureVerdicts) => Promise<T>,
  chunkSize: number,
): Promise<FirstRun<T>> {
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
    // Awaited later (or never, when the run throws); until then a rejection must not be unhandled.
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
  const verdicts = Promise.all(pending).then((answers) => answers.flat());
  verdicts.catch(() => undefined);
  return { result, checks, verdicts };
}

/** Steps 2 and 3 of `withBatchedSignatures`. */
async function judged<T>(
  first: FirstRun<T>,
  run: (verdicts: SignatureVerdicts) => Promise<T>,
  restart: () => void,
): Promise<T> {
  const verdicts = await first.verdicts;
  if (verdicts.every((v) => v)) return first.result;
  restart();
  const known = new VerdictTable(first.checks, verdicts);
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
