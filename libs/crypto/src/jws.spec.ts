import { ED25519_TORSION_SUBGROUP, ed25519 as ed25519Curve } from '@noble/curves/ed25519';
import { FlattenedSign, flattenedVerify, importJWK } from 'jose';
import { asyncCodeOf, codeOf } from '../test/error-code';
import { forgeJws, IDENTITY_POINT } from '../test/forged-jws';
import keys from '../testdata/keys.json';
import { fromBase64Url, fromHex, toBase64Url, utf8 } from './bytes';
import { inThreadVerdicts, nobleEd25519, nobleEd448, nodeEd25519, nodeEd448 } from './eddsa';
import { keyUdf } from './key-fingerprint';
import { generateKeyPair } from './key-pair';
import { readJwsHeader, signJws, verifyJws } from './jws';
import type { SignatureCheck } from './signature-verdicts';

const payload = utf8('{"PersonalProfile":{"Names":["alice@example.com"]}}');
const ed25519 = generateKeyPair('Ed25519', (n) => new Uint8Array(n).fill(11));
const ed448 = generateKeyPair('Ed448', (n) => new Uint8Array(n).fill(12));
const other = generateKeyPair('Ed25519', (n) => new Uint8Array(n).fill(13));

const encodeJson = (value: unknown): string => toBase64Url(utf8(JSON.stringify(value)));

