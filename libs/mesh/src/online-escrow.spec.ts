import {
  ACCOUNT,
  ADMIN,
  CONTEXT,
  countingRandom,
  type Device,
  fixedKey,
  makeAccount,
  MASTER_KEY,
  NOW,
  ORIGIN,
  PHONE,
} from '../test/fixtures';
import { keyUdf, publicJwk } from '@cryptomesh/crypto/portable';
import {
  authoriseRecord,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  encodeRecord,
  parseMasterProfile,
  readProfileOf,
  recheckLog,
  type MasterProfileInput,
  type RecordContent,
  type SignedProfile,
  type MasterProfile,
} from '@cryptomesh/mesh';
import { signProfilePayload } from './profile-envelope';

/**
 * Online escrow (issue #19 item 3, 000 §6.5.2): the Master Profile's `Escrow` key (the agent's
 * encryption key) and `EscrowConsent` key (the user's paper key the agent checks restore requests
 * against). Naming or removing an agent is a Master Profile change like a promotion: signed by the
 * master key, published by an administrator device; applyRecord is the gateway's check and every
 * auditor's, so each refusal here is both.
 */
const random = countingRandom(7000);
const AGENT = fixedKey('X25519', 40);
const CONSENT = fixedKey('Ed25519', 41);
const authorise = (content: RecordContent, by: Device) =>
  authoriseRecord(content, by.signature, { portal: ORIGIN, time: NOW, random }).then(encodeRecord);

async function setting() {
  const account = await makeAccount(random);
  const masterOf = (sequence: number, escrow: Partial<MasterProfileInput> = {}) =>
    buildMasterProfile({ administrators: [ADMIN.signature], sequence, created: NOW, ...escrow }, MASTER_KEY);
  const setMaster = (master: SignedProfile<MasterProfile>, by: Device) =>
    authorise(
      { operation: 'Publish', account: ACCOUNT, action: 'update', id: master.profile.id, value: master },
      by,
    );
  const connectPhone = await authorise(
    {
      operation: 'ConnectComplete',
      account: ACCOUNT,
      personal: await buildPersonalProfile(
        { master: account.master.profile.id, sequence: 1, devices: [ADMIN, PHONE] },
        ADMIN.signature,
      ),
      device: await buildDeviceProfile(
        { encryption: PHONE.encryption, description: 'phone' },
        PHONE.signature,
      ),
    },
    ADMIN,
  );
  const start = [encodeRecord(account.create), connectPhone];
  return { masterOf, setMaster, start };
}

/** A Master Profile payload signed by the real master key, whatever it says. */
async function signedPayload(payload: Record<string, unknown>) {
  const jws = await signProfilePayload('master', payload as never, MASTER_KEY);
  return { jws, signer: keyUdf('Ed25519', MASTER_KEY.publicKey), profile: undefined as never };
}

