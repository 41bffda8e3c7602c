import { jweRecipientIds, keyUdf, type FlattenedJws } from '@cryptomesh/crypto/portable';
import {
  applyCatalogEvent,
  buildMasterProfile,
  buildPersonalProfile,
  CATALOG_KEY_ID,
  readCatalogValue,
  signCatalogValue,
  type CatalogAction,
} from '@cryptomesh/mesh';
import type { AccountSession } from './account-session';
import { MeshCatalog } from './catalog';
import type { OpenAccount } from './catalog-account';
import { getContact, listContacts, putContact } from './catalog-contacts';
import { isClientError, type ClientError } from './client-error';
import { MemoryClientStore } from './client-store';
import { generateDeviceKeys, generateMasterKey, type DeviceKeys } from './device-keys';
import type { GatewayFields } from './gateway-client';
import type { MeshProfileManager } from './profile-manager';
import type { ActiveProfile } from './profile-document';

const ADDRESS = 'alice@example.com';

interface Row {
  state: 'active' | 'inactive';
  sequence: number;
  value: FlattenedJws;
}

/**
 * The catalog side of a home portal in memory, as docs/design/inbound.md "Transactions" states it:
 * CatalogUpdate applies the persistence model (applyCatalogEvent), CatalogGet serves what it holds.
 * Tests reach into `rows` to play a portal that cheats.
 */
class FakeCatalogPortal {
  readonly rows = new Map<string, Row>();

  async handle(name: string, fields: GatewayFields): Promise<GatewayFields> {
    const catalog = fields.Catalog as string;
    if (name === 'CatalogUpdate') {
      const { value } = readCatalogValue(fields.Value);
      const key = `${catalog}/${fields.Id as string}`;
      const row = this.rows.get(key);
      const outcome = applyCatalogEvent(
        row === undefined ? undefined : { state: row.state, sequence: row.sequence },
        fields.Action as CatalogAction,
        value,
      );
      if (!outcome.ok) throw Object.assign(new Error(outcome.code), { refused: outcome.code });
      this.rows.set(key, {
        state: outcome.next.status === 'active' ? 'active' : 'inactive',
        sequence: value.sequence,
        value: fields.Value as FlattenedJws,
      });
      return { Catalog: catalog, Id: fields.Id, State: outcome.next.status, Sequence: value.sequence };
    }
    if (name === 'CatalogGet') {
      const objects = [...this.rows.entries()]
        .filter(([key]) => key.startsWith(`${catalog}/`))
        .filter(([key]) => fields.Id === undefined || key === `${catalog}/${fields.Id as string}`)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, row]) => ({ Id: key.slice(catalog.length + 1), State: row.state, Value: row.value }));
      return Promise.resolve({ Objects: objects });
    }
    throw new Error(`unexpected ${name}`);
  }
}

async function account(
  portal: FakeCatalogPortal,
  devices: DeviceKeys[],
  self: DeviceKeys,
  escrow?: boolean,
): Promise<OpenAccount & { agent?: ReturnType<typeof generateDeviceKeys> }> {
  const agent = escrow === true ? generateDeviceKeys() : undefined;
  const master = await buildMasterProfile(
    {
      administrators: [devices[0]!.signature],
      created: 1,
      ...(agent === undefined
        ? {}
        : { escrow: agent.encryption, escrowConsent: generateDeviceKeys().signature }),
    },
    generateMasterKey(),
  );
  const personal = await buildPersonalProfile(
    { master: master.profile.id, sequence: 0, devices },
    devices[0]!.signature,
  );
  const doc = {
    status: 'active',
    account: ADDRESS,
    accountUdf: 'ACCOUNT-UDF',
    master,
    personal,
  } as unknown as ActiveProfile;
  let clock = 1_800_000_000_000;
  const session = {
    keys: self,
    deviceId: keyUdf(self.signature.algorithm, self.signature.publicKey),
    gateway: { portal: 'alpha' },
    now: () => clock++,
    random: (n: number) => crypto.getRandomValues(new Uint8Array(n)),
    authenticated: (name: string, fields: GatewayFields) => portal.handle(name, fields),
  } as unknown as AccountSession;
  return {
    manager: {} as MeshProfileManager,
    store: new MemoryClientStore(),
    session,
    doc,
    trust: {} as OpenAccount['trust'],
    ...(agent === undefined ? {} : { agent }),
  };
}

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
      master: 'MBOB',
      trust: 'requested',
      name: 'Bobby Tables',
    });
    await putContact(catalog, {
      address: 'eve@x.example',
      master: 'MEVE',
      trust: 'blocked',
    });
    expect(await listContacts(catalog)).toMatchObject([
      {
        address: 'bob@beta.example',
        master: 'MBOB',
        trust: 'requested',
        name: 'Bobby Tables',
        access: { rule: 'allow' },
      },
      { address: 'eve@x.example', trust: 'blocked', access: { rule: 'block' } },
    ]);
    expect((await getContact(catalog, 'bob@beta.example'))?.access?.master).toBe('MBOB');
    await putContact(catalog, {
      address: 'bob@beta.example',
      master: 'MBOB',
      trust: 'accepted',
    });
    expect((await catalog.contactRules()).map((r) => [r.rule, r.master])).toEqual(
      expect.arrayContaining([
        ['allow', 'MBOB'],
        ['block', undefined],
      ]),
    );
    // The address and the name are only in the ciphertext; the Access (account UDF, Master) is in clear.
    const payloads = JSON.stringify([...portal.rows.values()].map((r) => readCatalogValue(r.value).value));
    expect(payloads).not.toMatch(/bob@beta|Bobby Tables/);
    expect(payloads).toContain('"master":"MBOB"');
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