describe('profile JWS (flattened, EdDSA, kid = key UDF)', () => {
  it.each([
    ['Ed25519', ed25519, nodeEd25519, nobleEd25519],
    ['Ed448', ed448, nodeEd448, nobleEd448],
  ] as const)(
    'signs and verifies with %s, agreeing with both signature schemes',
    async (_name, pair, node, noble) => {
      const jws = await signJws(payload, pair, { contentType: 'application/mmm-profile+json' });
      const header = readJwsHeader(jws);
      expect(header).toEqual({
        alg: 'EdDSA',
        kid: keyUdf(pair.algorithm, pair.publicKey),
        cty: 'application/mmm-profile+json',
      });
      const signingInput = utf8(`${jws.protected}.${jws.payload}`);
      const signature = fromBase64Url(jws.signature) as Uint8Array;
      // jose's signature is the RFC 8032 signature of the JWS signing input (RFC 8037 §3.1), byte for byte.
      expect(signature).toEqual(node.sign(pair.privateKey, signingInput));
      expect(signature).toEqual(noble.sign(pair.privateKey, signingInput));
      expect(noble.verify(pair.publicKey, signingInput, signature)).toBe(true);
      const verified = await verifyJws(jws, pair);
      expect(verified.payload).toEqual(payload);
      expect(verified.header).toEqual(header);
    },
  );

  it('answers a header too long to be kept as one that is kept, each time (issue #17)', async () => {
    const long = 'application/'.padEnd(3000, 'x');
    const jws = await signJws(payload, ed25519, { type: long });
    for (let round = 0; round < 2; round++) {
      expect(readJwsHeader(jws).typ).toBe(long);
      expect((await verifyJws(jws, ed25519)).payload).toEqual(payload);
    }
    const header = encodeJson({
      alg: 'EdDSA',
      kid: `${keyUdf('Ed25519', ed25519.publicKey)}${'A'.repeat(3000)}`,
    });
    const longKid = { ...jws, protected: header };
    for (let round = 0; round < 2; round++)
      expect(await asyncCodeOf(() => verifyJws(longKid, ed25519))).toBe('jws.kid-mismatch');
  });

  it('is deterministic', async () => {
    expect(await signJws(payload, ed25519)).toEqual(
      await signJws(payload, { algorithm: 'Ed25519', privateKey: ed25519.privateKey }),
    );
  });

  it('reproduces the RFC 8037 §A.4 signature through jose with the RFC 8032 key', async () => {
    const v = keys.vectors[0] as (typeof keys.vectors)[number];
    const key = await importJWK(
      {
        kty: 'OKP',
        crv: 'Ed25519',
        d: toBase64Url(fromHex(v.privateKeyHex) as Uint8Array),
        x: toBase64Url(fromHex(v.publicKeyHex) as Uint8Array),
      },
      'EdDSA',
    );
    const jws = await new FlattenedSign(utf8('Example of Ed25519 signing'))
      .setProtectedHeader({ alg: 'EdDSA' })
      .sign(key);
    expect(jws.signature).toBe(
      'hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg',
    );
  });

  it('accepts a kid at lower precision (prefix rule)', async () => {
    const kid = keyUdf('Ed25519', ed25519.publicKey, { bits: 100 });
    const protectedHeader = encodeJson({ alg: 'EdDSA', kid });
    const signature = nodeEd25519.sign(
      ed25519.privateKey,
      utf8(`${protectedHeader}.${toBase64Url(payload)}`),
    );
    const jws = {
      protected: protectedHeader,
      payload: toBase64Url(payload),
      signature: toBase64Url(signature),
    };
    expect((await verifyJws(jws, ed25519)).header.kid).toBe(kid);
  });

  describe('reports the rule that failed', () => {
    /** A JWS with the given protected header, properly signed by `signer`. */
    function signed(
      header: unknown,
      signer = ed25519,
    ): { protected: string; payload: string; signature: string } {
      const protectedHeader = encodeJson(header);
      const input = utf8(`${protectedHeader}.${toBase64Url(payload)}`);
      const sign = signer.algorithm === 'Ed25519' ? nodeEd25519 : nodeEd448;
      return {
        protected: protectedHeader,
        payload: toBase64Url(payload),
        signature: toBase64Url(sign.sign(signer.privateKey, input)),
      };
    }
    const kid = keyUdf('Ed25519', ed25519.publicKey);

    it.each<[string, () => unknown, string]>([
      ['not an object', () => 'a.b.c', 'jws.malformed'],
      ['null', () => null, 'jws.malformed'],
      ['a general JWS', () => ({ payload: 'e30', signatures: [] }), 'jws.malformed'],
      [
        'a missing signature',
        () => ({ protected: signed({ alg: 'EdDSA', kid }).protected, payload: 'e30' }),
        'jws.malformed',
      ],
      [
        'an unprotected header',
        () => ({ ...signed({ alg: 'EdDSA', kid }), header: { kid } }),
        'jws.malformed',
      ],
      [
        'a protected header that is not JSON',
        () => ({ ...signed({ alg: 'EdDSA', kid }), protected: toBase64Url(utf8('{nope')) }),
        'jws.malformed',
      ],
      ['a protected header that is an array', () => signed(['EdDSA']), 'jws.malformed'],
      [
        'a payload that is not base64url',
        () => ({ ...signed({ alg: 'EdDSA', kid }), payload: 'e30=' }),
        'jws.malformed',
      ],
      ['crit', () => signed({ alg: 'EdDSA', kid, crit: ['exp'], exp: 1 }), 'jws.malformed'],
      ['b64: false', () => signed({ alg: 'EdDSA', kid, b64: false }), 'jws.malformed'],
      [
        'a header parameter outside the profile',
        () => signed({ alg: 'EdDSA', kid, jwk: {} }),
        'jws.malformed',
      ],
      ['alg none', () => signed({ alg: 'none', kid }), 'jws.alg-not-allowed'],
      ['alg HS256', () => signed({ alg: 'HS256', kid }), 'jws.alg-not-allowed'],
      ['no alg', () => signed({ kid }), 'jws.alg-not-allowed'],
      ['no kid', () => signed({ alg: 'EdDSA' }), 'jws.kid-mismatch'],
      ['a kid that is not a UDF', () => signed({ alg: 'EdDSA', kid: 'alice-key-1' }), 'jws.kid-mismatch'],
      [
        'the kid of another key',
        () => signed({ alg: 'EdDSA', kid: keyUdf('Ed25519', other.publicKey) }),
        'jws.kid-mismatch',
      ],
      [
        'the kid of the same bytes as an X25519 key',
        () => signed({ alg: 'EdDSA', kid: keyUdf('X25519', ed25519.publicKey) }),
        'jws.kid-mismatch',
      ],
      ['a signature by another key', () => signed({ alg: 'EdDSA', kid }, other), 'jws.bad-signature'],
      [
        'a changed payload',
        () => ({ ...signed({ alg: 'EdDSA', kid }), payload: toBase64Url(utf8('{}')) }),
        'jws.bad-signature',
      ],
      [
        'a truncated signature',
        () => ({ ...signed({ alg: 'EdDSA', kid }), signature: toBase64Url(new Uint8Array(32)) }),
        'jws.bad-signature',
      ],
    ])('%s', async (_what, make, code) => {
      expect(await asyncCodeOf(() => verifyJws(make(), ed25519))).toBe(code);
    });

    it('refuses a signature from the right key with one bit flipped', async () => {
      const jws = await signJws(payload, ed448);
      const signature = fromBase64Url(jws.signature) as Uint8Array;
      signature[5] = (signature[5] as number) ^ 0x10;
      expect(await asyncCodeOf(() => verifyJws({ ...jws, signature: toBase64Url(signature) }, ed448))).toBe(
        'jws.bad-signature',
      );
    });

    it('refuses keys that are not EdDSA keys', async () => {
      const x = generateKeyPair('X25519');
      expect(await asyncCodeOf(() => signJws(payload, x as never))).toBe('key.unsupported-algorithm');
      expect(await asyncCodeOf(() => verifyJws(signed({ alg: 'EdDSA', kid }), x as never))).toBe(
        'key.unsupported-algorithm',
      );
      expect(
        await asyncCodeOf(() =>
          verifyJws(signed({ alg: 'EdDSA', kid }), { algorithm: 'Ed448', publicKey: ed25519.publicKey }),
        ),
      ).toBe('key.malformed');
      expect(codeOf(() => readJwsHeader(signed({ alg: 'EdDSA', kid, typ: 7 })))).toBe('jws.malformed');
    });
  });
});

