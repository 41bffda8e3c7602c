import { accountUdf, keyUdf, type FlattenedJws } from '@cryptomesh/crypto/portable';
import {
  applyCatalogEvent,
  buildMasterProfile,
  buildPersonalProfile,
  envelopeDigest,
  newEnvelopeId,
  readCatalogValue,
  readEnvelope,
  sealInboundBody,
  signEnvelope,
  type CatalogAccess,
  type CatalogAction,
  type InboundKind,
  type JsonObject,
  type MasterProfile,
  type PersonalProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import type { AccountSession } from './account-session';
import { jweRecipients, type OpenAccount } from './catalog-account';
import { putContact } from './catalog-contacts';
import { ClientError, isClientError } from './client-error';
import { MemoryClientStore } from './client-store';
import { generateDeviceKeys, generateMasterKey, type DeviceKeys } from './device-keys';
import type { GatewayFields } from './gateway-client';
import { MeshInbound } from './inbound';
import {
  deleteInbound,
  INBOUND_AGE_GRACE_MS,
  receiveInbound,
  DEFAULT_INBOUND_MAX_AGE_MS,
} from './inbound-receive';
import type { AccountProver, VerifiedAccount } from './inbound-recipient';
import type { MeshProfileManager } from './profile-manager';
import type { ActiveProfile } from './profile-document';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

interface Spooled {
  from: string;
  kind: InboundKind;
  id: string;
  envelope: FlattenedJws;
}

/**
 * A home portal in memory that answers like docs/design/inbound.md "Transactions" says and decides
 * nothing: InboundPost spools whatever it is given for its recipient (a ROGUE portal: no access
 * control, no signature check), InboundList serves the spool, InboundDelete deletes by sender and Id,
 * CatalogUpdate/CatalogGet keep each account's catalog (applyCatalogEvent). Tests write `spool` to
 * play a portal that lies.
 */
type CatalogRow = { state: string; sequence: number; value: FlattenedJws };

class RoguePortal {
  readonly spool = new Map<string, Spooled[]>();
  readonly catalogs = new Map<
    string,
    Map<string, { state: string; sequence: number; value: FlattenedJws }>
  >();
  maxAgeMs: number | undefined;
  readonly deletes: GatewayFields[] = [];

  list(account: string): Spooled[] {
    let list = this.spool.get(account);
    if (list === undefined) this.spool.set(account, (list = []));
    return list;
  }

  put(account: string, envelope: FlattenedJws): void {
    const { envelope: e } = readEnvelope(envelope);
    this.list(account).push({ from: e.fromAccount, kind: e.kind, id: e.id, envelope });
  }

  handle(account: string, name: string, fields: GatewayFields): Promise<GatewayFields> {
    if (name === 'Hello')
      return Promise.resolve({
        Policy: {
          Inbound: {
            ContactProofOfWork: 0,
            ...(this.maxAgeMs === undefined ? {} : { MaxAgeMs: this.maxAgeMs }),
          },
        },
      });
    if (name === 'InboundPost') {
      const { envelope } = readEnvelope(fields.Envelope);
      this.put(envelope.toAccount, fields.Envelope as FlattenedJws);
      return Promise.resolve({ Id: envelope.id, Delivery: 'delivered', Portal: 'alpha' });
    }
    if (name === 'InboundList')
      return Promise.resolve({
        Items: this.list(account).map((s) => ({
          Id: s.id,
          Kind: s.kind,
          FromAccount: s.from,
          Portal: 'alpha',
          Received: '1',
          Envelope: s.envelope,
        })),
      });
    if (name === 'InboundDelete') {
      this.deletes.push(fields);
      const items = fields.Items as Array<{ FromAccount: string; Id: string }>;
      const list = this.list(account);
      const kept = list.filter((s) => !items.some((i) => i.FromAccount === s.from && i.Id === s.id));
      this.spool.set(account, kept);
      return Promise.resolve({ Deleted: list.length - kept.length });
    }
    let catalog = this.catalogs.get(account);
    if (catalog === undefined) this.catalogs.set(account, (catalog = new Map<string, CatalogRow>()));
    const key = `${fields.Catalog as string}/${fields.Id as string}`;
    if (name === 'CatalogUpdate') {
      const { value } = readCatalogValue(fields.Value);
      const row = catalog.get(key);
      const outcome = applyCatalogEvent(
        row === undefined ? undefined : { state: row.state as 'active', sequence: row.sequence },
        fields.Action as CatalogAction,
        value,
      );
      if (!outcome.ok) throw new Error(outcome.code);
      catalog.set(key, {
        state: outcome.next.status === 'active' ? 'active' : 'inactive',
        sequence: value.sequence,
        value: fields.Value as FlattenedJws,
      });
      return Promise.resolve({ State: outcome.next.status, Sequence: value.sequence });
    }
    if (name === 'CatalogGet') {
      const prefix = `${fields.Catalog as string}/`;
      const objects = [...catalog.entries()]
        .filter(([k]) => k.startsWith(prefix) && (fields.Id === undefined || k === key))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, row]) => ({ Id: k.slice(prefix.length), State: row.state, Value: row.value }));
      return Promise.resolve({ Objects: objects });
    }
    throw new Error(`unexpected ${name}`);
  }
}

