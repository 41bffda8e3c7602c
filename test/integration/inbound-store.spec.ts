import { DataSource, type EntityManager } from 'typeorm';
import { accountUdf } from '@cryptomesh/crypto';
import { applyCatalogEvent, buildMasterProfile, CATALOG_KEY_ID, type CatalogValue } from '@cryptomesh/mesh';
import {
  admitInbound,
  dataSourceOptions,
  deleteInbound,
  inboundRecipientHome,
  listInbound,
  lockCatalogObject,
  purgeInbound,
  putCatalogObject,
  queueInboundRelay,
  runMigrations,
  type InboundItem,
  type InboundLimits,
} from '@cryptomesh/persistence';
import { device, fixedKey, NOW } from '../../libs/mesh/test/fixtures';
import { createTestDatabase, type TestDatabase } from '../env/test-database';

// The inbound spool's admission rule and the catalog store against the real PostgreSQL
// (docs/design/inbound.md "Access control"): every refusal stores nothing; the limits hold under
// concurrency; the review's attacks (a pre-empted Id, a squatter's budget, a stranger flood, a stale
// replay, racing catalog creates) fail.

const LIMITS: InboundLimits = {
  contactRequestsPerHour: 3,
  contactRequestsPerOriginPerHour: 100,
  spoolMaxPerAccount: 5,
  strangerMaxPerAccount: 2,
  maxAgeMs: 7 * 24 * 3_600_000,
  clockSkewMs: 300_000,
  now: () => NOW,
};

interface Recipient {
  readonly account: string;
  readonly master: string;
}

let db: TestDatabase;
let data: DataSource;
const recipients: Recipient[] = [];
const SENDER = { account: accountUdf('mallory@gamma.example'), master: 'MMAL-LORY' };
let seq = 0;

async function makeRecipient(n: number): Promise<Recipient> {
  const master = await buildMasterProfile(
    { administrators: [device(100 + n).signature], created: NOW },
    fixedKey('Ed25519', 100 + n),
  );
  const address = `user${n}@beta.example`;
  await data.query(
    `INSERT INTO accounts (account_udf, address, status, master, personal) VALUES ($1, $2, 'active', $3, '{}')`,
    [accountUdf(address), address, JSON.stringify(master.jws)],
  );
  return { account: accountUdf(address), master: master.profile.id };
}

const id = (): string => `id${String(seq++).padStart(20, '0')}`;

function item(to: Recipient, over: Partial<InboundItem> = {}): InboundItem {
  return {
    account: to.account,
    toMaster: to.master,
    id: id(),
    kind: 'contact',
    fromAccount: SENDER.account,
    fromMaster: SENDER.master,
    fromDevice: 'MDEV',
    origin: 'gamma',
    envelope: '{"protected":"a","payload":"b","signature":"c"}',
    created: NOW,
    proofOfWorkOk: true,
    ...over,
  };
}

const admit = (i: InboundItem, limits: InboundLimits = LIMITS) =>
  data.transaction((m: EntityManager) => admitInbound(m, i, limits));

async function spool(account: string): Promise<number> {
  const rows = await data.query<Array<{ n: string }>>(
    'SELECT count(*) AS n FROM inbound_spool WHERE account_udf = $1',
    [account],
  );
  return Number(rows[0]!.n);
}

async function allow(of: Recipient, sender: { account: string; master?: string }, rule: 'allow' | 'block') {
  await data.transaction(async (m) => {
    await lockCatalogObject(m, of.account, 'contact', `${sender.account.slice(0, 20)}`.padEnd(43, 'x'));
    await putCatalogObject(m, {
      account: of.account,
      catalog: 'contact',
      id: `${rule}${sender.account}`
        .replace(/[^A-Za-z0-9]/g, '')
        .slice(0, 43)
        .padEnd(43, 'x'),
      state: 'active',
      sequence: 1,
      value: '{"v":1}',
      access: {
        account: sender.account,
        ...(sender.master === undefined ? {} : { master: sender.master }),
        rule,
      },
    });
  });
}

beforeAll(async () => {
  db = await createTestDatabase('inbound-store');
  data = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 12 })).initialize();
  await runMigrations(data);
  for (let n = 0; n < 14; n++) recipients.push(await makeRecipient(n));
}, 60_000);

afterAll(async () => {
  await data?.destroy();
  await db?.drop();
});

