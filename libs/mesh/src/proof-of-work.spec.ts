import { parseUdf } from '@cryptomesh/crypto/portable';
import {
  checkProofOfWork,
  proofOfWorkLevel,
  proofOfWorkShows,
  proofOfWorkUdf,
  solveProofOfWork,
  solveProofOfWorkAsync,
  isMeshError,
} from '@cryptomesh/mesh';

// Found once by solveProofOfWork(BODY, 1, { random: zeros }) (~330k attempts, 4 s): a known answer.
const BODY = 'MA2G-25YY-HEYO-ZNH2-PKPY-PJQ3-HY67';
const LEVEL_1_NONCE = '00000000000000005159f';
const zeros = (n: number) => new Uint8Array(n);
// Found by trying prefixes of one repeated byte: this one reaches level 1 at counter 0x32f9, the
// 13,050th attempt.
const byte96 = (n: number) => new Uint8Array(n).fill(96);
const QUICK_NONCE = '606060606060606032f9';

describe('proof of work (UDF draft §5.1.3 compression)', () => {
  it('level 0: any nonce; the solver returns the first', () => {
    const nonce = solveProofOfWork(BODY, 0, { random: zeros });
    expect(nonce).toBe('00000000000000000');
    expect(() => checkProofOfWork(BODY, nonce, 0)).not.toThrow();
  });

  it('level 1: the known nonce shows it, in the UDF type byte too', () => {
    expect(proofOfWorkLevel(BODY, LEVEL_1_NONCE)).toBe(1);
    expect(parseUdf(proofOfWorkUdf(BODY, LEVEL_1_NONCE)).type).toBe(96 + 1);
    expect(() => checkProofOfWork(BODY, LEVEL_1_NONCE, 1)).not.toThrow();
  });

  it('refuses an insufficient nonce, and the same nonce for another body', () => {
    for (const [body, nonce] of [
      [BODY, '00000000000000005159e'],
      ['MA2G-OTHER-BODY', LEVEL_1_NONCE],
    ] as const) {
      expect(proofOfWorkLevel(body, nonce)).toBe(0);
      expect(parseUdf(proofOfWorkUdf(body, nonce)).type).toBe(96);
      let error: unknown;
      try {
        checkProofOfWork(body, nonce, 1);
      } catch (e) {
        error = e;
      }
      expect(isMeshError(error, 'pow.insufficient')).toBe(true);
    }
  });

  it('proofOfWorkShows: always at level 0, never without a nonce above it, else the level shown', () => {
    expect(proofOfWorkShows(BODY, undefined, 0)).toBe(true);
    expect(proofOfWorkShows(BODY, null, 1)).toBe(false);
    expect(proofOfWorkShows(BODY, LEVEL_1_NONCE, 1)).toBe(true);
    expect(proofOfWorkShows(BODY, LEVEL_1_NONCE, 2)).toBe(false);
    expect(proofOfWorkShows('MA2G-OTHER-BODY', LEVEL_1_NONCE, 1)).toBe(false);
  });

  it('the solver gives up after its bound', () => {
    let error: unknown;
    try {
      solveProofOfWork(BODY, 1, { random: zeros, maxAttempts: 1000 });
    } catch (e) {
      error = e;
    }
    expect(isMeshError(error, 'pow.exhausted')).toBe(true);
    let bad: unknown;
    try {
      solveProofOfWork(BODY, 5);
    } catch (e) {
      bad = e;
    }
    expect(isMeshError(bad, 'input.invalid')).toBe(true);
  });

  it('the asynchronous solver finds the same nonce, and timers run while it searches', async () => {
    expect(solveProofOfWork(BODY, 1, { random: byte96 })).toBe(QUICK_NONCE);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    try {
      expect(await solveProofOfWorkAsync(BODY, 1, { random: byte96, sliceMs: 0 })).toBe(QUICK_NONCE);
    } finally {
      clearInterval(ticker);
    }
    // 13,050 attempts are 51 looks at the clock, and at sliceMs 0 each but the last gives way to
    // the timers: a solver that held the thread to the end would let the interval fire no more
    // than once.
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('the asynchronous solver refuses a bad level and gives up after its bound, as the other does', async () => {
    await expect(solveProofOfWorkAsync(BODY, 5)).rejects.toMatchObject({ code: 'input.invalid' });
    await expect(solveProofOfWorkAsync(BODY, 1, { random: zeros, maxAttempts: 1000 })).rejects.toMatchObject({
      code: 'pow.exhausted',
    });
    expect(await solveProofOfWorkAsync(BODY, 0, { random: zeros })).toBe('00000000000000000');
  });

  it('both solvers stop at the same bound, one attempt short of the answer or at it', async () => {
    for (const maxAttempts of [13_049, 13_050]) {
      const options = { random: byte96, maxAttempts };
      const found = maxAttempts === 13_050;
      if (found) expect(solveProofOfWork(BODY, 1, options)).toBe(QUICK_NONCE);
      else expect(() => solveProofOfWork(BODY, 1, options)).toThrow('in 13049 attempts');
      const answer = solveProofOfWorkAsync(BODY, 1, { ...options, sliceMs: 0 });
      if (found) expect(await answer).toBe(QUICK_NONCE);
      else await expect(answer).rejects.toMatchObject({ code: 'pow.exhausted' });
    }
  });
});