interface Person {
  readonly address: string;
  readonly device: DeviceKeys;
  readonly master: SignedProfile<MasterProfile>;
  readonly personal: SignedProfile<PersonalProfile>;
  readonly open: OpenAccount;
  readonly verified: VerifiedAccount;
  clock: number;
}

/** A new account at `address`; with `same`, one of the same person's (its Master Profile and device). */
async function person(portal: RoguePortal, address: string, same?: Person): Promise<Person> {
  const device = same?.device ?? generateDeviceKeys();
  const master =
    same?.master ??
    (await buildMasterProfile({ administrators: [device.signature], created: 1 }, generateMasterKey()));
  const personal =
    same?.personal ??
    (await buildPersonalProfile(
      { master: master.profile.id, sequence: 0, devices: [device] },
      device.signature,
    ));
  const account = accountUdf(address);
  const doc = {
    status: 'active',
    account: address,
    accountUdf: account,
    master,
    personal,
  } as unknown as ActiveProfile;
  const self = { clock: NOW } as Person;
  const session = {
    keys: device,
    deviceId: keyUdf(device.signature.algorithm, device.signature.publicKey),
    gateway: { portal: 'alpha', send: (name: string, f: GatewayFields) => portal.handle(account, name, f) },
    now: () => self.clock,
    random: (n: number) => crypto.getRandomValues(new Uint8Array(n)),
    authenticated: (name: string, f: GatewayFields) => portal.handle(account, name, f),
  } as unknown as AccountSession;
  const open: OpenAccount = {
    manager: {} as MeshProfileManager,
    store: new MemoryClientStore(),
    session,
    doc,
    trust: {} as OpenAccount['trust'],
  };
  return Object.assign(self, {
    address,
    device,
    master,
    personal,
    open,
    verified: { address, account, portal: 'alpha', master, personal },
  });
}

/** Proves only the people it knows, by address and Master Profile (as a verified read would). */
function prover(people: Person[]): AccountProver {
  return {
    owners: (_open, address) => {
      const found = people.filter((p) => p.address === address);
      return found.length === 0
        ? Promise.reject(new ClientError('portal.refused', `no ${address}`))
        : Promise.resolve(
            found.map((p) => ({
              portal: 'alpha',
              master: p.master.profile.id,
              personal: p.personal.profile.id,
            })),
          );
    },
    verifiedAccount: (_open, address, master) => {
      const found = people.find(
        (p) => p.address === address && (master === undefined || p.master.profile.id === master),
      );
      return found === undefined
        ? Promise.reject(new ClientError('portal.refused', `no ${address} of ${master ?? '?'}`))
        : Promise.resolve(found.verified);
    },
  };
}

/** An envelope `from` signs (with `key`, default its own device) for `to`, fields overridable. */
async function envelope(
  from: Person,
  to: Person,
  content: JsonObject,
  over: {
    kind?: InboundKind;
    key?: DeviceKeys;
    toAddress?: string;
    toMaster?: string;
    created?: number;
    bodyFor?: { id?: string; kind?: InboundKind };
  } = {},
): Promise<FlattenedJws> {
  const kind = over.kind ?? 'message';
  const id = newEnvelopeId();
  const body = await sealInboundBody(
    {
      id: over.bodyFor?.id ?? id,
      kind: over.bodyFor?.kind ?? kind,
      from: from.address,
      to: over.toAddress ?? to.address,
    },
    content,
    jweRecipients(to.personal.profile.devices.map((d) => d.encryption)),
  );
  return signEnvelope(
    {
      kind,
      id,
      from: from.address,
      fromMaster: from.master.profile.id,
      to: over.toAddress ?? to.address,
      toMaster: over.toMaster ?? to.master.profile.id,
      created: over.created ?? from.clock,
      body,
    },
    (over.key ?? from.device).signature,
  );
}

const allow = (p: Person): CatalogAccess => ({
  account: accountUdf(p.address),
  master: p.master.profile.id,
  rule: 'allow',
});