describe('the inbound spool (admitInbound)', () => {
  it("admits a stranger's contact request once; the same Id from another sender is another item (no pre-emption)", async () => {
    const bob = recipients[0]!;
    const first = item(bob);
    await expect(admit(first)).resolves.toEqual({ ok: true, duplicate: false, stranger: true });
    await expect(admit(first)).resolves.toMatchObject({ ok: true, duplicate: true });
    // Eve copies the Id off the topic for her own request: it does not shadow Mallory's, nor his hers.
    const eve = { fromAccount: accountUdf('eve@gamma.example'), fromMaster: 'MEVE' };
    await expect(admit({ ...first, ...eve })).resolves.toMatchObject({ ok: true, duplicate: false });
    expect(await spool(bob.account)).toBe(2);
  });

  it("refuses a stranger's message, and a contact request without proof of work, storing nothing", async () => {
    const bob = recipients[1]!;
    await expect(admit(item(bob, { kind: 'message' }))).resolves.toMatchObject({
      code: 'inbound.not-a-contact',
    });
    await expect(admit(item(bob, { proofOfWorkOk: false }))).resolves.toMatchObject({
      code: 'inbound.proof-of-work',
    });
    expect(await spool(bob.account)).toBe(0);
  });

  it('delivers an allowed contact anything without proof of work; refuses a blocked one', async () => {
    const bob = recipients[2]!;
    await allow(bob, SENDER, 'allow');
    for (const kind of ['message', 'task', 'confirm', 'answer', 'contact'] as const)
      await expect(admit(item(bob, { kind, proofOfWorkOk: false }))).resolves.toEqual({
        ok: true,
        duplicate: false,
        stranger: false,
      });
    // The allow rule is pinned to Mallory's Master Profile: a new owner of his address is a stranger.
    await expect(admit(item(bob, { kind: 'message', fromMaster: 'MOTHER' }))).resolves.toMatchObject({
      code: 'inbound.not-a-contact',
    });
    const carol = recipients[3]!;
    await allow(carol, { account: SENDER.account }, 'block');
    await expect(admit(item(carol))).resolves.toMatchObject({ code: 'inbound.blocked' });
    expect(await spool(carol.account)).toBe(0);
  });

  it("a squatter of the sender's address at another member spends its own budget, not the owner's", async () => {
    const bob = recipients[4]!;
    await expect(admit(item(bob))).resolves.toMatchObject({ ok: true });
    await expect(admit(item(bob))).resolves.toMatchObject({ code: 'inbound.duplicate' }); // one pending
    await expect(admit(item(bob, { fromMaster: 'MSQUATTER' }))).resolves.toMatchObject({ ok: true });
  });

  it('a stranger flood fills its own room: the contacts still get through', async () => {
    const bob = recipients[5]!;
    const contact = { account: accountUdf('alice@alpha.example'), master: 'MALICE' };
    await allow(bob, contact, 'allow');
    for (let n = 0; n < 2; n++)
      await expect(
        admit(item(bob, { fromAccount: accountUdf(`s${n}@gamma.example`) })),
      ).resolves.toMatchObject({
        ok: true,
      });
    await expect(admit(item(bob, { fromAccount: accountUdf('s9@gamma.example') }))).resolves.toMatchObject({
      code: 'quota.exceeded',
    });
    await expect(
      admit(item(bob, { kind: 'message', fromAccount: contact.account, fromMaster: contact.master })),
    ).resolves.toMatchObject({ ok: true, stranger: false });
  });

  it('refuses a stale or future envelope, and one for another owner of the address (ToMaster)', async () => {
    const bob = recipients[6]!;
    await expect(admit(item(bob, { created: NOW - LIMITS.maxAgeMs - 1 }))).resolves.toMatchObject({
      code: 'inbound.stale',
    });
    await expect(admit(item(bob, { created: NOW + LIMITS.clockSkewMs + 1 }))).resolves.toMatchObject({
      code: 'inbound.stale',
    });
    await expect(admit(item(bob, { toMaster: 'MPREVIOUS-OWNER' }))).resolves.toMatchObject({
      code: 'inbound.unknown-recipient',
    });
    expect(await spool(bob.account)).toBe(0);
  });

  it('holds the hourly limit of one sender under concurrent requests to many recipients', async () => {
    const sender = { fromAccount: accountUdf('flood@gamma.example'), fromMaster: 'MFLOOD' };
    const outcomes = await Promise.all(recipients.slice(7, 14).map((to) => admit(item(to, sender))));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(LIMITS.contactRequestsPerHour);
    expect(outcomes.filter((o) => !o.ok && o.code === 'inbound.rate-limited')).toHaveLength(
      7 - LIMITS.contactRequestsPerHour,
    );
  });

  it('a deleted item is not delivered again by a replay until its tombstone is purged past the age limit', async () => {
    const bob = recipients[1]!;
    await allow(bob, SENDER, 'allow');
    const message = item(bob, { kind: 'message' });
    await admit(message);
    expect((await listInbound(data.manager, bob.account, { limit: 10 })).map((r) => r.id)).toContain(
      message.id,
    );
    await expect(
      data.transaction((m) =>
        deleteInbound(m, bob.account, [{ fromAccount: message.fromAccount, id: message.id }]),
      ),
    ).resolves.toBe(1);
    expect((await listInbound(data.manager, bob.account, { limit: 10 })).map((r) => r.id)).not.toContain(
      message.id,
    );
    await expect(admit(message)).resolves.toMatchObject({ ok: true, duplicate: true });
    expect((await listInbound(data.manager, bob.account, { limit: 10 })).map((r) => r.id)).not.toContain(
      message.id,
    );
    await expect(purgeInbound(data.manager, LIMITS.maxAgeMs)).resolves.toBe(0); // too young
    await data.query(`UPDATE inbound_spool SET received_at = now() - interval '8 days' WHERE id = $1`, [
      message.id,
    ]);
    await expect(purgeInbound(data.manager, LIMITS.maxAgeMs)).resolves.toBe(1);
  });

  it('refuses to run outside a transaction (its locks would not hold)', async () => {
    await expect(admitInbound(data.manager, item(recipients[0]!), LIMITS)).rejects.toThrow(
      /inside a transaction/,
    );
  });
});

