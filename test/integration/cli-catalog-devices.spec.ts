import { rmSync } from 'node:fs';
import { jweRecipientIds, keyUdf } from '@cryptomesh/crypto';
import { loadDeviceKeys } from '@cryptomesh/client';
import { readCatalogValue } from '@cryptomesh/mesh';
import { FileClientStore } from '../../apps/cli/src/home/file-client-store';
import { freshHome, meshJson } from '../../apps/cli/test/built-mesh';
import { queryDatabase } from '../support/db-snapshot';
import { startTestFederation, type Federation } from '../support/federation';
import { waitFor, type KnownPortal } from '../support/federation-oracle';

/**
 * The catalogs follow the account's devices and its moves (issue #20 follow-up; docs/design/client.md
 * "Catalogs"), through the BUILT `mesh` binary against a real two-portal federation (PostgreSQL,
 * Kafka): contacts added on one device are read — and added to — by a device connected afterwards
 * (`mesh device accept` re-encrypts them); after `mesh device remove`, the remaining device reads
 * everything and the removed device's key is a recipient of no object and signed none; `mesh catalog
 * sync` re-encrypts on demand; `mesh portal switch` carries every object (values and tombstones, with
 * their Sequences) to the new home before alpha erases them, and `mesh contact list` there shows them.
 */
const ALICE = 'alice@example.com';
const CONTACTS = ['bob@example.com', 'carol@example.com', 'dan@example.com'] as const;

interface Request {
  requestId: string;
  witness: string;
  deviceId: string;
}
interface ContactJson {
  address: string;
  trust: string;
}
type Counts = Record<'contact' | 'application' | 'credential', number>;
interface SyncJson {
  rewritten: Counts;
  tombstones: Counts;
}
type Row = {
  catalog: string;
  id: string;
  state: string;
  sequence: number;
  value: string;
};

