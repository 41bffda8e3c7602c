import { ADMIN, ACCOUNT, countingRandom, makeAccount, NOW, PHONE } from '../test/fixtures';
import {
  checkAdministrator,
  readRequest,
  signRequest,
  verifyRequest,
  type MeshErrorCode,
  MeshError,
} from '@cryptomesh/mesh';
import { buildPersonalProfile } from './personal-profile';

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
    signRequest({ request: 'Get', account: ACCOUNT, body: BODY, time, random }, key);

  it('verifies and returns the nonce the gateway keeps; a second use of it is a replay', async () => {
    const { personal } = await makeAccount();
    const seen = new Set<string>();
    const guard = async (jws: unknown) => {
      const { claims } = await verifyRequest(jws, {
        request: 'Get',
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
      account: ACCOUNT,
      device: personal.profile.devices[0]?.id,
      time: NOW,
    });
    expect(readRequest(second).nonce).not.toBe(claims.nonce);
    expect(await codeOf(() => guard(second))).toBe('ok');
    expect(await codeOf(() => guard(first))).toBe('request.replayed');
  });

  it.each<[string, (p: Awaited<ReturnType<typeof makeAccount>>) => Promise<unknown>, MeshErrorCode]>([
    [
      'stale',
      async (a) =>
        verifyRequest(await sign(NOW - SKEW - 1), {
          request: 'Get',
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
          { request: 'Get', account: ACCOUNT, body: BODY, personal: a.personal.profile },
        );
      },
      'request.bad-signature',
    ],
    [
      'that is not a request',
      async (a) =>
        verifyRequest(a.master.jws, {
          request: 'Get',
          account: ACCOUNT,
          body: BODY,
          personal: a.personal.profile,
        }),
      'request.malformed',
    ],
  ])('refuses a request %s', async (_name, run, code) => {
    expect(await codeOf(async () => run(await makeAccount()))).toBe(code);
  });

  it('accepts the edges of the skew window', async () => {
    const { personal } = await makeAccount();
    for (const time of [NOW - SKEW, NOW + SKEW])
      await verifyRequest(await sign(time), {
        request: 'Get',
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