async function failure(call: Promise<unknown>): Promise<ClientError> {
  try {
    await call;
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('the receiving client\'s checks against a rogue portal (docs/design/inbound.md "What the recipient\'s client checks")', () => {
  let portal: RoguePortal;
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let people: Person[];
  const receive = (rules = [allow(bob), allow(carol)], maxAgeMs?: number) =>
    receiveInbound(alice.open, rules, {
      prover: prover(people),
      ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    });
  const listOnly = async (jws: FlattenedJws) => {
    portal.spool.clear();
    portal.put(alice.verified.account, jws);
    return receive();
  };

  beforeEach(async () => {
    portal = new RoguePortal();
    alice = await person(portal, 'alice@example.com');
    bob = await person(portal, 'bob@example.org');
    carol = await person(portal, 'carol@example.net');
    people = [alice, bob, carol];
  });

  it('accepts an honest message of a contact', async () => {
    const got = await listOnly(await envelope(bob, alice, { Text: 'hi' }));
    expect(got.refused).toEqual([]);
    expect(got.items).toEqual([expect.objectContaining({ from: bob.address, content: { Text: 'hi' } })]);
  });

  it('refuses an envelope signed by a device that is not one of the sender’s (verifyEnvelope)', async () => {
    const got = await listOnly(await envelope(bob, alice, { Text: 'forged' }, { key: carol.device }));
    expect(got.items).toEqual([]);
    expect(got.refused).toEqual([expect.objectContaining({ code: 'verify.envelope', from: bob.address })]);
  });

  it('refuses a Body made for another envelope (openInboundBody): re-signed under another Id or Kind', async () => {
    for (const bodyFor of [{ id: newEnvelopeId(), kind: 'message' as const }, { kind: 'task' as const }]) {
      const jws = await envelope(bob, alice, { Text: 'moved' }, { bodyFor });
      const got = await listOnly(jws);
      expect(got.items).toEqual([]);
      expect(got.refused).toEqual([
        expect.objectContaining({
          code: 'inbound.invalid',
          reason: expect.stringMatching(/another envelope/) as unknown,
        }),
      ]);
    }
  });

  it('refuses an item addressed to another account or to another Master Profile of this address', async () => {
    const otherAccount = await listOnly(await envelope(bob, carol, { Text: "carol's" }));
    expect(otherAccount.refused).toEqual([expect.objectContaining({ code: 'verify.envelope' })]);
    const squatted = await listOnly(
      await envelope(bob, alice, { Text: 'old owner' }, { toMaster: carol.master.profile.id }),
    );
    expect(squatted.items).toEqual([]);
    expect(squatted.refused).toEqual([
      expect.objectContaining({
        code: 'verify.envelope',
        reason: expect.stringMatching(/Master Profile/) as unknown,
      }),
    ]);
  });

  it('refuses a replay of an item this device deleted', async () => {
    const jws = await envelope(bob, alice, { Text: 'once' });
    const first = await listOnly(jws);
    expect(first.items).toHaveLength(1);
    await deleteInbound(alice.open, first.items);
    // The delete names the sender and the Id (InboundDelete `Items`).
    expect(portal.deletes).toEqual([
      { Items: [{ FromAccount: accountUdf(bob.address), Id: first.items[0]!.id }] },
    ]);
    const again = await listOnly(jws);
    expect(again.items).toEqual([]);
    expect(again.refused).toEqual([expect.objectContaining({ code: 'inbound.replayed' })]);
  });

  it('refuses an item older than the max age plus an hour, or more than 5 minutes ahead; takes the max age from Hello', async () => {
    const max = DEFAULT_INBOUND_MAX_AGE_MS + INBOUND_AGE_GRACE_MS;
    const at = async (created: number) =>
      (await listOnly(await envelope(bob, alice, { Text: String(created) }, { created }))).refused.map(
        (r) => r.code,
      );
    expect(await at(alice.clock - max + 1_000)).toEqual([]);
    expect(await at(alice.clock - max - 1_000)).toEqual(['inbound.stale']);
    expect(await at(alice.clock + 299_000)).toEqual([]);
    expect(await at(alice.clock + 301_000)).toEqual(['inbound.stale']);
    portal.maxAgeMs = 2 * HOUR;
    expect(await at(alice.clock - 2.5 * HOUR)).toEqual([]);
    expect(await at(alice.clock - 3.5 * HOUR)).toEqual(['inbound.stale']);
  });

  it("counts an answer only with the request's digest as Ref, from the account and Master Profile it went to", async () => {
    // bob's second address, under the same Master Profile: another account than the request's.
    const bobToo = await person(portal, 'bob2@example.net', bob);
    const inbound = new MeshInbound(alice.open, prover([...people, bobToo]));
    for (const p of [bob, bobToo])
      await putContact(inbound.catalog, {
        address: p.address,
        master: p.master.profile.id,
        trust: 'accepted',
      });
    await putContact(inbound.catalog, {
      address: carol.address,
      master: carol.master.profile.id,
      trust: 'accepted',
    });
    const request = await inbound.send(bob.address, 'confirm', { Text: 'pay?' });
    expect(request.toMaster).toBe(bob.master.profile.id);
    const answer = (from: Person, ref: string) =>
      envelope(from, alice, { Ref: ref, Answer: 'yes' }, { kind: 'answer' });
    const sentJws = portal.list(bob.verified.account)[0]!.envelope;
    const digest = envelopeDigest(readEnvelope(sentJws).envelope);
    const otherDigest = envelopeDigest(
      readEnvelope(await envelope(alice, bob, { Text: 'x' }, { kind: 'confirm' })).envelope,
    );
    // Another request's digest, from bob; the right digest, from carol and from bob's other account.
    portal.put(alice.verified.account, await answer(bob, otherDigest));
    portal.put(alice.verified.account, await answer(carol, digest));
    portal.put(alice.verified.account, await answer(bobToo, digest));
    expect(await inbound.confirmationStatus(request.id)).toEqual({
      request: expect.objectContaining({ id: request.id }) as unknown,
    });
    // The real answer counts.
    portal.put(alice.verified.account, await answer(bob, digest));
    expect(await inbound.confirmationStatus(request.id)).toMatchObject({ answer: { answer: 'yes' } });
  });
});

describe('sending goes to the pinned contact (review of #20, item 1)', () => {
  it('sends to the Master Profile pinned in the contact whoever the lookup names; refuses a blocked contact and a re-pin without --repin', async () => {
    const portal = new RoguePortal();
    const alice = await person(portal, 'alice@example.com');
    const bob = await person(portal, 'bob@example.org');
    // The squatter registered bob's address elsewhere: the lookup names it first.
    const squatter = await person(portal, 'bob@example.org');
    const inbound = new MeshInbound(
      alice.open,
      // The lookup lists the squatter first (say it registered at alice's own portal).
      prover([alice, squatter, bob]),
    );
    await putContact(inbound.catalog, {
      address: bob.address,
      master: bob.master.profile.id,
      trust: 'accepted',
    });
    const sent = await inbound.send(bob.address, 'message', { Text: 'for bob' });
    expect(sent.toMaster).toBe(bob.master.profile.id);
    const delivered = readEnvelope(portal.list(bob.verified.account)[0]!.envelope).envelope;
    expect(delivered.toMaster).toBe(bob.master.profile.id);

    for (const call of [
      () => inbound.addContact(`mmm:${squatter.master.profile.id}:${bob.address}`),
      () => inbound.requestContact(bob.address, 'hi', { fingerprint: squatter.master.profile.id }),
      () => inbound.send(bob.address, 'message', { Text: 'x' }, { fingerprint: squatter.master.profile.id }),
    ]) {
      const refused = await failure(call());
      expect(refused.code).toBe('usage.invalid');
      expect(refused.message).toContain(bob.master.profile.id);
      expect(refused.message).toContain(squatter.master.profile.id);
    }
    expect(await inbound.addContact(bob.address, { name: 'Bob' })).toMatchObject({
      master: bob.master.profile.id,
    });
    expect(
      await inbound.addContact(bob.address, { fingerprint: squatter.master.profile.id, repin: true }),
    ).toMatchObject({ master: squatter.master.profile.id, name: 'Bob' });

    // --repin without a fingerprint, and any NEW contact of the address: two owners, none named.
    for (const call of [
      () => inbound.addContact(bob.address, { repin: true }),
      async () => {
        await inbound.removeContact(bob.address);
        return inbound.requestContact(bob.address, 'hi');
      },
      () => inbound.send(bob.address, 'message', { Text: 'x' }),
    ]) {
      const refused = await failure(call());
      expect(refused).toMatchObject({ code: 'usage.invalid', check: 'address owner' });
      expect(refused.message).toContain(bob.master.profile.id);
      expect(refused.message).toContain(squatter.master.profile.id);
    }
    const named = await inbound.requestContact(`mmm:${bob.master.profile.id}:${bob.address}`, 'hi');
    expect(named.sent.toMaster).toBe(bob.master.profile.id);
    expect(named.contact).toMatchObject({ master: bob.master.profile.id, trust: 'requested' });

    // A block needs no owner named (it blocks every owner of the address).
    await inbound.removeContact(bob.address);
    expect((await inbound.blockContact(bob.address)).contact).toMatchObject({ trust: 'blocked' });
    const blocked = await failure(inbound.send(bob.address, 'message', { Text: 'x' }));
    expect(blocked).toMatchObject({ code: 'usage.invalid', check: 'contact' });
  });
});
