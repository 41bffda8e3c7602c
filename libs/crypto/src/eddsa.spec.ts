import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519';
import { ED448_TORSION_SUBGROUP, ed448 } from '@noble/curves/ed448';
import { sha512 } from '@noble/hashes/sha2';
import { shake256 } from '@noble/hashes/sha3';
import fc from 'fast-check';
import { codeOf } from '../test/error-code';
import vectors from '../testdata/eddsa.json';
import { concatBytes, fromHex, toHex, utf8 } from './bytes';
import { nobleEd25519, nobleEd448, nodeEd25519, nodeEd448 } from './eddsa';
import type { SignatureAlgorithm, SignatureScheme } from './signature-scheme';

const hex = (text: string): Uint8Array => fromHex(text) as Uint8Array;

const SCHEMES: Record<SignatureAlgorithm, { node: SignatureScheme; noble: SignatureScheme }> = {
  Ed25519: { node: nodeEd25519, noble: nobleEd25519 },
  Ed448: { node: nodeEd448, noble: nobleEd448 },
};

describe('EdDSA: RFC 8032 vectors (testdata/eddsa.json)', () => {
  for (const v of vectors.vectors) {
    const { node, noble } = SCHEMES[v.algorithm as SignatureAlgorithm];
    for (const scheme of [node, noble]) {
      const name = scheme === node ? 'node:crypto' : '@noble/curves';
      it(`${name} reproduces ${v.source}`, () => {
        const privateKey = hex(v.privateKeyHex);
        expect(toHex(scheme.publicKeyOf(privateKey))).toBe(v.publicKeyHex);
        expect(toHex(scheme.sign(privateKey, hex(v.messageHex)))).toBe(v.signatureHex);
        expect(scheme.verify(hex(v.publicKeyHex), hex(v.messageHex), hex(v.signatureHex))).toBe(true);
      });
    }
  }
});

