import { accountUdf } from '@cryptomesh/crypto/portable';
import { CATALOG_KEY_ID } from '@cryptomesh/mesh';
import { account, FakeCatalogPortal } from '../test/catalog-fake';
import { MeshCatalog } from './catalog';
import { putContact, listContacts } from './catalog-contacts';
import { carryCatalogs, reconcileLostCatalogs, snapshotCatalogs } from './catalog-move';
import { generateDeviceKeys } from './device-keys';

/** Master Profile UDFs of the tests (any UDF in its canonical form). */
const MBOB = accountUdf('master.bob@example.com');

describe('moving the catalogs to a new home (catalog-move.ts)', () => {
  it('carries every value and tombstone with the same Sequences; a second run writes nothing', async () => {
    const [oldHome, newHome] = [new FakeCatalogPortal(), new FakeCatalogPortal()];
    const laptop = generateDeviceKeys();
    const atOld = await account(oldHome, [laptop], laptop);
    const catalog = new MeshCatalog(atOld);
    await putContact(catalog, { address: 'bob@beta.example', master: MBOB, trust: 'accepted' });
    await catalog.put('credential', 'bank', { Service: 'bank', Username: 'al', Password: 'pw' });
    await catalog.put('credential', 'gone', { Service: 'gone', Username: 'x', Password: 'y' });
    await catalog.delete('credential', 'gone');

    const atNew = { ...(await account(newHome, [laptop], laptop)), doc: atOld.doc, store: atOld.store };
    const snapshot = await snapshotCatalogs(atOld);
    expect(await carryCatalogs(atNew, snapshot)).toEqual({ carried: true, objects: 3, tombstones: 1 });
    const sequences = (p: FakeCatalogPortal) => [...p.rows].map(([k, r]) => [k, r.state, r.sequence]).sort();
    expect(sequences(newHome)).toEqual(sequences(oldHome));
    // The very values (the old tombstone, not a new one).
    for (const [key, row] of oldHome.rows) expect(newHome.rows.get(key)?.value).toEqual(row.value);
    expect(await carryCatalogs(atNew, snapshot)).toEqual({ carried: true, objects: 0, tombstones: 0 });

    // The device that saw everything at the old home reads the new one (nothing hidden, no Sequence back).
    const moved = new MeshCatalog(atNew);
    expect((await listContacts(moved)).map((c) => c.address)).toEqual(['bob@beta.example']);
    expect((await moved.list('credential')).map((o) => o.content['Service'])).toEqual(['bank']);
    expect(await moved.get('credential', 'gone')).toBeUndefined();
  });

  it('an old home that cannot be read: what the new home lacks is forgotten (reported), the kept key written', async () => {
    const [oldHome, newHome] = [new FakeCatalogPortal(), new FakeCatalogPortal()];
    const laptop = generateDeviceKeys();
    const atOld = await account(oldHome, [laptop], laptop);
    const catalog = new MeshCatalog(atOld);
    await catalog.put('credential', 'bank', { Service: 'bank', Username: 'al', Password: 'pw' });
    const id = await catalog.idOf('credential', 'bank');

    const atNew = { ...(await account(newHome, [laptop], laptop)), doc: atOld.doc, store: atOld.store };
    // Without the reconciliation, the device refuses the new home (it saw objects there are not).
    await expect(new MeshCatalog(atNew).list('credential')).rejects.toMatchObject({ code: 'verify.catalog' });
    expect(await reconcileLostCatalogs(atNew)).toEqual({ carried: false, lost: 2, keyRestored: true });
    expect(newHome.rows.has(`contact/${CATALOG_KEY_ID}`)).toBe(true);
    const moved = new MeshCatalog(atNew);
    expect(await moved.list('credential')).toEqual([]);
    expect(await moved.idOf('credential', 'bank')).toBe(id); // the same key: the same Ids
    expect(await reconcileLostCatalogs(atNew)).toEqual({ carried: false, lost: 0, keyRestored: false });
  });
});
