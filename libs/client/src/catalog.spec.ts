import { jweRecipientIds, keyUdf, accountUdf } from '@cryptomesh/crypto/portable';
import { CATALOG_KEY_ID, readCatalogValue, signCatalogValue } from '@cryptomesh/mesh';
import { account, FakeCatalogPortal } from '../test/catalog-fake';
import { MeshCatalog } from './catalog';
import { getContact, listContacts, putContact } from './catalog-contacts';
import { isClientError, type ClientError } from './client-error';
import { generateDeviceKeys } from './device-keys';

/** Master Profile UDFs of the tests (any UDF in its canonical form). */
const MBOB = accountUdf('master.bob@example.com');
const MEVE = accountUdf('master.eve@example.com');

async function failure(call: Promise<unknown>): Promise<ClientError> {
  try {
    await call;
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('MeshCatalog (docs/design/inbound.md "Catalog objects")', () => {
  it('creates the catalog key once; objects round-trip, stored as ciphertext to every device and the escrow agent', async () => {
    const portal = new FakeCatalogPortal();
    const [laptop, phone] = [generateDeviceKeys(), generateDeviceKeys()];
    const alice = await account(portal, [laptop, phone], laptop, true);
    const catalog = new MeshCatalog(alice);
    await catalog.put('credential', 'bank.example', {
      Service: 'bank.example',
      Username: 'al',
      Password: 'hunter2',
    });
    expect((await catalog.get('credential', 'bank.example'))?.content).toEqual({
      Service: 'bank.example',
      Username: 'al',
      Password: 'hunter2',
    });
    expect([...portal.rows.keys()].sort()).toEqual(
      [`contact/${CATALOG_KEY_ID}`, `credential/${await catalog.idOf('credential', 'bank.example')}`].sort(),
    );
    const stored = JSON.stringify([...portal.rows.values()].map((r) => readCatalogValue(r.value).value));
    expect(stored).not.toContain('hunter2');
    expect(stored).not.toContain('bank.example');
    const row = portal.rows.get(`credential/${await catalog.idOf('credential', 'bank.example')}`)!;
    const { value } = readCatalogValue(row.value);
    expect(jweRecipientIds(value.data).sort()).toEqual(
      [laptop.encryption, phone.encryption, alice.agent!.encryption]
        .map((k) => keyUdf(k.algorithm, k.publicKey))
        .sort(),
    );

    // The phone (another store) finds the same key in the portal and reads the laptop's object.
    const fromPhone = new MeshCatalog({
      ...(await account(portal, [laptop, phone], phone)),
      doc: alice.doc,
    });
    expect((await fromPhone.get('credential', 'bank.example'))?.content['Password']).toBe('hunter2');
    expect(await fromPhone.idOf('contact', 'x@y.z')).toBe(await catalog.idOf('contact', 'x@y.z'));

    // Update, delete (a signed tombstone), re-create by update; the key is not listed.
    await catalog.put('credential', 'bank.example', {
      Service: 'bank.example',
      Username: 'al',
      Password: 'new',
    });
    expect(await catalog.delete('credential', 'bank.example')).toBe(true);
    expect(await catalog.delete('credential', 'bank.example')).toBe(false);
    expect(await catalog.get('credential', 'bank.example')).toBeUndefined();
    expect(await catalog.list('credential')).toEqual([]);
    await catalog.put('credential', 'bank.example', {
      Service: 'bank.example',
      Username: 'al',
      Password: 'back',
    });
    expect((await catalog.list('credential')).map((o) => [o.sequence, o.content['Password']])).toEqual([
      [4, 'back'],
    ]);
    expect(await catalog.list('contact')).toEqual([]);
  });

  it('contacts carry their Access in clear and everything else encrypted', async () => {
    const portal = new FakeCatalogPortal();
    const laptop = generateDeviceKeys();
    const catalog = new MeshCatalog(await account(portal, [laptop], laptop));
    await putContact(catalog, {
      address: 'Bob@Beta.example',
      master: MBOB,
      trust: 'requested',
      name: 'Bobby Tables',
    });
    await putContact(catalog, {
      address: 'eve@x.example',
      master: MEVE,
      trust: 'blocked',
    });
    expect(await listContacts(catalog)).toMatchObject([
      {
        address: 'bob@beta.example',
        master: MBOB,
        trust: 'requested',
        name: 'Bobby Tables',
        access: { rule: 'allow' },
      },
      { address: 'eve@x.example', trust: 'blocked', access: { rule: 'block' } },
    ]);
    expect((await getContact(catalog, 'bob@beta.example'))?.access?.master).toBe(MBOB);
    await putContact(catalog, {
      address: 'bob@beta.example',
      master: MBOB,
      trust: 'accepted',
    });
    expect((await catalog.contactRules()).map((r) => [r.rule, r.master])).toEqual(
      expect.arrayContaining([
        ['allow', MBOB],
        ['block', undefined],
      ]),
    );
    // The address and the name are only in the ciphertext; the Access (account UDF, Master) is in clear.
    const payloads = JSON.stringify([...portal.rows.values()].map((r) => readCatalogValue(r.value).value));
    expect(payloads).not.toMatch(/bob@beta|Bobby Tables/);
    expect(payloads).toContain(`"master":"${MBOB}"`);
  });

  it('refuses what a cheating portal serves: an older value, a hidden object, a stranger’s signature, a swapped Id', async () => {
    const portal = new FakeCatalogPortal();
    const laptop = generateDeviceKeys();
    const alice = await account(portal, [laptop], laptop);
    const catalog = new MeshCatalog(alice);
    await catalog.put('application', 'editor', { Application: 'editor', Settings: { theme: 'dark' } });
    const id = await catalog.idOf('application', 'editor');
    const key = `application/${id}`;
    const first = { ...portal.rows.get(key)! };
    await catalog.put('application', 'editor', { Application: 'editor', Settings: { theme: 'light' } });
    const second = { ...portal.rows.get(key)! };

    portal.rows.set(key, first); // replay of Sequence 1 after this device saw 2
    expect((await failure(catalog.get('application', 'editor'))).code).toBe('verify.catalog');
    expect((await failure(catalog.list('application'))).code).toBe('verify.catalog');

    portal.rows.delete(key); // hiding an object this device saw
    expect((await failure(catalog.list('application'))).code).toBe('verify.catalog');
    expect((await failure(catalog.get('application', 'editor'))).code).toBe('verify.catalog');

    const stranger = generateDeviceKeys(); // a value signed by a key that is no device of the account
    const forged = await signCatalogValue(
      { ...readCatalogValue(second.value).value, sequence: 3 },
      stranger.signature,
    );
    portal.rows.set(key, { state: 'active', sequence: 3, value: forged });
    expect((await failure(catalog.get('application', 'editor'))).message).toMatch(/does not verify/);

    await catalog.put('application', 'other', { Application: 'other', Settings: {} });
    const otherId = await catalog.idOf('application', 'other');
    portal.rows.set(key, portal.rows.get(`application/${otherId}`)!); // another object's value under this Id
    expect((await failure(catalog.get('application', 'editor'))).message).toMatch(/the value of application/);

    portal.rows.set(key, second); // the genuine latest value is accepted again
    expect((await catalog.get('application', 'editor'))?.content).toMatchObject({
      Settings: { theme: 'light' },
    });
  });

  it('a device the catalog key was not encrypted to is told so (state.missing)', async () => {
    const portal = new FakeCatalogPortal();
    const [laptop, late] = [generateDeviceKeys(), generateDeviceKeys()];
    await new MeshCatalog(await account(portal, [laptop], laptop)).catalogKey();
    const error = await failure(new MeshCatalog(await account(portal, [laptop, late], late)).catalogKey());
    expect(error.code).toBe('state.missing');
  });
});