describe.each(['Ed25519', 'Ed448'] as const)('%s: node:crypto and @noble/curves agree', (algorithm) => {
  const { node, noble } = SCHEMES[algorithm];
  const seed = fc.uint8Array({ minLength: node.privateKeyLength, maxLength: node.privateKeyLength });
  const message = fc.uint8Array({ maxLength: 200 });

  /** Both verdicts, asserting they are equal. */
  function verdict(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): boolean {
    const fast = node.verify(publicKey, msg, signature);
    expect(noble.verify(publicKey, msg, signature)).toBe(fast);
    return fast;
  }

  it('sign to the same bytes, and both verify (property)', () => {
    fc.assert(
      fc.property(seed, message, (privateKey, msg) => {
        const publicKey = node.publicKeyOf(privateKey);
        expect(noble.publicKeyOf(privateKey)).toEqual(publicKey);
        const signature = node.sign(privateKey, msg);
        expect(noble.sign(privateKey, msg)).toEqual(signature);
        expect(verdict(publicKey, msg, signature)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('both refuse a signature with any one bit flipped in message, signature or key (property)', () => {
    fc.assert(
      fc.property(
        seed,
        message,
        fc.nat(),
        fc.constantFrom('message', 'signature', 'key'),
        (privateKey, msg, bit, where) => {
          const publicKey = node.publicKeyOf(privateKey);
          const signature = node.sign(privateKey, msg);
          const flip = (bytes: Uint8Array): Uint8Array => {
            const out = bytes.slice();
            const index = bit % (out.length * 8);
            out[index >> 3] = (out[index >> 3] as number) ^ (1 << (index & 7));
            return out;
          };
          if (where === 'message')
            expect(verdict(publicKey, msg.length === 0 ? Uint8Array.of(1) : flip(msg), signature)).toBe(
              false,
            );
          if (where === 'signature') expect(verdict(publicKey, msg, flip(signature))).toBe(false);
          if (where === 'key') expect(verdict(flip(publicKey), msg, signature)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('both refuse random signatures and keys (property)', () => {
    const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    fc.assert(
      fc.property(
        bytes(node.publicKeyLength),
        message,
        bytes(node.signatureLength),
        (publicKey, msg, signature) => {
          expect(verdict(publicKey, msg, signature)).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('both refuse wrong lengths and throw key.malformed for a bad private key', () => {
    const privateKey = new Uint8Array(node.privateKeyLength).fill(3);
    const publicKey = node.publicKeyOf(privateKey);
    const signature = node.sign(privateKey, utf8('m'));
    expect(verdict(publicKey.subarray(1), utf8('m'), signature)).toBe(false);
    expect(verdict(publicKey, utf8('m'), signature.subarray(1))).toBe(false);
    expect(verdict(publicKey, utf8('m'), concatBytes(signature, Uint8Array.of(0)))).toBe(false);
    for (const scheme of [node, noble]) {
      expect(codeOf(() => scheme.sign(privateKey.subarray(1), utf8('m')))).toBe('key.malformed');
      expect(codeOf(() => scheme.publicKeyOf(new Uint8Array(0)))).toBe('key.malformed');
    }
  });

  it('node:crypto notices a private key array mutated after use (key cache)', () => {
    const privateKey = new Uint8Array(node.privateKeyLength).fill(1);
    const first = node.sign(privateKey, utf8('m'));
    privateKey.fill(2);
    expect(node.sign(privateKey, utf8('m'))).toEqual(noble.sign(privateKey, utf8('m')));
    expect(node.sign(privateKey, utf8('m'))).not.toEqual(first);
  });
});

/**
 * Crafted inputs where RFC 8032 lets implementations differ (eddsa-rules.ts). A signature is forged by
 * hand from the private scalar so that it satisfies one form of the equation but not the other.
 */
describe.each([
  { algorithm: 'Ed25519' as const, curve: ed25519, torsion: ED25519_TORSION_SUBGROUP, p: 2n ** 255n - 19n },
  {
    algorithm: 'Ed448' as const,
    curve: ed448,
    torsion: ED448_TORSION_SUBGROUP,
    p: 2n ** 448n - 2n ** 224n - 1n,
  },
])('$algorithm: both refuse or both accept crafted edge cases', ({ algorithm, curve, torsion, p }) => {
  const { node, noble } = SCHEMES[algorithm];
  const length = node.publicKeyLength;
  const points = torsion.map((t) => [`${t.slice(0, 8)}…`, t] as const);
  const n = curve.Point.Fn.ORDER;
  const privateKey = new Uint8Array(length).fill(5);
  const { scalar } = curve.utils.getExtendedPublicKey(privateKey);
  const B = curve.Point.BASE;

  const le = (bytes: Uint8Array): bigint =>
    [...bytes].reverse().reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  const toLe = (value: bigint): Uint8Array =>
    Uint8Array.from({ length }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn));
  const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array): bigint =>
    le(
      algorithm === 'Ed25519'
        ? sha512(concatBytes(r, a, m))
        : shake256(concatBytes(utf8('SigEd448'), Uint8Array.of(0, 0), r, a, m), { dkLen: 114 }),
    ) % n;
  /** R ‖ S with S = r + k·a for the given R encoding and public key encoding. */
  const forge = (rBytes: Uint8Array, r: bigint, publicKey: Uint8Array, m: Uint8Array): Uint8Array =>
    concatBytes(rBytes, toLe((r + challenge(rBytes, publicKey, m) * scalar) % n));

  function verdict(publicKey: Uint8Array, m: Uint8Array, signature: Uint8Array): boolean {
    const fast = node.verify(publicKey, m, signature);
    expect(noble.verify(publicKey, m, signature)).toBe(fast);
    return fast;
  }

  it.each(points)('refuses the small-order public key %s with a trivial signature', (_label, t) => {
    const T = hex(t);
    expect(verdict(T, utf8('any'), concatBytes(T, new Uint8Array(length)))).toBe(false);
    expect(verdict(T, utf8('any'), concatBytes(hex(torsion[0] as string), new Uint8Array(length)))).toBe(
      false,
    );
  });

  it.each(points.slice(1))('agrees on a mixed-order public key aB + %s', (_label, t) => {
    const publicKey = B.multiply(scalar).add(curve.Point.fromHex(t)).toBytes();
    const verdicts = new Set<boolean>();
    for (let i = 0; i < 16; i++) {
      const m = Uint8Array.of(i);
      const r = 1000n + BigInt(i);
      verdicts.add(verdict(publicKey, m, forge(B.multiply(r).toBytes(), r, publicKey, m)));
    }
    // Ed448 is cofactored in both libraries: always accepted. Ed25519 is cofactorless: accepted only
    // when k·T happens to vanish, so over 16 messages both outcomes occur, and agree each time.
    expect(verdicts.has(true)).toBe(true);
  });

  it.each(points)('refuses R of small order (%s)', (_label, t) => {
    const publicKey = node.publicKeyOf(privateKey);
    expect(verdict(publicKey, utf8('m'), forge(hex(t), 0n, publicKey, utf8('m')))).toBe(false);
  });

  it.each(points.slice(1))('agrees on R = rB + %s', (_label, t) => {
    const publicKey = node.publicKeyOf(privateKey);
    const R = B.multiply(777n).add(curve.Point.fromHex(t)).toBytes();
    const accepted = verdict(publicKey, utf8('m'), forge(R, 777n, publicKey, utf8('m')));
    if (algorithm === 'Ed25519') expect(accepted).toBe(false);
    else expect(accepted).toBe(true);
  });

  it('refuses S + L and a non-canonical R', () => {
    const publicKey = node.publicKeyOf(privateKey);
    const signature = node.sign(privateKey, utf8('m'));
    const s = le(signature.subarray(length));
    if (s + n < 2n ** BigInt(8 * length)) {
      expect(verdict(publicKey, utf8('m'), concatBytes(signature.subarray(0, length), toLe(s + n)))).toBe(
        false,
      );
    }
    const nonCanonicalIdentity = toLe(1n + p);
    expect(verdict(publicKey, utf8('m'), forge(nonCanonicalIdentity, 0n, publicKey, utf8('m')))).toBe(false);
  });

  it('refuses a non-canonical encoding of the identity as public key', () => {
    expect(
      verdict(toLe(1n + p), utf8('m'), concatBytes(hex(torsion[0] as string), new Uint8Array(length))),
    ).toBe(false);
  });
});