describe('the relay outbox and the recipient lookup', () => {
  it("counts a sender's relayed stranger requests in its hourly limit; a second queueing is a duplicate", async () => {
    const from = { fromAccount: accountUdf('relay@alpha.example'), fromMaster: 'MRELAY' };
    const relay = (n: number) => ({
      id: `relay${String(n).padStart(17, '0')}`,
      toAccount: accountUdf(`far${n}@delta.example`),
      toPortal: 'delta',
      ...from,
      kind: 'contact' as const,
      stranger: true,
      envelope: '{}',
      pow: 'nonce',
    });
    const queue = (n: number) =>
      data.transaction((m) => queueInboundRelay(m, relay(n), { contactRequestsPerHour: 2 }));
    await expect(queue(1)).resolves.toEqual({ ok: true, duplicate: false });
    await expect(queue(1)).resolves.toEqual({ ok: true, duplicate: true });
    await expect(queue(2)).resolves.toEqual({ ok: true, duplicate: false });
    await expect(queue(3)).resolves.toMatchObject({ ok: false, code: 'inbound.rate-limited' });
    const rows = await data.query<unknown[]>('SELECT 1 FROM inbound_outbox WHERE from_account = $1', [
      from.fromAccount,
    ]);
    expect(rows).toHaveLength(2);
  });

  it('finds an own recipient by account AND Master Profile', async () => {
    const bob = recipients[0]!;
    await expect(inboundRecipientHome(data.manager, bob.account, bob.master)).resolves.toBe('self');
    await expect(inboundRecipientHome(data.manager, bob.account, 'MOTHER')).resolves.toBeUndefined();
    await expect(
      inboundRecipientHome(data.manager, accountUdf('nobody@x.example'), 'M'),
    ).resolves.toBeUndefined();
  });
});

describe('the catalog store', () => {
  const value = (sequence: number): CatalogValue => ({
    account: recipients[0]!.account,
    catalog: 'contact',
    id: CATALOG_KEY_ID,
    sequence,
    created: NOW,
    deleted: false,
  });

  it('of two concurrent creates of one object, exactly one wins; the other sees it exists', async () => {
    const create = (sequence: number) =>
      data.transaction(async (m) => {
        const current = await lockCatalogObject(m, recipients[0]!.account, 'contact', CATALOG_KEY_ID);
        const outcome = applyCatalogEvent(current, 'create', value(sequence));
        if (!outcome.ok) return outcome.code;
        await putCatalogObject(m, {
          account: recipients[0]!.account,
          catalog: 'contact',
          id: CATALOG_KEY_ID,
          state: 'active',
          sequence,
          value: JSON.stringify({ sequence }),
        });
        return 'created';
      });
    const outcomes = await Promise.all([create(1), create(2), create(3)]);
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'persistence.exists')).toHaveLength(2);
  });

  it('never overwrites a stored Sequence with a lower one, whatever the caller checked', async () => {
    await data.transaction(async (m) => {
      await putCatalogObject(m, {
        account: recipients[0]!.account,
        catalog: 'contact',
        id: CATALOG_KEY_ID,
        state: 'active',
        sequence: 1,
        value: '{"older":true}',
      });
    });
    const rows = await data.query<Array<{ value: string }>>(
      'SELECT value FROM user_catalog_objects WHERE account_udf = $1 AND id = $2',
      [recipients[0]!.account, CATALOG_KEY_ID],
    );
    expect(rows[0]!.value).not.toContain('older');
  });
});
