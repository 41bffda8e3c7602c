import { generateKeyPair, keyUdf, publicKeyOf, signJws, utf8 } from '@cryptomesh/crypto/portable';
import { buildMasterProfile, type MasterProfile } from '@cryptomesh/mesh';
import {
  checkRestoreRequest,
  consentKeyPair,
  formatConsentCode,
  openRestorePackage,
  parseConsentCode,
  RESTORE_REQUEST_MAX_AGE_MS,
  restoreRequestDigest,
  sealRestorePackage,
  signRestoreRequest,
  type RestoreRequest,
} from './online-escrow-consent';

/**
 * Online escrow's consent check (issue #19 item 3): the agent acts only on a restore request signed
 * by the Master Profile's EscrowConsent key, for this agent and this account, and recent; the package
 * opens only with the key the request named.
 */
const NOW = 1_800_000_000_000;
const seedOf = (n: number) => new Uint8Array(32).fill(n);
const SEED = seedOf(7);
const AGENT = generateKeyPair('X25519');
const AGENT_UDF = keyUdf('X25519', AGENT.publicKey);
const DEVICE = generateKeyPair('X25519');
const NONCE = new Uint8Array(16).fill(1);

async function masterWith(consentSeed: Uint8Array | undefined): Promise<MasterProfile> {
  const masterKey = generateKeyPair('Ed25519');
  const admin = generateKeyPair('Ed25519');
  return (
    await buildMasterProfile(
      {
        administrators: [admin],
        ...(consentSeed === undefined ? {} : { escrow: AGENT, escrowConsent: consentKeyPair(consentSeed) }),
        created: NOW,
      },
      masterKey,
    )
  ).profile;
}

const contents = (master: MasterProfile, secret = 'horse') => ({
  account: 'alice@example.com',
  fingerprint: master.id,
  applications: [{ type: 'password', name: 'default', public: {}, private: { secret } }],
});

const requestFor = (master: MasterProfile, change: Partial<RestoreRequest> = {}): RestoreRequest => ({
  account: 'alice@example.com',
  fingerprint: master.id,
  device: DEVICE,
  created: NOW,
  ...change,
});

