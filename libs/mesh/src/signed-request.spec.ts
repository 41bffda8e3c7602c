import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '@cryptomesh/crypto/portable';
import { forgeJws } from '../../crypto/test/forged-jws';
import {
  ADMIN,
  ACCOUNT,
  countingRandom,
  forgedDeviceProfile,
  makeAccount,
  NOW,
  ORIGIN,
  PHONE,
} from '../test/fixtures';
import {
  checkAdministrator,
  checkRequestNonce,
  readRequest,
  REQUEST_TYPE,
  signRequest,
  verifyRequest,
  type MeshErrorCode,
  MeshError,
} from '@cryptomesh/mesh';
import { buildPersonalProfile } from './personal-profile';
import { signPayload } from './profile-envelope';

const fromBase64 = (text: string): Uint8Array => fromBase64Url(text) as Uint8Array;

async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const BODY = { Id: 'MB2G-K6DU', Limit: 10 };
const SKEW = 60_000;

describe('signed requests (issue #5)', () => {
  const sign = (time = NOW, key = ADMIN.signature, random = countingRandom()) =>
    signRequest({ request: 'Get', portal: ORIGIN, account: ACCOUNT, body: BODY, time, random }, key);

  it('verifies and returns the nonce the gateway keeps; a second use of it is a replay', async () => {
    const { personal } = await makeAccount();
    const seen = new Set<string>();
    const guard = async (jws: unknown) => {
      const { claims } = await verifyRequest(jws, {
        request: 'Get',
        portal: ORIGIN,
        account: ACCOUNT,
        body: BODY,
        personal: personal.profile,
        now: NOW,
        maxSkewMs: SKEW,
      });
      const key = `${claims.account} ${claims.nonce}`;
      if (seen.has(key)) throw new MeshError('request.replayed', 'seen');
      seen.add(key);
      return claims;
    };
    const random = countingRandom();
    const first = await sign(NOW, ADMIN.signature, random);
    const second = await sign(NOW, ADMIN.signature, random);
    const claims = await guard(first);
    expect(claims).toMatchObject({
      request: 'Get',
      portal: ORIGIN,
      account: ACCOUNT,
      device: personal.profile.devices[0]?.id,
      time: NOW,
    });
    expect(readRequest(second).nonce).not.toBe(claims.nonce);
    expect(await codeOf(() => guard(second))).toBe('ok');
    expect(await codeOf(() => guard(first))).toBe('request.replayed');
  });

  it('reads a request object once, and again whenever one of its members changed (issue #17)', async () => {
    const random = countingRandom();
    const jws = (await sign(NOW, ADMIN.signature, random)) as unknown as Record<string, string>;
    const other = await sign(NOW + 1, ADMIN.signature, random);
    const claims = readRequest(jws);
    expect(readRequest(jws)).toBe(claims);
    expect(Object.isFrozen(claims)).toBe(true);
    // Another payload in the same object: read again, never the kept claims.
    jws.payload = other.payload;
    expect(readRequest(jws)).toEqual(readRequest({ ...other }));
    expect(readRequest(jws).time).toBe(NOW + 1);
    jws.protected = 'e30';
    expect(await codeOf(() => Promise.resolve().then(() => readRequest(jws)))).toBe('request.malformed');
    jws.protected = other.protected;
    jws.signature = other.signature;
    expect(readRequest(jws).nonce).toBe(readRequest({ ...other }).nonce);
    // Three own members no longer, though three keys and the same values are seen: read again.
    const moved = Object.create({ signature: other.signature }) as Record<string, string>;
    Object.assign(moved, { protected: other.protected, payload: other.payload });
    readRequest(Object.assign(moved, { signature: other.signature }));
    delete moved.signature;
    moved.extra = 'x';
    expect(await codeOf(() => Promise.resolve().then(() => readRequest(moved)))).toBe('request.malformed');
    // A member added after a reading that passed: refused, as on the first reading.
    jws.header = 'x';
    expect(await codeOf(() => Promise.resolve().then(() => readRequest(jws)))).toBe('request.malformed');
  });

  it.each<[string, (p: Awaited<ReturnType<typeof makeAccount>>) => Promise<unknown>, MeshErrorCode]>([
    [
      'stale',
      async (a) =>
        verifyRequest(await sign(NOW - SKEW - 1), {
          request: 'Get',
          portal: ORIGIN,
          account: ACCOUNT,
          body: BODY,
          personal: a.personal.profile,
          now: NOW,
          maxSkewMs: SKEW,
        }),
      'request.stale',
    ],
    [
      'from the future',
      async (a) =>
        verifyRequest(await sign(NOW + SKEW + 1), {
          request: 'Get',
          portal: ORIGIN,
          account: ACCOUNT,
          body: BODY,
          personal: a.personal.profile,
          now: NOW,
          maxSkewMs: SKEW,
        }),
      'request.future',
    ],
    [
      'signed by a device not in the Personal Profile',
      async (a) =>
        verifyRequest(await sign(NOW, PHONE.signature), {
          request: 'Get',
          portal: ORIGIN,
          account: ACCOUNT,
          body: BODY,
          personal: a.personal.profile,
        }),
      'request.unknown-device',
    ],
    [
      'for another body',
      async (a) =>
        verifyRequest(await sign(), {
          request: 'Get',
          portal: ORIGIN,
          account: ACCOUNT,
          body: { ...BODY, Limit: 11 },
          personal: a.personal.profile,
        }),
      'request.mismatch',
    ],
    [
      'for another request',
      async (a) =>
        verifyRequest(await sign(), {
          request: 'Publish',
          portal: ORIGIN,
          account: ACCOUNT,
          body: BODY,
          personal: a.personal.profile,
        }),
      'request.mismatch',
    ],
    [
      'for another account',
      async (a) =>
        verifyRequest(await sign(), {
          request: 'Get',
          portal: ORIGIN,
          account: 'MA2G-OTHER',
          body: BODY,
          personal: a.personal.profile,
        }),
      'request.mismatch',
    ],
    [
      'with a broken signature',
      async (a) => {
        const jws = await sign();
        const other = await sign(NOW + 1);
        return verifyRequest(
          { ...jws, signature: other.signature },
          { request: 'Get', portal: ORIGIN, account: ACCOUNT, body: BODY, personal: a.personal.profile },
        );
      },
      'request.bad-signature',
    ],
    [
      'that is not a request',
      async (a) =>
        verifyRequest(a.master.jws, {
          request: 'Get',
          portal: ORIGIN,
          account: ACCOUNT,
          body: BODY,
          personal: a.personal.profile,
        }),
      'request.malformed',
    ],
    [
      'signed for another portal (issue #14, hole 2)',
      async (a) =>
        verifyRequest(await sign(), {
          request: 'Get',
          portal: 'beta.test/log',
          account: ACCOUNT,
          body: BODY,
          personal: a.personal.profile,
        }),
      'request.wrong-portal',
    ],
    [
      'without a portal',
      async (a) => {
        const jws = await sign();
        const claims = JSON.parse(fromUtf8(fromBase64(jws.payload))) as Record<string, unknown>;
        delete claims.Portal;
        return verifyRequest(
          { ...jws, payload: toBase64Url(utf8(JSON.stringify(claims))) },
          { request: 'Get', portal: ORIGIN, account: ACCOUNT, body: BODY, personal: a.personal.profile },
        );
      },
      'request.malformed',
    ],
    [
      'whose payload names a member twice (issue #14, hole 5)',
      async (a) => {
        const jws = await sign();
        const text = fromUtf8(fromBase64(jws.payload));
        // The same claims, with "Account" first naming another account: JSON.parse keeps the last.
        const twice = `{"Account":"MA2G-OTHER",${text.slice(1)}`;
        return verifyRequest(
          { ...jws, payload: toBase64Url(utf8(twice)) },
          { request: 'Get', portal: ORIGIN, account: ACCOUNT, body: BODY, personal: a.personal.profile },
        );
      },
      'request.malformed',
    ],
    [
      'signed by the identity point with a forged signature (issue #14, hole 5)',
      async (a) => {
        const attacker = forgedDeviceProfile();
        const claims = readRequest(await sign());
        const forged = forgeJws(
          utf8(
            JSON.stringify({
              Request: 'Get',
              Portal: ORIGIN,
              Account: ACCOUNT,
              Device: attacker.profile.id,
              Time: NOW,
              Nonce: claims.nonce,
              Body: claims.body,
            }),
          ),
          'application/mmm-request+json',
        );
        // Even listed as a device (a Personal Profile the attacker cannot get signed anyway).
        const personal = {
          ...a.personal.profile,
          devices: [...a.personal.profile.devices, { ...attacker.profile }],
        };
        return verifyRequest(forged, {
          request: 'Get',
          portal: ORIGIN,
          account: ACCOUNT,
          body: BODY,
          personal,
        });
      },
      'request.malformed',
    ],
  ])('refuses a request %s', async (_name, run, code) => {
    expect(await codeOf(async () => run(await makeAccount()))).toBe(code);
  });

  /** What a portal expects of the request `sign` makes. */
  const getExpectation = async () => ({
    request: 'Get',
    portal: ORIGIN,
    account: ACCOUNT,
    body: BODY,
    personal: (await makeAccount()).personal.profile,
  });
  const resigned = async (change: Record<string, unknown>) => {
    const claims = JSON.parse(fromUtf8(fromBase64((await sign()).payload))) as Record<string, unknown>;
    return signPayload({ ...claims, ...change }, REQUEST_TYPE, ADMIN.signature);
  };

  it.each([
    ['a NUL', 'AAAAAAAAAAAAAAAAAAAAA\u0000'],
    ['a space', 'AAAAAAAAAAA AAAAAAAAAA'],
    ['a character outside ASCII', 'AAAAAAAAAAAAAAAAAAAAAé'],
    ['65 characters', 'A'.repeat(65)],
    ['10,000 characters', 'A'.repeat(10_000)],
  ])(
    'refuses a request, signed by its device, whose Nonce holds %s, which no store keeps (request.malformed)',
    async (_what, nonce) => {
      const signed = await resigned({ Nonce: nonce });
      expect(() => readRequest(signed)).toThrow(/"Nonce" must be 1 to 64 printable ASCII characters/);
      const expectation = await getExpectation();
      expect(await codeOf(() => verifyRequest(signed, expectation))).toBe('request.malformed');
    },
  );

  it.each([
    ['a character outside base64url', 'AAAAAAAAAAAAAAAAAAAA+A'],
    ['padding', 'AAAAAAAAAAAAAAAAAAAAAA=='],
    ['bits set past the 16th byte', 'AAAAAAAAAAAAAAAAAAAAAB'],
    ['15 bytes', toBase64Url(new Uint8Array(15))],
    ['17 bytes', toBase64Url(new Uint8Array(17))],
    ['64 characters', 'A'.repeat(64)],
  ])(
    'a gateway refuses a new request whose Nonce is %s (checkRequestNonce); an auditor reads it',
    async (_what, nonce) => {
      const signed = await resigned({ Nonce: nonce });
      const expectation = await getExpectation();
      const verified = await verifyRequest(signed, expectation);
      expect(verified.claims.nonce).toBe(nonce);
      expect(() => checkRequestNonce(verified.claims)).toThrow(/"Nonce" is not base64url of 16 bytes/);
      // The one form clients make passes.
      const good = await resigned({ Nonce: toBase64Url(new Uint8Array(16).fill(0xfe)) });
      const claims = (await verifyRequest(good, expectation)).claims;
      expect(() => checkRequestNonce(claims)).not.toThrow();
      expect(claims.nonce).toBe('_v7-_v7-_v7-_v7-_v7-_g');
    },
  );

  it.each([
    ['Account', 'a NUL', `${ACCOUNT}\u0000`],
    ['Account', 'lower case', ACCOUNT.toLowerCase()],
    ['Device', 'a NUL', 'MXXX\u0000'],
    ['Device', '3,000 characters', 'A'.repeat(3_000)],
  ])('refuses a request whose %s is %s: a UDF in its canonical form only', async (member, _what, value) => {
    const signed = await resigned({ [member]: value });
    expect(() => readRequest(signed)).toThrow(new RegExp(`"${member}" is not a UDF in its canonical form`));
  });

  it('accepts the edges of the skew window', async () => {
    const { personal } = await makeAccount();
    for (const time of [NOW - SKEW, NOW + SKEW])
      await verifyRequest(await sign(time), {
        request: 'Get',
        portal: ORIGIN,
        account: ACCOUNT,
        body: BODY,
        personal: personal.profile,
        now: NOW,
        maxSkewMs: SKEW,
      });
  });

  it('checks the administrator right: a connected device that is no administrator is refused', async () => {
    const { master } = await makeAccount();
    const personal = await buildPersonalProfile(
      { master: master.profile.id, sequence: 1, devices: [ADMIN, PHONE] },
      ADMIN.signature,
    );
    const [admin, phone] = personal.profile.devices;
    expect(() => checkAdministrator(master.profile, admin!)).not.toThrow();
    expect(() => checkAdministrator(master.profile, phone!)).toThrow(
      expect.objectContaining({ code: 'request.not-administrator' }) as Error,
    );
  });
});
