import { rmSync } from 'node:fs';
import {
  isClientError,
  MeshInbound,
  MeshProfileManager,
  portalErrorCode,
  verifiedAccount,
} from '@cryptomesh/client';
import { signEnvelope, sealInboundBody, newEnvelopeId } from '@cryptomesh/mesh';
import { FileClientStore } from '../../apps/cli/src/home/file-client-store';
import { freshHome, jsonError, mesh, meshJson } from '../../apps/cli/test/built-mesh';
import { queryDatabase, snapshotDatabase } from '../support/db-snapshot';
import { startTestFederation, type Federation } from '../support/federation';
import { waitFor, type KnownPortal } from '../support/federation-oracle';
import { scrape } from '../support/prometheus-text';

/**
 * Issue #20's acceptance, through the BUILT `mesh` binary against a real three-portal federation
 * (docs/design/inbound.md): alice at A and bob at B become contacts (a contact request with proof of
 * work, relayed between the portals; bob's accept), then exchange a message, a task and a
 * confirmation request with its signed answer. A stranger at C: its message is refused (never in
 * bob's spool, never shown); its contact-request flood stops at its own portal; once bob blocks it,
 * what it sends is refused. A forged sender is refused by the sender's own portal. B's database holds
 * only ciphertext. With B down, alice's message waits and is delivered once B is back.
 */
const ALICE = 'alice@example.com';
const BOB = 'bob@example.org';
const MALLORY = 'mallory@example.net';
/** One stranger's contact request an hour per portal: a second one is a flood. */
const CONTACT_REQUESTS_PER_HOUR = 1;
/**
 * A command that solves a proof of work (a contact request to a stranger, level 1: about 2^20 pairs of
 * SHA-512, a few seconds alone, 20–30 s on two cores shared with the whole suite) gets a bound that no
 * solve comes near; it only limits how long a hung command takes to fail.
 */
const SOLVES = { timeoutMs: 480_000 };
const TEXTS = {
  request: 'Alice from the conference in Lisbon',
  message: 'lunch at noon on the terrace?',
  task: 'Review the quarterly draft',
  confirm: 'Pay invoice 4242 to ACME?',
  spam: 'buy cheap watches now',
  blocked: 'second try after the block',
  offline: 'sent while your portal was away',
  name: 'Bobby Tables of Beta',
  squatted: 'for the real bob only',
  password: 'correct horse battery staple',
};

interface Item {
  id: string;
  kind: string;
  from: string;
  fromMaster: string;
  device: string;
  stranger: boolean;
  content: Record<string, unknown>;
}
interface Listing {
  items?: Item[];
  requests?: Item[];
  refused: Array<{ id: string; code: string }>;
}
interface Sent {
  sent: { id: string; delivery: string; portal: string; to: string };
}
interface ContactJson {
  address: string;
  master: string;
  trust: string;
  name?: string;
  access?: { master?: string; rule: string };
}

