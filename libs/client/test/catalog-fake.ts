import { accountUdf, keyUdf, type FlattenedJws } from '@cryptomesh/crypto/portable';
import {
  applyCatalogEvent,
  buildMasterProfile,
  buildPersonalProfile,
  readCatalogValue,
  type CatalogAction,
} from '@cryptomesh/mesh';
import type { AccountSession } from '../src/account-session';
import type { OpenAccount } from '../src/catalog-account';
import { MemoryClientStore } from '../src/client-store';
import { generateDeviceKeys, generateMasterKey, type DeviceKeys } from '../src/device-keys';
import type { GatewayFields } from '../src/gateway-client';
import type { MeshProfileManager } from '../src/profile-manager';
import type { ActiveProfile } from '../src/profile-document';

export const ADDRESS = 'alice@example.com';

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
export class FakeCatalogPortal {
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

export async function account(
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
    accountUdf: accountUdf(ADDRESS),
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
