import { jweRecipientIds, keyUdf, accountUdf } from '@cryptomesh/crypto/portable';
import { buildPersonalProfile, CATALOG_KEY_ID, readCatalogValue } from '@cryptomesh/mesh';
import { account, FakeCatalogPortal } from '../test/catalog-fake';
import { MeshCatalog } from './catalog';
import { putContact } from './catalog-contacts';
import { reencryptCatalogs, reencryptCatalogsIfReadable } from './catalog-sync';
import { isClientError } from './client-error';
import { generateDeviceKeys, type DeviceKeys } from './device-keys';

/** Master Profile UDFs of the tests (any UDF in its canonical form). */
const MBOB = accountUdf('master.bob@example.com');

const udf = (d: DeviceKeys) => keyUdf(d.encryption.algorithm, d.encryption.publicKey);
const signer = (d: DeviceKeys) => keyUdf(d.signature.algorithm, d.signature.publicKey);

describe('reencryptCatalogs (docs/design/client.md "Catalogs")', () => {
  it('a device connected later reads everything once an old device re-encrypted; tombstones stay', async () => {
    const portal = new FakeCatalogPortal();
    const [laptop, phone] = [generateDeviceKeys(), generateDeviceKeys()];
    const alone = await account(portal, [laptop], laptop);
    const catalog = new MeshCatalog(alone);
    await putContact(catalog, { address: 'bob@beta.example', master: MBOB, trust: 'accepted' });
    await catalog.put('credential', 'bank', { Service: 'bank', Username: 'al', Password: 'pw' });
    await catalog.put('credential', 'gone', { Service: 'gone', Username: 'x', Password: 'y' });
    await catalog.delete('credential', 'gone');

    // The phone joins: before a sync it cannot read the catalog key.
    const both = await account(portal, [laptop, phone], laptop);
    const phoneSide = { ...(await account(portal, [laptop, phone], phone)), doc: both.doc };
    const before = await new MeshCatalog(phoneSide).catalogKey().catch((e: unknown) => e);
    expect(isClientError(before, 'state.missing')).toBe(true);

    const sequences = new Map([...portal.rows].map(([k, r]) => [k, r.sequence]));
    const report = await reencryptCatalogs({ ...both, store: alone.store });
    expect(report).toEqual({
      rewritten: { contact: 2, application: 0, credential: 1 },
      tombstones: { contact: 0, application: 0, credential: 1 },
    });
    for (const [key, row] of portal.rows) {
      const { value, kid } = readCatalogValue(row.value);
      if (value.deleted) {
        expect(row.sequence).toBe(sequences.get(key)); // a tombstone is not touched
        continue;
      }
      expect(row.sequence).toBe(sequences.get(key)! + 1);
      expect(kid).toBe(signer(laptop));
      expect(jweRecipientIds(value.data).sort()).toEqual([udf(laptop), udf(phone)].sort());
    }
    const fromPhone = new MeshCatalog(phoneSide);
    expect((await fromPhone.get('credential', 'bank'))?.content['Password']).toBe('pw');
    expect((await fromPhone.list('contact')).map((o) => o.content['Address'])).toEqual(['bob@beta.example']);
    expect(portal.rows.has(`contact/${CATALOG_KEY_ID}`)).toBe(true);
  });

  it('to the devices of the next Personal Profile: the device removed is no recipient; the signer is this device', async () => {
    const portal = new FakeCatalogPortal();
    const [laptop, phone] = [generateDeviceKeys(), generateDeviceKeys()];
    const both = await account(portal, [laptop, phone], laptop);
    const phoneSide = { ...(await account(portal, [laptop, phone], phone)), doc: both.doc };
    await reencryptCatalogs(both); // nothing yet: writes nothing, creates no key
    expect(portal.rows.size).toBe(0);
    await new MeshCatalog(phoneSide).put('application', 'editor', { Application: 'editor', Settings: {} });

    const next = await buildPersonalProfile(
      { master: both.doc.master.profile.id, sequence: 1, devices: [laptop] },
      laptop.signature,
    );
    await reencryptCatalogs(both, { master: both.doc.master, personal: next });
    for (const row of portal.rows.values()) {
      const { value, kid } = readCatalogValue(row.value);
      expect(kid).toBe(signer(laptop));
      expect(jweRecipientIds(value.data)).toEqual([udf(laptop)]);
    }
    // The values verify against the next Personal Profile (the phone's signature is gone from them).
    const after = new MeshCatalog({ ...both, doc: { ...both.doc, personal: next } });
    expect((await after.list('application')).map((o) => o.device)).toEqual([signer(laptop)]);
  });

  it('a device that cannot read the catalog key: state.missing, which the device flows report and go on', async () => {
    const portal = new FakeCatalogPortal();
    const [laptop, late] = [generateDeviceKeys(), generateDeviceKeys()];
    await new MeshCatalog(await account(portal, [laptop], laptop)).put('credential', 's', {
      Service: 's',
      Username: 'u',
      Password: 'p',
    });
    const lateSide = await account(portal, [laptop, late], late);
    const rows = JSON.stringify([...portal.rows]);
    const error = await reencryptCatalogs(lateSide).catch((e: unknown) => e);
    expect(isClientError(error, 'state.missing')).toBe(true);
    expect(await reencryptCatalogsIfReadable(lateSide)).toHaveProperty('unreadable');
    expect(JSON.stringify([...portal.rows])).toBe(rows); // nothing written
  });
});