describe('catalogs that follow the devices and the moves of the account', () => {
  const homes = { one: freshHome('cat-one'), two: freshHome('cat-two'), others: freshHome('cat-others') };
  const contactHomes = CONTACTS.map((c) => freshHome(`cat-${c.split('@')[0]}`));
  let federation: Federation;
  let A: KnownPortal;
  let B: KnownPortal;
  let aliceUdf: string;
  let oneDevice: string;
  let twoDevice: string;
  let twoEncryption: string;

  beforeAll(async () => {
    federation = await startTestFederation({
      portals: ['alpha', 'beta'],
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, LOG_LEVEL: 'warn' },
    });
    const portals: KnownPortal[] = federation.portals.map((p) => ({ ...p }));
    [A, B] = portals as [KnownPortal, KnownPortal];
    const created = await meshJson<{ deviceId: string }>(homes.one, [
      'profile',
      'create',
      '--portal',
      A.gatewayUrl,
      '--account',
      ALICE,
    ]);
    oneDevice = created.deviceId;
    for (const [i, address] of CONTACTS.entries())
      await meshJson(contactHomes[i]!, ['profile', 'create', '--portal', A.gatewayUrl, '--account', address]);
    aliceUdf = (
      await queryDatabase<{ account_udf: string }>(
        federation.portal(A.id).databaseUrl,
        'SELECT account_udf FROM accounts WHERE address = $1',
        [ALICE],
      )
    )[0]!.account_udf;
  }, 300_000);

  afterAll(async () => {
    await federation?.stop();
    for (const dir of [...Object.values(homes), ...contactHomes])
      rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const contactsOf = async (dir: string) =>
    (await meshJson<{ contacts: ContactJson[] }>(dir, ['contact', 'list'])).contacts
      .map((c) => c.address)
      .sort();
  const rowsAt = (portal: KnownPortal) =>
    queryDatabase<Row>(
      federation.portal(portal.id).databaseUrl,
      `SELECT catalog, id, state, sequence::int AS sequence, value FROM user_catalog_objects
        WHERE account_udf = $1 ORDER BY catalog, id`,
      [aliceUdf],
    );

  it('a device connected later reads the contacts added before it, and adds one the first device reads', async () => {
    await meshJson(homes.one, ['contact', 'add', CONTACTS[0]]);
    const request = await meshJson<Request>(homes.two, [
      'device',
      'connect',
      '--portal',
      A.gatewayUrl,
      '--account',
      ALICE,
      '--description',
      'phone',
      '--wait',
      '0',
    ]);
    twoDevice = request.deviceId;
    const accepted = await meshJson<{ device: { id: string }; catalogs: SyncJson }>(homes.one, [
      'device',
      'accept',
      request.requestId,
      '--witness',
      request.witness,
    ]);
    // The catalog key object and bob's contact, re-encrypted to both devices.
    expect(accepted.catalogs).toEqual({
      rewritten: { contact: 2, application: 0, credential: 0 },
      tombstones: { contact: 0, application: 0, credential: 0 },
    });
    expect(await meshJson(homes.two, ['device', 'connect', '--wait', '30'])).toMatchObject({
      result: 'accepted',
    });
    twoEncryption = await encryptionKeyOf(homes.two);

    expect(await contactsOf(homes.two)).toEqual([CONTACTS[0]]);
    await meshJson(homes.two, ['contact', 'add', CONTACTS[1]]);
    expect(await contactsOf(homes.one)).toEqual([CONTACTS[0], CONTACTS[1]]);
    // A contact removed: a tombstone, which the move must carry too.
    await meshJson(homes.one, ['contact', 'add', CONTACTS[2]]);
    await meshJson(homes.one, ['contact', 'remove', CONTACTS[2]]);
    const values = (await rowsAt(A)).filter((r) => r.state === 'active');
    expect(values).toHaveLength(3); // the key, bob, carol
    expect(values.some((r) => readCatalogValue(JSON.parse(r.value)).kid === twoDevice)).toBe(true);
    for (const r of values)
      expect(jweRecipientIds(readCatalogValue(JSON.parse(r.value)).value.data)).toContain(twoEncryption);
  }, 240_000);

  it("a removed device: the other reads everything, and no object is the removed device's any more", async () => {
    const before = new Map((await rowsAt(A)).map((r) => [r.id, r.sequence]));
    const removed = await meshJson<{ removed: string; catalogs: SyncJson }>(homes.one, [
      'device',
      'remove',
      twoDevice,
    ]);
    expect(removed).toEqual({
      removed: twoDevice,
      catalogs: {
        rewritten: { contact: 3, application: 0, credential: 0 },
        tombstones: { contact: 1, application: 0, credential: 0 },
      },
    });
    const rows = await rowsAt(A);
    const oneEncryption = await encryptionKeyOf(homes.one);
    for (const r of rows) {
      const { value, kid } = readCatalogValue(JSON.parse(r.value));
      if (r.state !== 'active') {
        expect(r.sequence).toBe(before.get(r.id)); // the tombstone is not touched
        continue;
      }
      expect(r.sequence).toBe(before.get(r.id)! + 1);
      expect(kid).toBe(oneDevice); // carol's contact was the phone's: re-signed
      expect(jweRecipientIds(value.data)).toEqual([oneEncryption]);
    }
    expect(await contactsOf(homes.one)).toEqual([CONTACTS[0], CONTACTS[1]]);

    // `mesh catalog sync` does it again on demand (any device that reads the catalog key).
    const synced = await meshJson<{ catalogs: SyncJson }>(homes.one, ['catalog', 'sync']);
    expect(synced.catalogs.rewritten.contact).toBe(3);
    expect((await rowsAt(A)).filter((r) => r.state === 'active').map((r) => r.sequence)).toEqual(
      rows.filter((r) => r.state === 'active').map((r) => r.sequence + 1),
    );
  }, 240_000);

  it('a move to another portal carries every object; `mesh contact list` there shows the contacts', async () => {
    const atAlpha = (await rowsAt(A)).map(({ catalog, id, state, sequence, value }) => ({
      catalog,
      id,
      state,
      sequence,
      value: JSON.parse(value) as unknown,
    }));
    const switched = await meshJson<{ oldAccountClosed: boolean; catalogs: unknown }>(homes.one, [
      'portal',
      'switch',
      B.gatewayUrl,
    ]);
    expect(switched).toMatchObject({
      oldAccountClosed: true,
      catalogs: { carried: true, objects: 3, tombstones: 1 },
    });
    // Alpha erased them with the move; beta holds the very values, Sequences and states.
    await waitFor('alpha to erase the catalogs of the moved account', async () =>
      (await rowsAt(A)).length === 0 ? true : undefined,
    );
    const atBeta = (await rowsAt(B)).map(({ catalog, id, state, sequence, value }) => ({
      catalog,
      id,
      state,
      sequence,
      value: JSON.parse(value) as unknown,
    }));
    expect(atBeta).toEqual(atAlpha);
    expect(await contactsOf(homes.one)).toEqual([CONTACTS[0], CONTACTS[1]]);
  }, 240_000);
});

/** The UDF of the encryption key of the device whose home is `dir` (a JWE recipient's `kid`). */
async function encryptionKeyOf(dir: string): Promise<string> {
  const keys = await loadDeviceKeys(new FileClientStore(dir));
  return keyUdf(keys.encryption.algorithm, keys.encryption.publicKey);
}
