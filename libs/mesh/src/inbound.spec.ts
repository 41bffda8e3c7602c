import { accountUdf, encryptJwe, utf8 } from '@cryptomesh/crypto/portable';
import fc from 'fast-check';
import {
  accessMatches,
  applyCatalogEvent,
  CATALOG_KEY_ID,
  decideInbound,
  envelopeText,
  envelopeWorkBody,
  newEnvelopeId,
  openInboundBody,
  sealInboundBody,
  parseEnvelopeText,
  readCatalogValue,
  readEnvelope,
  retrievalKey,
  signCatalogValue,
  signEnvelope,
  verifyCatalogValue,
  verifyEnvelope,
  type CatalogAccess,
  type CatalogValue,
  type JsonObject,
} from '@cryptomesh/mesh';
import { ACCOUNT, ADDRESS, ADMIN, makeAccount, NOW, PHONE, STRANGER } from '../test/fixtures';

/** Master Profile UDFs of the tests (any UDF in its canonical form). */
const MASTER_1 = accountUdf('master1@example.com');
const MASTER_2 = accountUdf('master2@example.com');
const MBOB = accountUdf('master.bob@example.com');
const MEVE = accountUdf('master.eve@example.com');

const BOB = 'bob@beta.example';
const jwe = async (): Promise<JsonObject> =>
  (await encryptJwe(utf8('{"Text":"hello"}'), [
    { algorithm: 'X25519', publicKey: PHONE.encryption.publicKey },
  ])) as unknown as JsonObject;

/** Matches a thrown error by its code. */
const codeError = (code: string): Error => expect.objectContaining({ code }) as Error;

const flip = (text: string): string => text.slice(0, 5) + (text[5] === 'A' ? 'B' : 'A') + text.slice(6);

describe('catalog values (docs/design/inbound.md "Catalog objects")', () => {
  it('a retrieval key is HMAC-SHA256 of catalog and natural key: 43 characters, keyed, per catalog', () => {
    const k1 = new Uint8Array(32).fill(1);
    const k2 = new Uint8Array(32).fill(2);
    const a = retrievalKey(k1, 'contact', BOB);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(retrievalKey(k1, 'contact', BOB)).toBe(a);
    expect(retrievalKey(k2, 'contact', BOB)).not.toBe(a);
    expect(retrievalKey(k1, 'credential', BOB)).not.toBe(a);
    expect(() => retrievalKey(new Uint8Array(16), 'contact', BOB)).toThrow(/32 bytes/);
  });

  it('signs, reads and verifies a contact with its Access rule; a tombstone too', async () => {
    const { personal } = await makeAccount();
    const access: CatalogAccess = { account: accountUdf(BOB), master: MBOB, rule: 'allow' };
    const id = retrievalKey(new Uint8Array(32).fill(3), 'contact', BOB);
    const value = {
      account: ACCOUNT,
      catalog: 'contact',
      id,
      sequence: 1,
      created: NOW,
      access,
      data: await jwe(),
    } as const;
    const jws = await signCatalogValue(value, ADMIN.signature);
    const verified = await verifyCatalogValue(jws, personal.profile);
    expect(verified.value).toEqual({ ...value, deleted: false });
    expect(verified.device.signature.udf).toBe(readCatalogValue(jws).kid);
    const tomb = await signCatalogValue(
      { account: ACCOUNT, catalog: 'contact', id, sequence: 2, created: NOW, deleted: true },
      ADMIN.signature,
    );
    expect((await verifyCatalogValue(tomb, personal.profile)).value.deleted).toBe(true);
  });

  it('refuses a value of a stranger device, a changed payload, and every malformed form', async () => {
    const { personal } = await makeAccount();
    const good = {
      account: ACCOUNT,
      catalog: 'application',
      id: CATALOG_KEY_ID,
      sequence: 1,
      created: NOW,
      data: await jwe(),
    } as const;
    await expect(
      verifyCatalogValue(await signCatalogValue(good, STRANGER.signature), personal.profile),
    ).rejects.toMatchObject({
      code: 'catalog.unknown-device',
    });
    const jws = await signCatalogValue(good, ADMIN.signature);
    await expect(
      verifyCatalogValue({ ...jws, signature: flip(jws.signature) }, personal.profile),
    ).rejects.toMatchObject({
      code: 'catalog.bad-signature',
    });
    const bad: Array<Record<string, unknown>> = [
      { ...good, id: 'short' },
      { ...good, catalog: 'photos' },
      { ...good, sequence: 0 },
      { ...good, data: undefined },
      { ...good, data: { ciphertext: 'x' } },
      { ...good, access: { account: ACCOUNT, master: MBOB, rule: 'allow' } }, // Access outside the contact catalog
      { ...good, catalog: 'contact', access: { account: ACCOUNT, rule: 'allow' } }, // an allow rule not pinned
      { ...good, deleted: true }, // a tombstone with Data
    ];
    for (const input of bad)
      await expect(signCatalogValue(input as never, ADMIN.signature)).rejects.toMatchObject({
        code: 'catalog.invalid',
      });
    expect(() => readCatalogValue({ protected: 'e30', payload: 'e30', signature: 'AA' })).toThrow(
      codeError('catalog.invalid'),
    );
  });

  const value = (sequence: number, deleted = false): CatalogValue => ({
    account: ACCOUNT,
    catalog: 'contact',
    id: CATALOG_KEY_ID,
    sequence,
    created: NOW,
    deleted,
  });

  it('applies 000 §3.2.1 exactly: create from undefined, update in any state, delete from active; Sequence grows', () => {
    expect(applyCatalogEvent(undefined, 'create', value(1))).toMatchObject({
      ok: true,
      next: { status: 'active' },
    });
    expect(applyCatalogEvent(undefined, 'update', value(1))).toMatchObject({
      ok: true,
      next: { status: 'active' },
    });
    expect(applyCatalogEvent({ state: 'inactive', sequence: 2 }, 'update', value(3))).toMatchObject({
      ok: true,
    });
    expect(applyCatalogEvent({ state: 'active', sequence: 1 }, 'create', value(2))).toMatchObject({
      code: 'persistence.exists',
    });
    expect(applyCatalogEvent(undefined, 'delete', value(1, true))).toMatchObject({
      code: 'persistence.undefined',
    });
    expect(applyCatalogEvent({ state: 'inactive', sequence: 1 }, 'delete', value(2, true))).toMatchObject({
      code: 'persistence.inactive',
    });
    expect(applyCatalogEvent({ state: 'active', sequence: 1 }, 'delete', value(2, true))).toMatchObject({
      ok: true,
      next: { status: 'inactive' },
    });
    expect(applyCatalogEvent({ state: 'active', sequence: 5 }, 'update', value(5))).toMatchObject({
      code: 'catalog.sequence',
    });
    expect(applyCatalogEvent({ state: 'active', sequence: 1 }, 'delete', value(2))).toMatchObject({
      code: 'catalog.invalid',
    });
    expect(applyCatalogEvent({ state: 'active', sequence: 1 }, 'update', value(2, true))).toMatchObject({
      code: 'catalog.invalid',
    });
  });

  it('agrees with a reference of the persistence model over any trace of events (property)', () => {
    const actions = fc.array(fc.constantFrom('create', 'update', 'delete'), { maxLength: 20 });
    fc.assert(
      fc.property(actions, (trace) => {
        let current: { state: 'active' | 'inactive'; sequence: number } | undefined;
        let reference: 'undefined' | 'active' | 'inactive' = 'undefined';
        trace.forEach((action, i) => {
          const outcome = applyCatalogEvent(current, action, value(i + 1, action === 'delete'));
          const valid =
            action === 'create'
              ? reference === 'undefined'
              : action === 'update'
                ? true
                : reference === 'active';
          expect(outcome.ok).toBe(valid);
          if (outcome.ok) {
            reference = action === 'delete' ? 'inactive' : 'active';
            current = { state: reference, sequence: i + 1 };
          }
        });
      }),
    );
  });
});

