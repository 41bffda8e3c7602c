import { createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { generateKeyPair, nodeEd25519, nodeEd448, type SignatureCheck } from '@cryptomesh/crypto';
import { SignaturePool } from './signature-pool';

const SPKI = { Ed25519: '302a300506032b6570032100', Ed448: '3043300506032b6571033a00' } as const;

/** The in-thread verdict: OpenSSL's plain verification, as jose does it for a JWS. */
function inThread(check: SignatureCheck): boolean {
  try {
    const key = createPublicKey({
      key: Buffer.concat([Buffer.from(SPKI[check.algorithm], 'hex'), check.publicKey]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, check.message, key, check.signature);
  } catch {
    return false;
  }
}

const KEYS = {
  Ed25519: [generateKeyPair('Ed25519'), generateKeyPair('Ed25519')],
  Ed448: [generateKeyPair('Ed448')],
};

/** A signed message, then perhaps forged: another message, another key, a flipped bit, a bad length. */
const checkArbitrary = fc
  .record({
    algorithm: fc.constantFrom('Ed25519' as const, 'Ed448' as const),
    key: fc.nat(1),
    message: fc.uint8Array({ maxLength: 300 }),
    forgery: fc.constantFrom('none', 'message', 'key', 'bit', 'short', 'garbage-key'),
    bit: fc.nat(455),
  })
  .map(({ algorithm, key, message, forgery, bit }): SignatureCheck => {
    const pair = KEYS[algorithm][key % KEYS[algorithm].length]!;
    const scheme = algorithm === 'Ed25519' ? nodeEd25519 : nodeEd448;
    const signature = scheme.sign(pair.privateKey, message);
    const check = { algorithm, publicKey: pair.publicKey, message, signature };
    switch (forgery) {
      case 'none':
        return check;
      case 'message':
        return { ...check, message: Uint8Array.from([...message, 1]) };
      case 'key': {
        const other = algorithm === 'Ed25519' ? KEYS.Ed25519[(key + 1) % 2]! : generateKeyPair('Ed448');
        return { ...check, publicKey: other.publicKey };
      }
      case 'bit': {
        const flipped = signature.slice();
        const at = bit % (flipped.length * 8);
        flipped[at >> 3]! ^= 1 << (at & 7);
        return { ...check, signature: flipped };
      }
      case 'short':
        return { ...check, signature: signature.subarray(1) };
      default:
        return { ...check, publicKey: new Uint8Array(pair.publicKey.length).fill(0xff) };
    }
  });

describe('SignaturePool', () => {
  let pool: SignaturePool;
  const failures: string[] = [];

  beforeAll(() => {
    pool = new SignaturePool({ size: 2, onWorkerFailure: (f) => failures.push(f.reason) });
  });
  afterAll(() => pool.close());

  it('gives exactly the in-thread verdicts, forged signatures included (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(checkArbitrary, { minLength: 1, maxLength: 40 }), async (checks) => {
        expect(await pool.verify(checks)).toEqual(checks.map(inThread));
      }),
      { numRuns: 60 },
    );
    expect(failures).toEqual([]);
  });

  it('answers each batch with its own verdicts when many are in flight, views of larger buffers too', async () => {
    const pair = KEYS.Ed25519[0]!;
    const backing = new Uint8Array(1000).fill(9);
    const message = backing.subarray(100, 164);
    const good = nodeEd25519.sign(pair.privateKey, message);
    const checks = Array.from({ length: 300 }, (_, i) => ({
      algorithm: 'Ed25519' as const,
      publicKey: pair.publicKey,
      message,
      signature: i % 7 === 0 ? good.map((b, j) => (j === 40 ? b ^ 4 : b)) : good,
    }));
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => pool.verify(checks.slice(i * 30, i * 30 + 30))),
    );
    expect(answers.flat()).toEqual(checks.map(inThread));
    expect(answers.flat().filter((v) => !v)).toHaveLength(43);
  });

  it('fails the batches of a worker that died, replaces it, and goes on', async () => {
    const crashing = new SignaturePool({ size: 1, onWorkerFailure: (f) => failures.push(f.reason) });
    try {
      const pair = KEYS.Ed25519[0]!;
      const message = new Uint8Array(32);
      const check = { algorithm: 'Ed25519' as const, publicKey: pair.publicKey, message };
      const checks = Array.from({ length: 2000 }, () => ({
        ...check,
        signature: nodeEd25519.sign(pair.privateKey, message),
      }));
      const pending = crashing.verify(checks);
      // The worker dies under the batch (what an OpenSSL abort or an out-of-memory kill does).
      const slots = (crashing as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } }> })
        .slots;
      void slots[0]!.worker.terminate();
      await expect(pending).rejects.toThrow(/signature worker 0 exited/);
      expect(failures.some((f) => f.startsWith('exited'))).toBe(true);
      expect(await crashing.verify(checks.slice(0, 3))).toEqual([true, true, true]);
    } finally {
      await crashing.close();
    }
  });

  it('fails a batch not answered in time, and replaces the worker', async () => {
    const seen: string[] = [];
    const slow = new SignaturePool({ size: 1, timeoutMs: 1, onWorkerFailure: (f) => seen.push(f.reason) });
    try {
      const pair = KEYS.Ed25519[0]!;
      const message = new Uint8Array(32);
      const signature = nodeEd25519.sign(pair.privateKey, message);
      const checks = Array.from({ length: 20_000 }, () => ({
        algorithm: 'Ed25519' as const,
        publicKey: pair.publicKey,
        message,
        signature,
      }));
      await expect(slow.verify(checks)).rejects.toThrow(/no answer within 1 ms/);
      expect(seen).toEqual(['no answer within 1 ms']);
    } finally {
      await slow.close();
    }
  });

  it('stops its workers at close: what is pending fails, nothing more is taken', async () => {
    const closing = new SignaturePool({ size: 2 });
    const pair = KEYS.Ed25519[0]!;
    const message = new Uint8Array(8);
    const signature = nodeEd25519.sign(pair.privateKey, message);
    const checks = Array.from({ length: 5000 }, () => ({
      algorithm: 'Ed25519' as const,
      publicKey: pair.publicKey,
      message,
      signature,
    }));
    const pending = expect(closing.verify(checks)).rejects.toThrow('the signature pool is closed');
    await closing.close();
    await pending;
    await expect(closing.verify(checks.slice(0, 1))).rejects.toThrow('the signature pool is closed');
  });

  it('has at least one worker', () => {
    expect(() => new SignaturePool({ size: 0 })).toThrow(RangeError);
  });
});