describe('strict EdDSA rules on every JWS (issue #14, hole 5)', () => {
  const identity = { algorithm: 'Ed25519' as const, publicKey: IDENTITY_POINT };

  it('refuses the identity point as a key, although OpenSSL (through jose) accepts its forged signature', async () => {
    const forged = forgeJws(payload);
    // The hole: jose over OpenSSL verifies a signature nobody made.
    const joseKey = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: toBase64Url(IDENTITY_POINT) }, 'EdDSA');
    await expect(flattenedVerify(forged, joseKey)).resolves.toBeDefined();
    expect(await asyncCodeOf(() => verifyJws(forged, identity))).toBe('jws.weak-key');
  });

  it('refuses every small-order and non-canonical Ed25519 key', async () => {
    const forged = forgeJws(payload);
    for (const hex of ED25519_TORSION_SUBGROUP) {
      const publicKey = fromHex(hex) as Uint8Array;
      expect(await asyncCodeOf(() => verifyJws(forged, { algorithm: 'Ed25519', publicKey }))).toBe(
        'jws.weak-key',
      );
    }
    // y = p + 1 ≡ 1: a non-canonical spelling of the identity.
    const nonCanonical = fromHex(
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ) as Uint8Array;
    expect(
      await asyncCodeOf(() => verifyJws(forged, { algorithm: 'Ed25519', publicKey: nonCanonical })),
    ).toBe('jws.weak-key');
  });

  it('refuses a non-canonical S (S + L), which OpenSSL would also refuse, and a short signature', async () => {
    const jws = await signJws(payload, ed25519);
    const signature = fromBase64Url(jws.signature) as Uint8Array;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i] as number);
    s += ed25519Curve.Point.Fn.ORDER;
    const malleable = signature.slice();
    for (let i = 32; i < 64; i++, s >>= 8n) malleable[i] = Number(s & 0xffn);
    expect(await asyncCodeOf(() => verifyJws({ ...jws, signature: toBase64Url(malleable) }, ed25519))).toBe(
      'jws.bad-signature',
    );
    expect(
      await asyncCodeOf(() =>
        verifyJws({ ...jws, signature: toBase64Url(signature.subarray(0, 63)) }, ed25519),
      ),
    ).toBe('jws.bad-signature');
    // A small-order R.
    const smallR = signature.slice();
    smallR.set(IDENTITY_POINT, 0);
    expect(await asyncCodeOf(() => verifyJws({ ...jws, signature: toBase64Url(smallR) }, ed25519))).toBe(
      'jws.bad-signature',
    );
  });

  it('refuses a protected header that names a parameter twice', async () => {
    const jws = await signJws(payload, ed25519);
    const header = `{"alg":"EdDSA","kid":"${keyUdf('Ed25519', other.publicKey)}","kid":"${keyUdf('Ed25519', ed25519.publicKey)}"}`;
    const twice = { ...jws, protected: toBase64Url(utf8(header)) };
    expect(codeOf(() => readJwsHeader(twice))).toBe('jws.malformed');
    expect(await asyncCodeOf(() => verifyJws(twice, ed25519))).toBe('jws.malformed');
  });
});