describe('contacts, messages, tasks and confirmations between portals (issue #20)', () => {
  const homes = {
    alice: freshHome('alice'),
    bob: freshHome('bob'),
    mallory: freshHome('mallory'),
    squatter: freshHome('squatter'),
  };
  let federation: Federation;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  const fingerprints: Record<string, string> = {};
  let bobDevice: string;

  beforeAll(async () => {
    federation = await startTestFederation({
      env: {
        SEAL_INTERVAL_MS: 300,
        HEARTBEAT_MS: 2_000,
        LOG_LEVEL: 'warn',
        INBOUND_CONTACT_POW_LEVEL: 1,
        INBOUND_CONTACT_REQUESTS_PER_HOUR: CONTACT_REQUESTS_PER_HOUR,
      },
    });
    const portals: KnownPortal[] = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
    for (const [who, address, portal] of [
      ['alice', ALICE, A],
      ['bob', BOB, B],
      ['mallory', MALLORY, C],
    ] as const) {
      const created = await meshJson<{ fingerprint: string; deviceId: string }>(homes[who], [
        'profile',
        'create',
        '--portal',
        portal.gatewayUrl,
        '--account',
        address,
      ]);
      fingerprints[who] = created.fingerprint;
      if (who === 'bob') bobDevice = created.deviceId;
    }
  }, 300_000);

  afterAll(async () => {
    await federation?.stop();
    for (const dir of Object.values(homes)) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** `mesh --json args` at `who`'s home, repeated until `until` accepts the result. */
  const until = <T>(who: keyof typeof homes, args: string[], accept: (value: T) => boolean, what: string) =>
    waitFor(
      what,
      async () => {
        const value = await meshJson<T>(homes[who], args);
        return accept(value) ? value : undefined;
      },
      90_000,
    );

  const spool = (portal: KnownPortal, sql = '') =>
    queryDatabase<{ id: string; kind: string; from_account: string; envelope: string | null }>(
      federation.portal(portal.id).databaseUrl,
      `SELECT s.id, s.kind, s.from_account, s.envelope FROM inbound_spool s ${sql} ORDER BY s.seq`,
    );
  const accountUdfAt = async (portal: KnownPortal, address: string) =>
    (
      await queryDatabase<{ account_udf: string }>(
        federation.portal(portal.id).databaseUrl,
        'SELECT account_udf FROM accounts WHERE address = $1',
        [address],
      )
    )[0]!.account_udf;
  /** B's count of inbound messages from `peer` refused with `outcome` (its replication's /metrics). */
  const refusedAtB = async (peer: string, outcome: string) =>
    (await scrape(federation.portal(B.id).urls.replication)).sum('intermesh_inbound_messages_total', {
      peer,
      outcome,
    });

  it('alice requests bob as a contact across portals; bob sees it verified and accepts; alice sees the accept', async () => {
    const requested = await meshJson<Sent & { contact: ContactJson }>(
      homes.alice,
      ['contact', 'request', BOB, TEXTS.request],
      undefined,
      SOLVES,
    );
    expect(requested.sent).toMatchObject({ delivery: 'relayed', portal: B.id, to: BOB });
    expect(requested.contact).toMatchObject({
      address: BOB,
      trust: 'requested',
      master: fingerprints.bob,
      access: { rule: 'allow', master: fingerprints.bob },
    });

    const pending = await until<Listing>(
      'bob',
      ['contact', 'pending'],
      (l) => (l.requests ?? []).length > 0,
      "bob's pending contact request from alice",
    );
    expect(pending.requests).toEqual([
      expect.objectContaining({
        id: requested.sent.id,
        from: ALICE,
        fromMaster: fingerprints.alice,
        stranger: true,
        content: { Response: 'request', Text: TEXTS.request },
      }),
    ]);
    const accepted = await meshJson<Sent & { contact: ContactJson }>(homes.bob, ['contact', 'accept', ALICE]);
    expect(accepted.contact).toMatchObject({
      trust: 'accepted',
      access: { rule: 'allow', master: fingerprints.alice },
    });
    expect(await meshJson<Listing>(homes.bob, ['contact', 'pending'])).toMatchObject({ requests: [] });

    const contacts = await until<{ contacts: ContactJson[] }>(
      'alice',
      ['contact', 'list'],
      (l) => l.contacts.some((c) => c.address === BOB && c.trust === 'accepted'),
      "bob's accept applied to alice's contact",
    );
    expect(contacts.contacts).toEqual([
      expect.objectContaining({
        address: BOB,
        trust: 'accepted',
        access: expect.objectContaining({ master: fingerprints.bob, rule: 'allow' }) as unknown,
      }),
    ]);
    // A name, kept only in the encrypted Data.
    await meshJson(homes.alice, ['contact', 'add', BOB, '--name', TEXTS.name]);
    expect((await meshJson<{ contacts: ContactJson[] }>(homes.alice, ['contact', 'list'])).contacts).toEqual([
      expect.objectContaining({ address: BOB, trust: 'accepted', name: TEXTS.name }),
    ]);
  }, 900_000);

  it('they exchange a message, a task, and a confirmation request whose answer is signed by bob', async () => {
    const message = await meshJson<Sent>(homes.alice, ['message', 'send', BOB, TEXTS.message]);
    const messages = await until<Listing>(
      'bob',
      ['message', 'list'],
      (l) => (l.items ?? []).length > 0,
      'the message at bob',
    );
    expect(messages.items).toEqual([
      expect.objectContaining({
        id: message.sent.id,
        from: ALICE,
        stranger: false,
        content: { Text: TEXTS.message },
      }),
    ]);
    const read = await mesh(homes.bob, ['message', 'read', message.sent.id]);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain(TEXTS.message);
    expect(read.stdout).toContain(`from     ${ALICE}`);

    const task = await meshJson<Sent>(homes.alice, ['task', 'send', BOB, TEXTS.task, '--end', '2026-12-24']);
    const tasks = await until<Listing>(
      'bob',
      ['task', 'list'],
      (l) => (l.items ?? []).length > 0,
      'the task at bob',
    );
    expect(tasks.items).toEqual([
      expect.objectContaining({ id: task.sent.id, content: { Title: TEXTS.task, End: '2026-12-24' } }),
    ]);
    expect(await meshJson(homes.bob, ['task', 'read', task.sent.id])).toMatchObject({
      item: { content: { Title: TEXTS.task } },
    });

    const confirm = await meshJson<Sent>(homes.alice, ['confirm', 'request', BOB, TEXTS.confirm]);
    expect(await meshJson(homes.alice, ['confirm', 'status', confirm.sent.id])).toMatchObject({
      status: 'pending',
    });
    await until<Listing>(
      'bob',
      ['confirm', 'pending'],
      (l) => (l.items ?? []).length > 0,
      'the confirmation request at bob',
    );
    await meshJson(homes.bob, ['confirm', 'answer', confirm.sent.id, 'yes']);
    const status = await until<{ status: string; answer?: string; device?: string }>(
      'alice',
      ['confirm', 'status', confirm.sent.id],
      (s) => s.status === 'answered',
      "bob's answer at alice",
    );
    expect(status).toMatchObject({
      status: 'answered',
      answer: 'yes',
      device: bobDevice,
      to: BOB,
      text: TEXTS.confirm,
    });
    // Bob's answered request is gone from his spool; a second answer is refused.
    const again = await mesh(homes.bob, ['--json', 'confirm', 'answer', confirm.sent.id, 'no']);
    expect(again.code).toBe(2);
    expect(jsonError(again)?.message).toMatch(/no confirm .* is waiting/);
  }, 300_000);

  it("a stranger's message is refused by bob's portal: never in bob's spool, never shown", async () => {
    const bobAccount = await accountUdfAt(B, BOB);
    const malloryAccount = await accountUdfAt(C, MALLORY);
    const before = await refusedAtB(C.id, 'inbound.not-a-contact');
    // Mallory's own portal relays a message only to an account she allows.
    const refused = await mesh(homes.mallory, ['--json', 'message', 'send', BOB, TEXTS.spam]);
    expect(refused.code).toBe(1);
    expect(jsonError(refused)).toMatchObject({ evidence: { code: 'inbound.not-a-contact' } });
    // Once she allows bob, C relays it (it cannot see bob's contacts): B decides, and refuses.
    await meshJson(homes.mallory, ['contact', 'add', BOB]);
    const spam = await meshJson<Sent>(homes.mallory, ['message', 'send', BOB, TEXTS.spam]);
    expect(spam.sent.delivery).toBe('relayed');
    await waitFor(
      "B refuses mallory's message (not a contact)",
      async () => (await refusedAtB(C.id, 'inbound.not-a-contact')) > before,
      60_000,
    );
    expect(
      await spool(B, `WHERE s.account_udf = '${bobAccount}' AND s.from_account = '${malloryAccount}'`),
    ).toEqual([]);
    const shown = await meshJson<Listing>(homes.bob, ['message', 'list']);
    expect((shown.items ?? []).map((i) => i.from)).not.toContain(MALLORY);
    // A stranger again, for the flood below.
    await meshJson(homes.mallory, ['contact', 'remove', BOB]);
  }, 180_000);

  it("a stranger's contact-request flood stops at its own portal; once bob blocks it, what it sends is refused", async () => {
    const first = await meshJson<Sent>(
      homes.mallory,
      ['contact', 'request', BOB, 'hello?'],
      undefined,
      SOLVES,
    );
    expect(first.sent.delivery).toBe('relayed');
    const flood = await mesh(
      homes.mallory,
      ['--json', 'contact', 'request', ALICE, 'hello too?'],
      undefined,
      SOLVES,
    );
    expect(flood.code).toBe(1);
    expect(jsonError(flood)).toMatchObject({ code: 'portal.refused', evidence: { code: 'rate.limited' } });
    // The refused request added no contact.
    expect(
      (await meshJson<{ contacts: ContactJson[] }>(homes.mallory, ['contact', 'list'])).contacts.map(
        (c) => c.address,
      ),
    ).toEqual([BOB]);

    const pending = await until<Listing>(
      'bob',
      ['contact', 'pending'],
      (l) => (l.requests ?? []).some((r) => r.from === MALLORY),
      "mallory's one request at bob",
    );
    expect(pending.requests!.filter((r) => r.from === MALLORY)).toHaveLength(1);
    const blocked = await meshJson<{ contact: ContactJson; deleted: number }>(homes.bob, [
      'contact',
      'block',
      MALLORY,
    ]);
    expect(blocked).toMatchObject({ deleted: 1, contact: { trust: 'blocked', access: { rule: 'block' } } });
    expect(blocked.contact.access?.master).toBeUndefined();
    expect((await meshJson<Listing>(homes.bob, ['contact', 'pending'])).requests).toEqual([]);

    const before = await refusedAtB(C.id, 'inbound.blocked');
    await meshJson<Sent>(homes.mallory, ['message', 'send', BOB, TEXTS.blocked]);
    await waitFor(
      'B refuses the blocked sender',
      async () => (await refusedAtB(C.id, 'inbound.blocked')) > before,
      60_000,
    );
    const malloryAccount = await accountUdfAt(C, MALLORY);
    expect(await spool(B, `WHERE s.from_account = '${malloryAccount}' AND s.envelope IS NOT NULL`)).toEqual(
      [],
    );
  }, 1_200_000);

  it("a forged sender is refused by the sender's own portal", async () => {
    const manager = new MeshProfileManager(new FileClientStore(homes.mallory));
    const inbound = await MeshInbound.open(manager);
    const { session } = inbound.account;
    const bob = await verifiedAccount(inbound.account, BOB);
    const alice = await verifiedAccount(inbound.account, ALICE);
    const recipients = bob.personal.profile.devices.map((d) => ({
      algorithm: d.encryption.algorithm as 'X25519',
      publicKey: d.encryption.publicKey,
    }));
    const forge = async (fromMaster: string) => {
      const id = newEnvelopeId();
      const body = await sealInboundBody(
        { id, kind: 'message', from: ALICE, to: BOB },
        { Text: 'from alice, honest' },
        recipients,
      );
      // alice's address and (or) Master Profile, mallory's device key
      return signEnvelope(
        {
          kind: 'message',
          id,
          from: ALICE,
          fromMaster,
          to: BOB,
          toMaster: bob.master.profile.id,
          created: Date.now(),
          body,
        },
        session.keys.signature,
      );
    };
    for (const master of [alice.master.profile.id, fingerprints.mallory!]) {
      try {
        await session.authenticated('InboundPost', { Envelope: await forge(master) });
        throw new Error('accepted');
      } catch (error) {
        expect(isClientError(error, 'portal.refused')).toBe(true);
        expect(portalErrorCode(error)).toBe('inbound.wrong-sender');
      }
    }
  }, 120_000);

  it("a portal that lets a stranger's message through changes nothing bob sees: his client refuses it", async () => {
    const manager = new MeshProfileManager(new FileClientStore(homes.mallory));
    const inbound = await MeshInbound.open(manager);
    const { session, doc } = inbound.account;
    const bob = await verifiedAccount(inbound.account, BOB);
    const recipients = bob.personal.profile.devices.map((d) => ({
      algorithm: d.encryption.algorithm as 'X25519',
      publicKey: d.encryption.publicKey,
    }));
    const id = newEnvelopeId();
    const body = await sealInboundBody(
      { id, kind: 'message', from: MALLORY, to: BOB },
      { Text: TEXTS.spam },
      recipients,
    );
    const jws = await signEnvelope(
      {
        kind: 'message',
        id,
        from: MALLORY,
        fromMaster: fingerprints.mallory!,
        to: BOB,
        toMaster: bob.master.profile.id,
        created: Date.now(),
        body,
      },
      session.keys.signature,
    );
    // B's database, as a compromised B would write it: mallory (blocked by bob) delivered all the same.
    await queryDatabase(
      federation.portal(B.id).databaseUrl,
      `INSERT INTO inbound_spool (account_udf, id, kind, from_account, from_master, from_device, origin, stranger, envelope)
       VALUES ($1, $2, 'message', $3, $4, $5, $6, false, $7)`,
      [bob.account, id, doc.accountUdf, fingerprints.mallory, session.deviceId, C.id, JSON.stringify(jws)],
    );
    const listed = await meshJson<Listing>(homes.bob, ['message', 'list']);
    expect((listed.items ?? []).map((i) => i.id)).not.toContain(id);
    expect(listed.refused).toEqual([expect.objectContaining({ id, code: 'inbound.blocked' })]);
    const read = await mesh(homes.bob, ['--json', 'message', 'read', id]);
    expect(read.code).toBe(2);
    expect(jsonError(read)?.message).toMatch(/was refused: inbound\.blocked/);
    await queryDatabase(federation.portal(B.id).databaseUrl, 'DELETE FROM inbound_spool WHERE id = $1', [id]);
  }, 120_000);

  it("with bob's portal down, alice's message waits and is delivered once when it returns", async () => {
    await federation.stopPortal(B.id);
    const sent = await meshJson<Sent>(homes.alice, ['message', 'send', BOB, TEXTS.offline]);
    expect(sent.sent.delivery).toBe('relayed');
    await federation.startPortal(B.id);
    const messages = await until<Listing>(
      'bob',
      ['message', 'list'],
      (l) => (l.items ?? []).some((i) => i.id === sent.sent.id),
      'the message sent while B was down',
    );
    expect(messages.items!.filter((i) => i.content['Text'] === TEXTS.offline)).toHaveLength(1);
    expect(await spool(B, `WHERE s.id = '${sent.sent.id}'`)).toHaveLength(1);
  }, 300_000);

  it("a squatter of bob's address at alice's portal receives nothing of alice's: her client sends to the bob she pinned", async () => {
    // mallory registers bob's address at A, alice's portal (CreateAccount only checks A's own accounts).
    const squatter = await meshJson<{ fingerprint: string }>(homes.squatter, [
      'profile',
      'create',
      '--portal',
      A.gatewayUrl,
      '--account',
      BOB,
    ]);
    expect(squatter.fingerprint).not.toBe(fingerprints.bob);
    const bobAccount = await accountUdfAt(B, BOB);
    // A's query service lists both owners, its own (the squatter) first.
    const owners = await waitFor(
      "A's lookup of bob's address lists both owners",
      async () => {
        const answer = await fetch(`${A.queryUrl.replace(/\/$/, '')}/accounts/${BOB}`);
        const body = (await answer.json()) as {
          Master: string;
          Owners: Array<{ Portal: string; Master: string }>;
        };
        return body.Owners.length === 2 ? body : undefined;
      },
      60_000,
    );
    expect(owners).toMatchObject({
      Master: squatter.fingerprint,
      Owners: [
        { Portal: A.id, Master: squatter.fingerprint },
        { Portal: B.id, Master: fingerprints.bob },
      ],
    });

    // alice's message and confirmation request go to her pinned contact at B, not to A's squatter.
    const message = await meshJson<Sent & { sent: { toMaster: string } }>(homes.alice, [
      'message',
      'send',
      BOB,
      TEXTS.squatted,
    ]);
    expect(message.sent).toMatchObject({ delivery: 'relayed', portal: B.id, toMaster: fingerprints.bob });
    const confirm = await meshJson<Sent>(homes.alice, ['confirm', 'request', BOB, TEXTS.confirm]);
    await until<Listing>(
      'bob',
      ['message', 'list'],
      (l) => (l.items ?? []).some((i) => i.id === message.sent.id),
      'the message at the real bob',
    );
    expect(await spool(A, `WHERE s.account_udf = '${bobAccount}'`)).toEqual([]);
    expect(await meshJson<Listing>(homes.squatter, ['message', 'list'])).toMatchObject({
      items: [],
      refused: [],
    });
    expect(await meshJson<Listing>(homes.squatter, ['confirm', 'pending'])).toMatchObject({ items: [] });
    await meshJson(homes.bob, ['confirm', 'answer', confirm.sent.id, 'no']);
    expect(
      await until<{ status: string; device?: string }>(
        'alice',
        ['confirm', 'status', confirm.sent.id],
        (st) => st.status === 'answered',
        "the real bob's answer at alice",
      ),
    ).toMatchObject({ answer: 'no', device: bobDevice });

    // Neither `contact request` nor `contact add` re-pins alice's contact to the squatter without --repin.
    for (const args of [
      ['contact', 'request', `mmm:${squatter.fingerprint}:${BOB}`, 'hi'],
      ['contact', 'add', BOB, '--fingerprint', squatter.fingerprint],
    ]) {
      const repin = await mesh(homes.alice, ['--json', ...args]);
      expect(repin.code).toBe(2);
      expect(jsonError(repin)?.message).toContain(fingerprints.bob);
      expect(jsonError(repin)?.message).toContain(squatter.fingerprint);
    }
    expect((await meshJson<{ contacts: ContactJson[] }>(homes.alice, ['contact', 'list'])).contacts).toEqual([
      expect.objectContaining({ address: BOB, master: fingerprints.bob, trust: 'accepted' }),
    ]);

    // A NEW contact of the ambiguous address must name its Master Profile (mallory at C, who sees
    // both owners through its mirrors of A and B).
    await meshJson(homes.mallory, ['contact', 'remove', BOB]);
    await waitFor(
      "C's lookup of bob's address lists both owners",
      async () => {
        const answer = await fetch(`${C.queryUrl.replace(/\/$/, '')}/accounts/${BOB}`);
        return ((await answer.json()) as { Owners?: unknown[] }).Owners?.length === 2 ? true : undefined;
      },
      60_000,
    );
    for (const args of [
      ['contact', 'request', BOB, 'who are you?'],
      ['message', 'send', BOB, TEXTS.spam],
    ]) {
      const ambiguous = await mesh(homes.mallory, ['--json', ...args]);
      expect(ambiguous.code).toBe(2);
      expect(jsonError(ambiguous)).toMatchObject({ code: 'usage.invalid', check: 'address owner' });
      expect(jsonError(ambiguous)?.message).toContain(fingerprints.bob);
      expect(jsonError(ambiguous)?.message).toContain(squatter.fingerprint);
    }
    expect(
      (await meshJson<{ contacts: ContactJson[] }>(homes.mallory, ['contact', 'list'])).contacts,
    ).toEqual([]);
  }, 300_000);

  it("alice's private catalog, and every portal's database, hold only ciphertext", async () => {
    await meshJson(homes.alice, [
      'catalog',
      'put',
      'credential',
      'bank.example',
      JSON.stringify({ Username: 'alice', Password: TEXTS.password }),
    ]);
    expect(await meshJson(homes.alice, ['catalog', 'get', 'credential', 'bank.example'])).toMatchObject({
      object: { key: 'bank.example', content: { Password: TEXTS.password } },
    });

    // Every envelope (spool and outbox) and every catalog value of every portal, decoded — each
    // string in it, and what each base64url string decodes to, recursively: no text, title, name,
    // password, key or address anywhere (the whole-dump check below cannot see inside base64url).
    const secrets = [...Object.values(TEXTS), 'bank.example', ALICE, BOB, MALLORY];
    let envelopes = 0;
    for (const portal of [A, B, C]) {
      const { databaseUrl } = federation.portal(portal.id);
      const rows = [
        ...(await queryDatabase<{ text: string }>(
          databaseUrl,
          'SELECT envelope AS text FROM inbound_spool WHERE envelope IS NOT NULL',
        )),
        ...(await queryDatabase<{ text: string }>(
          databaseUrl,
          'SELECT envelope AS text FROM inbound_outbox',
        )),
      ];
      envelopes += rows.length;
      const values = await queryDatabase<{ text: string }>(
        databaseUrl,
        'SELECT value AS text FROM user_catalog_objects',
      );
      expect(values.length).toBeGreaterThan(0);
      for (const { text } of [...rows, ...values]) {
        const decoded = decodedStrings(text);
        expect(decoded.some((d) => d.includes('"Kind"') || d.includes('"Catalog"'))).toBe(true);
        for (const d of decoded) for (const secret of secrets) expect(d).not.toContain(secret);
      }
    }
    expect(envelopes).toBeGreaterThan(0);
    // And no table of any portal holds a text, a title, a name or the password, anywhere.
    for (const portal of [A, B, C]) {
      const dump = JSON.stringify(await snapshotDatabase(federation.portal(portal.id).databaseUrl));
      for (const text of Object.values(TEXTS)) expect(dump).not.toContain(text);
    }
  }, 180_000);
});

/**
 * Every string in `text` (JSON, or base64 of JSON as the outbox may keep it) and, recursively, what
 * each string that is base64url decodes to and whatever JSON that holds: a JWS's payload, a JWE's
 * protected header, the Body and Data inside them.
 */
function decodedStrings(text: string, depth = 0): string[] {
  const out = [text];
  if (depth > 4) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (/^[A-Za-z0-9_+/=-]{8,}$/.test(text)) {
      const bytes = Buffer.from(text, 'base64url').toString('utf8');
      if (bytes.startsWith('{') || bytes.startsWith('[')) out.push(...decodedStrings(bytes, depth + 1));
      else out.push(bytes);
    }
    return out;
  }
  const walk = (value: unknown): void => {
    if (typeof value === 'string') out.push(...decodedStrings(value, depth + 1));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(parsed);
  return out;
}