describe('online escrow consent (issue #19 item 3)', () => {
  it('prints a consent code that reads back, and refuses a mistyped one', () => {
    const code = formatConsentCode(SEED);
    expect(code).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    expect(parseConsentCode(code.toLowerCase())).toEqual(SEED);
    for (const bad of [code.slice(0, -1), `${code}A`, code.replace(/^./, '1'), ''])
      expect(() => parseConsentCode(bad)).toThrow(
        expect.objectContaining({ code: 'usage.invalid' }) as Error,
      );
  });

  it('the agent accepts a request signed with the consent code, and the package opens only with its device key', async () => {
    const master = await masterWith(SEED);
    const jws = await signRestoreRequest(requestFor(master), SEED, NONCE);
    const request = await checkRestoreRequest(jws, master, AGENT_UDF, NOW + 60_000);
    expect(request).toMatchObject({ account: 'alice@example.com', fingerprint: master.id, created: NOW });
    expect(request.device.publicKey).toEqual(DEVICE.publicKey);

    const binding = {
      account: 'alice@example.com',
      fingerprint: master.id,
      requestDigest: restoreRequestDigest(jws),
    };
    const pkg = await sealRestorePackage(contents(master), request, {
      privateKey: AGENT.privateKey,
      requestDigest: binding.requestDigest,
    });
    const opened = await openRestorePackage(pkg, DEVICE, {
      agent: () => Promise.resolve(AGENT.publicKey),
      binding,
    });
    expect(opened.applications).toEqual(contents(master).applications);
    await expect(
      openRestorePackage(pkg, generateKeyPair('X25519'), {
        agent: () => Promise.resolve(AGENT.publicKey),
        binding,
      }),
    ).rejects.toMatchObject({ code: 'usage.invalid', check: 'restore package' });
  });

  describe('the new device accepts only a package the named agent made for its request (review finding 4)', () => {
    const setup = async () => {
      const master = await masterWith(SEED);
      const jws = await signRestoreRequest(requestFor(master), SEED, NONCE);
      const request = await checkRestoreRequest(jws, master, AGENT_UDF, NOW);
      const binding = {
        account: 'alice@example.com',
        fingerprint: master.id,
        requestDigest: restoreRequestDigest(jws),
      };
      return { master, jws, request, binding };
    };
    const refusedAsForged = {
      code: 'usage.invalid',
      check: 'restore package agent',
      message: expect.stringMatching(/restore package refused/) as string,
    };

    it('opens the genuine package', async () => {
      const { master, request, binding } = await setup();
      const pkg = await sealRestorePackage(contents(master), request, {
        privateKey: AGENT.privateKey,
        requestDigest: binding.requestDigest,
      });
      await expect(
        openRestorePackage(pkg, DEVICE, { agent: () => Promise.resolve(AGENT.publicKey), binding }),
      ).resolves.toMatchObject({
        account: 'alice@example.com',
        fingerprint: master.id,
      });
    });

    it('refuses a package forged with only the request (any other X25519 key), or its MAC stripped or swapped', async () => {
      const { master, request, binding } = await setup();
      const forger = generateKeyPair('X25519');
      const forged = await sealRestorePackage(contents(master, 'forged'), request, {
        privateKey: forger.privateKey,
        requestDigest: binding.requestDigest,
      });
      await expect(
        openRestorePackage(forged, DEVICE, { agent: () => Promise.resolve(AGENT.publicKey), binding }),
      ).rejects.toMatchObject(refusedAsForged);
      const genuine = await sealRestorePackage(contents(master), request, {
        privateKey: AGENT.privateKey,
        requestDigest: binding.requestDigest,
      });
      const [forgedBody] = forged.split('.');
      const [, genuineMac] = genuine.split('.');
      for (const bad of [forgedBody!, `${forgedBody}.${genuineMac}`, `${genuine}.x`])
        await expect(
          openRestorePackage(bad, DEVICE, { agent: () => Promise.resolve(AGENT.publicKey), binding }),
        ).rejects.toMatchObject(refusedAsForged);
    });

    it("refuses the named agent's package for another request, or for another account", async () => {
      const { master, request, binding } = await setup();
      const earlier = await signRestoreRequest(requestFor(master, { created: NOW - 1000 }), SEED, NONCE);
      const forEarlier = await sealRestorePackage(contents(master), request, {
        privateKey: AGENT.privateKey,
        requestDigest: restoreRequestDigest(earlier),
      });
      await expect(
        openRestorePackage(forEarlier, DEVICE, { agent: () => Promise.resolve(AGENT.publicKey), binding }),
      ).rejects.toMatchObject(refusedAsForged);
      // An agent of another account (bob's) answering with bob's data: refused before the MAC.
      const bob = await masterWith(SEED);
      const bobs = await sealRestorePackage(
        { ...contents(bob), account: 'bob@example.com' },
        { ...request, account: 'bob@example.com', fingerprint: bob.id },
        { privateKey: AGENT.privateKey, requestDigest: binding.requestDigest },
      );
      await expect(
        openRestorePackage(bobs, DEVICE, { agent: () => Promise.resolve(AGENT.publicKey), binding }),
      ).rejects.toMatchObject({
        ...refusedAsForged,
        message: expect.stringMatching(/is for bob@example.com/) as string,
      });
    });
  });

  type Case = [
    string,
    () => Promise<{ jws: unknown; master: MasterProfile; agent?: string; now?: number }>,
    RegExp,
  ];
  it.each<Case>([
    [
      'a request signed by another key (the agent or anyone without the code)',
      async () => {
        const master = await masterWith(SEED);
        return { master, jws: await signRestoreRequest(requestFor(master), seedOf(8), NONCE) };
      },
      /not signed by the consent key/,
    ],
    [
      "a request whose signature does not verify (its device key swapped for another's)",
      async () => {
        const master = await masterWith(SEED);
        const genuine = await signRestoreRequest(requestFor(master), SEED, NONCE);
        const other = await signRestoreRequest(
          requestFor(master, { device: generateKeyPair('X25519') }),
          SEED,
          NONCE,
        );
        return { master, jws: { ...other, signature: genuine.signature } };
      },
      /signature does not verify/,
    ],
    [
      'a request to an agent the Master Profile does not name',
      async () => {
        const master = await masterWith(SEED);
        const jws = await signRestoreRequest(requestFor(master), SEED, NONCE);
        return { master, jws, agent: keyUdf('X25519', generateKeyPair('X25519').publicKey) };
      },
      /is not the escrow agent/,
    ],
    [
      'any request once the Master Profile names no agent (removed)',
      async () => {
        const master = await masterWith(undefined);
        return { master, jws: await signRestoreRequest(requestFor(master), SEED, NONCE) };
      },
      /names no escrow agent/,
    ],
    [
      "a request for another account's fingerprint",
      async () => {
        const master = await masterWith(SEED);
        const other = await masterWith(SEED);
        return { master, jws: await signRestoreRequest(requestFor(other), SEED, NONCE) };
      },
      /the request is for/,
    ],
    [
      'a request older than 24 hours',
      async () => {
        const master = await masterWith(SEED);
        const jws = await signRestoreRequest(requestFor(master), SEED, NONCE);
        return { master, jws, now: NOW + RESTORE_REQUEST_MAX_AGE_MS + 1 };
      },
      /older than 24 hours/,
    ],
    [
      'a request dated in the future',
      async () => {
        const master = await masterWith(SEED);
        return {
          master,
          jws: await signRestoreRequest(requestFor(master, { created: NOW + 3_600_000 }), SEED, NONCE),
        };
      },
      /in the future/,
    ],
    [
      'a signed statement that is not a restore request',
      async () => {
        const master = await masterWith(SEED);
        const jws = await signJws(utf8(JSON.stringify({ Type: 'Other' })), consentKeyPair(SEED));
        return { master, jws };
      },
      /not a restore request/,
    ],
    [
      'a request naming a signature key as its device',
      async () => {
        const master = await masterWith(SEED);
        const signing = generateKeyPair('Ed25519');
        const device = {
          algorithm: 'X25519' as const,
          publicKey: publicKeyOf('Ed25519', signing.privateKey),
        };
        const jws = await signRestoreRequest(requestFor(master, { device }), SEED, NONCE);
        const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as Record<
          string,
          unknown
        >;
        const forged = await signJws(
          utf8(
            JSON.stringify({
              ...payload,
              Device: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(signing.publicKey).toString('base64url') },
            }),
          ),
          consentKeyPair(SEED),
        );
        return { master, jws: forged };
      },
      /not a public X25519 key/,
    ],
  ])('refuses %s', async (_name, make, why) => {
    const { jws, master, agent, now } = await make();
    await expect(checkRestoreRequest(jws, master, agent ?? AGENT_UDF, now ?? NOW)).rejects.toMatchObject({
      code: 'usage.invalid',
      message: expect.stringMatching(why) as string,
    });
  });
});