describe('signature verdicts computed elsewhere (issue #17, worker threads)', () => {
  it('takes a verdict for exactly the signing input, key and signature; undefined verifies here', async () => {
    const jws = await signJws(payload, ed25519);
    const asked: Array<{ message: string; key: string; signature: string }> = [];
    const verdicts = (answer: boolean | undefined) => (check: SignatureCheck) => {
      asked.push({
        message: new TextDecoder().decode(check.message),
        key: toBase64Url(check.publicKey),
        signature: toBase64Url(check.signature),
      });
      return answer;
    };
    expect((await verifyJws(jws, ed25519, { verdicts: verdicts(true) })).payload).toEqual(payload);
    expect(asked[0]).toEqual({
      message: `${jws.protected}.${jws.payload}`,
      key: toBase64Url(ed25519.publicKey),
      signature: jws.signature,
    });
    expect(await asyncCodeOf(() => verifyJws(jws, ed25519, { verdicts: verdicts(false) }))).toBe(
      'jws.bad-signature',
    );
    // A forged signature: the same code whether a worker or jose refuses it.
    const forged = { ...jws, payload: encodeJson({ forged: true }) };
    expect(await asyncCodeOf(() => verifyJws(forged, ed25519))).toBe('jws.bad-signature');
    expect(await asyncCodeOf(() => verifyJws(forged, ed25519, { verdicts: verdicts(undefined) }))).toBe(
      'jws.bad-signature',
    );
  });

  it('takes a key array given again for the bytes it holds now, not for the key it held before', async () => {
    const jws = await signJws(payload, ed25519);
    const byOther = await signJws(payload, other);
    const key = { algorithm: 'Ed25519' as const, publicKey: ed25519.publicKey.slice() };
    expect((await verifyJws(jws, key)).payload).toEqual(payload);
    key.publicKey.set(other.publicKey);
    expect(await asyncCodeOf(() => verifyJws(jws, key))).toBe('jws.kid-mismatch');
    expect((await verifyJws(byOther, key)).payload).toEqual(payload);
    key.publicKey.set(ed25519.publicKey);
    expect((await verifyJws(jws, key)).payload).toEqual(payload);
  });

  it('applies the strict rules before it asks: a small-order key is refused whatever the verdict', async () => {
    const forged = forgeJws(payload);
    let asked = 0;
    const code = await asyncCodeOf(() =>
      verifyJws(
        forged,
        { algorithm: 'Ed25519', publicKey: IDENTITY_POINT },
        {
          verdicts: () => {
            asked++;
            return true;
          },
        },
      ),
    );
    expect(code).toBe('jws.weak-key');
    expect(asked).toBe(0);
  });
});

describe("OpenSSL's verdicts in the calling thread (issue #17, the gateway's inThreadVerdicts)", () => {
  it('gives verifyJws the verdict jose gives, for Ed25519 and Ed448, honest and forged', async () => {
    for (const [pair, wrong] of [
      [ed25519, other],
      [ed448, generateKeyPair('Ed448', (n) => new Uint8Array(n).fill(14))],
    ] as const) {
      const jws = await signJws(payload, pair);
      const signature = fromBase64Url(jws.signature)!;
      signature[5] = signature[5]! ^ 1;
      const cases = [
        jws,
        { ...jws, payload: encodeJson({ forged: true }) },
        { ...jws, signature: toBase64Url(signature) },
        await signJws(payload, wrong),
      ];
      for (const input of cases) {
        const viaJose = await asyncCodeOf(() => verifyJws(input, pair));
        const inThread = await asyncCodeOf(() => verifyJws(input, pair, { verdicts: inThreadVerdicts }));
        expect(inThread).toBe(viaJose);
      }
      expect((await verifyJws(jws, pair, { verdicts: inThreadVerdicts })).payload).toEqual(payload);
    }
  });

  it('answers for every check it is asked about, never leaving one to jose', () => {
    const check = (pair: typeof ed25519 | typeof ed448, message: Uint8Array) => ({
      algorithm: pair.algorithm,
      publicKey: pair.publicKey,
      message,
      signature: (pair.algorithm === 'Ed25519' ? nodeEd25519 : nodeEd448).sign(pair.privateKey, message),
    });
    for (const pair of [ed25519, ed448]) {
      const honest = check(pair, payload);
      expect(inThreadVerdicts(honest)).toBe(true);
      expect(inThreadVerdicts({ ...honest, message: utf8('another') })).toBe(false);
      expect(inThreadVerdicts({ ...honest, publicKey: other.publicKey })).toBe(false);
    }
  });
});