describe('inbound envelopes (docs/design/inbound.md "Inbound envelopes")', () => {
  const input = async () => ({
    kind: 'message' as const,
    from: ADDRESS,
    fromMaster: (await makeAccount()).master.profile.id,
    to: BOB,
    toMaster: MBOB,
    created: NOW,
    body: await jwe(),
  });

  it('signs and verifies against the sender profiles; the text round-trips; the work body binds the payload', async () => {
    const { master, personal } = await makeAccount();
    const jws = await signEnvelope(await input(), ADMIN.signature);
    const { envelope, device } = await verifyEnvelope(jws, {
      account: ACCOUNT,
      master: master.profile,
      personal: personal.profile,
    });
    expect(envelope).toMatchObject({ kind: 'message', fromAccount: ACCOUNT, toAccount: accountUdf(BOB) });
    expect(JSON.stringify(envelope)).not.toContain('@'); // addresses travel only inside the Body
    expect(envelope.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(device.id).toBe(personal.profile.devices[0]!.id);
    expect(parseEnvelopeText(envelopeText(jws), 65536)).toEqual(jws);
    const other = await signEnvelope(
      { ...(await input()), id: envelope.id, kind: 'contact' },
      ADMIN.signature,
    );
    expect(envelopeWorkBody(readEnvelope(other).envelope)).not.toBe(envelopeWorkBody(envelope));
  });

  it('refuses a forged sender: another device, another Master Profile, a changed payload', async () => {
    const { master, personal } = await makeAccount();
    const sender = { account: ACCOUNT, master: master.profile, personal: personal.profile };
    await expect(
      verifyEnvelope(await signEnvelope(await input(), STRANGER.signature), sender),
    ).rejects.toMatchObject({
      code: 'inbound.unknown-device',
    });
    await expect(
      verifyEnvelope(await signEnvelope({ ...(await input()), fromMaster: MEVE }, ADMIN.signature), sender),
    ).rejects.toMatchObject({ code: 'inbound.wrong-sender' });
    const jws = await signEnvelope(await input(), ADMIN.signature);
    await expect(verifyEnvelope({ ...jws, signature: flip(jws.signature) }, sender)).rejects.toMatchObject({
      code: 'inbound.bad-signature',
    });
  });

  it('refuses an envelope verified against another account than the one it names', async () => {
    const { master, personal } = await makeAccount();
    const jws = await signEnvelope(await input(), ADMIN.signature);
    await expect(
      verifyEnvelope(jws, { account: accountUdf(BOB), master: master.profile, personal: personal.profile }),
    ).rejects.toMatchObject({ code: 'inbound.wrong-sender' });
  });

  it("draws envelope ids that a command line cannot take for an option: never a leading '-'", () => {
    const ids = Array.from({ length: 4096 }, () => newEnvelopeId());
    expect(ids.every((id) => /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // A source whose first byte would give '-' (0xf8 >> 2 is 62) still gives an id, at once.
    expect(newEnvelopeId((n) => new Uint8Array(n).fill(0xf8))).toMatch(/^e/);
  });

  it('binds the Body to its envelope: the recipient opens it; a re-signed or re-kinded Body is refused', async () => {
    const recipients = [{ algorithm: 'X25519' as const, publicKey: PHONE.encryption.publicKey }];
    const key = { algorithm: 'X25519' as const, privateKey: PHONE.encryption.privateKey };
    const id = newEnvelopeId();
    const body = await sealInboundBody(
      { id, kind: 'message', from: ADDRESS, to: BOB },
      { Text: 'hi' },
      recipients,
    );
    const base = { ...(await input()), id, body };
    const { envelope } = readEnvelope(await signEnvelope(base, ADMIN.signature));
    expect(await openInboundBody(envelope, key)).toEqual({ from: ADDRESS, to: BOB, content: { Text: 'hi' } });
    // Mallory re-signs Alice's Body as his own, or as another kind: the binding names Alice and "message".
    const resigned = readEnvelope(
      await signEnvelope({ ...base, from: 'mallory@gamma.example' }, STRANGER.signature),
    );
    await expect(openInboundBody(resigned.envelope, key)).rejects.toMatchObject({ code: 'inbound.invalid' });
    const rekinded = readEnvelope(await signEnvelope({ ...base, kind: 'task' }, ADMIN.signature));
    await expect(openInboundBody(rekinded.envelope, key)).rejects.toMatchObject({ code: 'inbound.invalid' });
    const otherId = readEnvelope(await signEnvelope({ ...base, id: newEnvelopeId() }, ADMIN.signature));
    await expect(openInboundBody(otherId.envelope, key)).rejects.toMatchObject({ code: 'inbound.invalid' });
    // Another device's key cannot open it.
    await expect(
      openInboundBody(envelope, { algorithm: 'X25519', privateKey: STRANGER.encryption.privateKey }),
    ).rejects.toMatchObject({ code: 'inbound.invalid' });
  });

  it('refuses malformed envelopes and oversized or malformed text', async () => {
    const base = await input();
    for (const bad of [
      { ...base, kind: 'spam' },
      { ...base, id: 'x' },
      { ...base, to: ADDRESS }, // to itself
      { ...base, body: { hello: 1 } },
    ])
      await expect(signEnvelope(bad as never, ADMIN.signature)).rejects.toThrow();
    const text = envelopeText(await signEnvelope(base, ADMIN.signature));
    expect(() => parseEnvelopeText(text, 100)).toThrow(codeError('inbound.too-large'));
    expect(() => parseEnvelopeText('{', 65536)).toThrow(codeError('inbound.invalid'));
    expect(() => parseEnvelopeText('{"protected":"a","payload":"b","signature":"c","x":1}', 65536)).toThrow(
      codeError('inbound.invalid'),
    );
  });
});

describe('inbound access control (docs/design/inbound.md "Access control")', () => {
  const sender = { account: accountUdf(ADDRESS), master: MASTER_1 };
  const allow: CatalogAccess = { account: sender.account, master: MASTER_1, rule: 'allow' };
  const block: CatalogAccess = { account: sender.account, rule: 'block' };

  it('a stranger may send only a contact request; a contact anything; a blocked sender nothing', () => {
    expect(decideInbound('contact', sender, [])).toEqual({ ok: true, stranger: true });
    for (const kind of ['message', 'task', 'confirm', 'answer'] as const)
      expect(decideInbound(kind, sender, [])).toMatchObject({ ok: false, code: 'inbound.not-a-contact' });
    expect(decideInbound('message', sender, [allow])).toEqual({ ok: true, stranger: false });
    expect(decideInbound('contact', sender, [allow, block])).toMatchObject({ code: 'inbound.blocked' });
  });

  it('a rule pinned to a Master Profile does not admit a new owner of the address', () => {
    const pinned = allow;
    expect(accessMatches(pinned, sender)).toBe(true);
    expect(accessMatches(block, { ...sender, master: MASTER_2 })).toBe(true); // an unpinned block: every owner
    expect(accessMatches(pinned, { ...sender, master: MASTER_2 })).toBe(false);
    expect(decideInbound('message', { ...sender, master: MASTER_2 }, [pinned])).toMatchObject({
      code: 'inbound.not-a-contact',
    });
    expect(accessMatches({ ...allow, account: accountUdf(BOB) }, sender)).toBe(false);
  });
});