describe('online escrow: the Master Profile escrow entry (issue #19 item 3)', () => {
  const escrow = { escrow: AGENT, escrowConsent: CONSENT };

  it('an administrator names an agent and removes it; every auditor follows', async () => {
    const s = await setting();
    const named = [...s.start, await s.setMaster(await s.masterOf(1, escrow), ADMIN)];
    const life = await recheckLog(named, CONTEXT);
    expect(life).toMatchObject({ ok: true });
    const master = life.ok ? life.accounts.get(ACCOUNT)?.state.master.profile : undefined;
    expect(master?.escrow?.udf).toBe(keyUdf('X25519', AGENT.publicKey));
    expect(master?.escrowConsent?.udf).toBe(keyUdf('Ed25519', CONSENT.publicKey));

    const removed = [...named, await s.setMaster(await s.masterOf(2), ADMIN)];
    const after = await recheckLog(removed, CONTEXT);
    expect(after).toMatchObject({ ok: true });
    expect(after.ok ? after.accounts.get(ACCOUNT)?.state.master.profile.escrow : 'x').toBeUndefined();
  });

  it('the entry survives the JWS round trip', async () => {
    const s = await setting();
    const signed = await s.masterOf(1, escrow);
    const read = readProfileOf(signed.jws, 'master');
    expect(read.profile.escrow?.jwk).toEqual(publicJwk(AGENT.algorithm, AGENT.publicKey));
    expect(read.profile.escrowConsent?.jwk).toEqual(publicJwk(CONSENT.algorithm, CONSENT.publicKey));
  });

  type Case = [string, (s: Awaited<ReturnType<typeof setting>>) => Promise<Uint8Array[]>, string];
  it.each<Case>([
    [
      'a non-administrator naming an agent, even with a Master Profile the master key signed',
      async (s) => [await s.setMaster(await s.masterOf(1, escrow), PHONE)],
      'request.not-administrator',
    ],
    [
      'a non-administrator removing the agent',
      async (s) => [
        await s.setMaster(await s.masterOf(1, escrow), ADMIN),
        await s.setMaster(await s.masterOf(2), PHONE),
      ],
      'request.not-administrator',
    ],
    [
      "a tampered escrow entry: another agent key under the master key's signature of the genuine one",
      async (s) => {
        const genuine = await s.masterOf(1, escrow);
        const wanted = await s.masterOf(1, { escrow: fixedKey('X25519', 66), escrowConsent: CONSENT });
        const forged = { ...wanted, jws: { ...wanted.jws, signature: genuine.jws.signature } };
        return [await s.setMaster(forged, ADMIN)];
      },
      'profile.bad-signature',
    ],
  ])('refuses %s', async (_name, build, code) => {
    const s = await setting();
    const entries = [...s.start, ...(await build(s))];
    expect(await recheckLog(entries, CONTEXT)).toMatchObject({ ok: false, index: entries.length - 1, code });
  });

  it('a malformed entry is refused by the builder and by the parser (hence by the gateway and auditors)', async () => {
    const s = await setting();
    const refused = { code: 'input.invalid' };
    await expect(s.masterOf(1, { escrow: AGENT })).rejects.toMatchObject(refused);
    await expect(s.masterOf(1, { escrowConsent: CONSENT })).rejects.toMatchObject(refused);
    await expect(s.masterOf(1, { escrow: AGENT, escrowConsent: ADMIN.signature })).rejects.toMatchObject(
      refused,
    );
    await expect(s.masterOf(1, { escrow: CONSENT, escrowConsent: CONSENT })).rejects.toMatchObject(refused);
    // #19 item 3 review: a small-order consent key (the identity point verifies forged signatures) —
    // the parser refuses it, so the builder must too.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const weak = { algorithm: 'Ed25519' as const, publicKey: identity };
    await expect(s.masterOf(1, { escrow: AGENT, escrowConsent: weak })).rejects.toMatchObject(refused);

    const genuine = (await s.masterOf(1, escrow)).jws;
    const payload = JSON.parse(Buffer.from(genuine.payload, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const malformed = { code: 'profile.malformed' };
    const noConsent = { ...payload };
    delete noConsent.EscrowConsent;
    expect(() => parseMasterProfile(noConsent)).toThrow(expect.objectContaining(malformed) as Error);
    expect(() => parseMasterProfile({ ...payload, EscrowConsent: payload.Escrow })).toThrow(
      expect.objectContaining(malformed) as Error,
    );
    expect(() =>
      parseMasterProfile({ ...payload, EscrowConsent: publicJwk('Ed25519', ADMIN.signature.publicKey) }),
    ).toThrow(expect.objectContaining(malformed) as Error);
    expect(() => parseMasterProfile({ ...payload, EscrowConsent: publicJwk('Ed25519', identity) })).toThrow(
      expect.objectContaining(malformed) as Error,
    );
    // Signed by the real master key, published by the administrator: still refused in the log.
    const unsignedConsent = await signedPayload(noConsent);
    const record = await authorise(
      {
        operation: 'Publish',
        account: ACCOUNT,
        action: 'update',
        id: payload.Id as string,
        value: { ...unsignedConsent, profile: { ...(await s.masterOf(1)).profile } },
      },
      ADMIN,
    );
    expect(await recheckLog([...s.start, record], CONTEXT)).toMatchObject({
      ok: false,
      code: 'profile.malformed',
    });
  });
});
