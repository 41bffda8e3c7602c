import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { nodeEd25519, type FlattenedJws } from '@cryptomesh/crypto';
import {
  encodeInboundMessage,
  inboundStatement,
  kafkaClientConfig,
  logProducerConfig,
  logTopic,
  signInbound,
  type InboundMessage,
} from '@cryptomesh/intermesh';
import type { NoteSigner } from '@cryptomesh/log';
import {
  envelopeText,
  envelopeWorkBody,
  newEnvelopeId,
  readEnvelope,
  sealInboundBody,
  signEnvelope,
  solveProofOfWork,
  type InboundKind,
} from '@cryptomesh/mesh';
import { dataSourceOptions, queueInboundRelay } from '@cryptomesh/persistence';
import { loadWitnessKey } from '../../apps/replication/src/witness-key';
import { witnessSigner } from '../../libs/log/testdata/log-fixture';
import { queryDatabase } from '../support/db-snapshot';
import { startTestFederation, type Federation } from '../support/federation';
import { waitFor, type KnownPortal } from '../support/federation-oracle';
import { TestAccount, newDevice, post, type TestDevice } from '../support/mesh-client';
import { scrape } from '../support/prometheus-text';
import { RoguePortal } from '../support/rogue-portal';

/**
 * Issue #20, the relay of inbound items between portals (docs/design/inbound.md "Across the
 * federation: the relay"), on a real two-portal federation plus a rogue member that writes its own
 * topic: envelopes signed by real device keys of accounts created through the real gateways are
 * queued in A's `inbound_outbox` (as InboundPost does, `queueInboundRelay`), published by A's
 * replication service between parts, and admitted into B's `inbound_spool` by B's intake — exactly
 * once, across a restart of B's replication service and while it is down. Then what a sender, the
 * origin, another member or the broker may send instead: each is refused with its code (B's
 * `intermesh_inbound_messages_total`) and stores nothing.
 */
const utf8 = new TextEncoder();
/** B's hourly limit of a stranger's contact requests: a flood of two passes it (each needs a proof of work). */
const CONTACT_REQUESTS_PER_HOUR = 1;
const POW_LEVEL = 1;

interface SpoolRow extends Record<string, unknown> {
  account_udf: string;
  id: string;
  kind: string;
  from_account: string;
  from_master: string;
  from_device: string;
  origin: string;
  stranger: boolean;
  envelope: string;
}

describe('the relay of inbound items between portals (issue #20)', () => {
  let federation: Federation;
  let rogue: RoguePortal;
  let producer: Producer;
  let A: KnownPortal;
  let B: KnownPortal;
  let alphaWitness: NoteSigner;
  let alphaDb: DataSource;
  /** Senders at A, recipients at B. */
  let alice: TestAccount;
  let mallory: TestAccount;
  let sam: TestAccount;
  let bob: TestAccount;
  let carol: TestAccount;
  let dave: TestAccount;
  /** The rows B's spool must hold, by `<recipient>:<Id>`, kept up to date by the tests. */
  const delivered = new Set<string>();

  beforeAll(async () => {
    const brokers = process.env.KAFKA_BROKERS!.split(',');
    rogue = new RoguePortal(`inbound-rogue-${Date.now().toString(36)}`, brokers);
    await rogue.connect();
    federation = await startTestFederation({
      portals: ['alpha', 'beta'],
      extraPeers: [rogue.peer],
      env: {
        SEAL_INTERVAL_MS: 300,
        HEARTBEAT_MS: 2_000,
        LOG_LEVEL: 'warn',
        COSIGNATURE_QUORUM: 1,
        INBOUND_CONTACT_POW_LEVEL: POW_LEVEL,
      },
      perPortalEnv: (id, service) =>
        id.startsWith('beta') && service === 'replication'
          ? { INBOUND_CONTACT_REQUESTS_PER_HOUR: CONTACT_REQUESTS_PER_HOUR }
          : undefined,
    });
    const portals: KnownPortal[] = federation.portals.map((p) => ({ ...p }));
    [A, B] = portals as [KnownPortal, KnownPortal];
    alphaWitness = loadWitnessKey({ WITNESS_KEY_FILE: join(federation.dir, A.id, 'witness.key') })!;
    alphaDb = await new DataSource(
      dataSourceOptions({ url: federation.portal(A.id).databaseUrl, poolSize: 2 }),
    ).initialize();
    // Anyone with write access to a topic (the broker is untrusted): a plain producer.
    const kafka = new Kafka({
      ...kafkaClientConfig({ brokers, clientId: 'inbound-relay-spec' }),
      logLevel: logLevel.NOTHING,
    });
    producer = kafka.producer(logProducerConfig);
    await producer.connect();

    bob = await account(B, 'bob@beta.example');
    carol = await account(B, 'carol@beta.example');
    dave = await account(B, 'dave@beta.example');
    mallory = await account(A, 'mallory@alpha.example');
    sam = await account(A, 'sam@alpha.example');
  }, 240_000);

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await alphaDb?.destroy().catch(() => undefined);
    await rogue?.close().catch(() => undefined);
    await federation?.stop();
  }, 120_000);

  /** An account created through `portal`'s gateway, with real device keys. */
  async function account(portal: KnownPortal, address: string): Promise<TestAccount> {
    const created = await TestAccount.create(address, undefined, portal.origin);
    const answer = await post(portal.gatewayUrl, 'CreateAccount', await created.createAccount());
    expect(answer.status).toBe(200);
    return created;
  }

  /** An envelope from `sender` (signed by `device`, default its administrator) to `recipient`. */
  async function envelope(
    sender: TestAccount,
    recipient: TestAccount,
    kind: InboundKind,
    options: { device?: TestDevice; created?: number } = {},
  ): Promise<FlattenedJws> {
    const id = newEnvelopeId();
    const from = sender.address;
    const to = recipient.address;
    const body = await sealInboundBody({ id, kind, from, to }, { Text: `${kind} for ${to}` }, [
      recipient.admin.encryption,
    ]);
    return signEnvelope(
      {
        kind,
        id,
        from,
        fromMaster: sender.master.profile.id,
        to,
        toMaster: recipient.master.profile.id,
        created: options.created ?? Date.now(),
        body,
      },
      (options.device ?? sender.admin).signature,
    );
  }

  const idOf = (jws: FlattenedJws) => readEnvelope(jws).envelope.id;
  const powOf = (jws: FlattenedJws) =>
    solveProofOfWork(envelopeWorkBody(readEnvelope(jws).envelope), POW_LEVEL);

  /** Queues `jws` for `recipient` in A's outbox, as InboundPost does for a recipient at B. */
  async function relay(
    sender: TestAccount,
    recipient: TestAccount,
    jws: FlattenedJws,
    pow: string | null = null,
  ): Promise<void> {
    const { envelope: e } = readEnvelope(jws);
    // A's own hourly limit is out of the way: B's is the one under test.
    const queued = await alphaDb.transaction((tx) =>
      queueInboundRelay(
        tx,
        {
          id: e.id,
          toAccount: recipient.udf,
          toPortal: B.id,
          fromAccount: sender.udf,
          fromMaster: sender.master.profile.id,
          kind: e.kind,
          stranger: e.kind === 'contact',
          envelope: envelopeText(jws),
          pow,
        },
        { contactRequestsPerHour: 1_000 },
      ),
    );
    expect(queued).toEqual({ ok: true, duplicate: false });
  }

  /** Publishes an inbound message on `portal`'s log topic, as the broker would deliver anyone's. */
  async function publish(portal: string, message: InboundMessage): Promise<void> {
    const record = encodeInboundMessage(message);
    await producer.send({
      topic: logTopic(portal),
      acks: -1,
      messages: [
        { partition: 0, key: record.key, value: Buffer.from(record.value), headers: { type: record.type } },
      ],
    });
  }

  const spool = (recipient?: TestAccount, id?: string) =>
    queryDatabase<SpoolRow>(
      federation.portal(B.id).databaseUrl,
      `SELECT account_udf, id, kind, from_account, from_master, from_device, origin, stranger, envelope
         FROM inbound_spool WHERE ($1::text IS NULL OR account_udf = $1) AND ($2::text IS NULL OR id = $2)
        ORDER BY seq`,
      [recipient?.udf ?? null, id ?? null],
    );
  /** B's count of inbound messages from `peer` with `outcome` (its replication service's /metrics). */
  const outcomes = async (outcome: string, peer = A.id) =>
    (await scrape(federation.portal(B.id).urls.replication)).sum('intermesh_inbound_messages_total', {
      peer,
      outcome,
    });
  /** Waits until B counted `n` more messages with `outcome` than `before`. */
  async function counted(outcome: string, before: number, n = 1, peer = A.id): Promise<void> {
    await waitFor(
      `B counts ${n} more inbound message(s) of ${peer} as ${outcome}`,
      async () => (await outcomes(outcome, peer)) >= before + n,
      60_000,
    );
  }
  /** B's spool holds exactly the rows delivered so far. */
  async function spoolIsDelivered(): Promise<void> {
    const rows = await spool();
    expect(rows.map((r) => `${r.account_udf}:${r.id}`).sort()).toEqual([...delivered].sort());
  }

  it("delivers an envelope posted right after its sender's account was created, once, as the sender signed it", async () => {
    // The account's entry is still queued at A: the item waits until the part with it is published,
    // so B's mirror of A has alice before B reads the item (without that order B would refuse it).
    alice = await account(A, 'alice@alpha.example');
    await insertContact(bob, alice, 'allow');
    await insertContact(bob, mallory, 'block');
    const jws = await envelope(alice, bob, 'message');
    await relay(alice, bob, jws);
    const id = idOf(jws);
    const [row] = await waitFor('B delivers the message to bob', async () => {
      const rows = await spool(bob, id);
      return rows.length === 1 ? rows : undefined;
    });
    expect(row).toMatchObject({
      kind: 'message',
      from_account: alice.udf,
      from_master: alice.master.profile.id,
      from_device: alice.admin.profile.profile.id,
      origin: A.id,
      stranger: false,
    });
    expect(row!.envelope).toBe(envelopeText(jws));
    delivered.add(`${bob.udf}:${id}`);
    // A keeps the row, published, for its own contact-request count.
    const [outbox] = await queryDatabase<{ published_at: Date | null; after_size: string | null }>(
      federation.portal(A.id).databaseUrl,
      'SELECT published_at, after_size FROM inbound_outbox WHERE id = $1',
      [id],
    );
    expect(outbox!.published_at).not.toBeNull();
    expect(Number(outbox!.after_size)).toBeGreaterThan(0);
    expect(await outcomes('delivered')).toBeGreaterThanOrEqual(1);
    await spoolIsDelivered();
  }, 120_000);

  it("delivers what A published while B's replication service was down, once, when it returns", async () => {
    await federation.stopService(B.id, 'replication');
    const jws = await envelope(alice, bob, 'task');
    await relay(alice, bob, jws);
    const id = idOf(jws);
    await waitFor(
      'A publishes the item',
      async () =>
        (
          await queryDatabase<{ n: number }>(
            federation.portal(A.id).databaseUrl,
            'SELECT count(*)::int AS n FROM inbound_outbox WHERE id = $1 AND published_at IS NOT NULL',
            [id],
          )
        )[0]!.n === 1,
    );
    expect(await spool(bob, id)).toEqual([]);
    await federation.startService(B.id, 'replication');
    await waitFor('B delivers it after its restart', async () => (await spool(bob, id)).length === 1, 60_000);
    delivered.add(`${bob.udf}:${id}`);
    await spoolIsDelivered();
  }, 180_000);

  it("refuses, storing nothing, what the sender may not send: a stranger's message, a blocked sender, a contact request without proof of work, a flood", async () => {
    const before = {
      notContact: await outcomes('inbound.not-a-contact'),
      blocked: await outcomes('inbound.blocked'),
      pow: await outcomes('inbound.proof-of-work'),
      limited: await outcomes('inbound.rate-limited'),
    };
    const strangers = await envelope(sam, bob, 'message');
    await relay(sam, bob, strangers);
    const blocked = await envelope(mallory, bob, 'message');
    await relay(mallory, bob, blocked);
    const unproven = await envelope(sam, bob, 'contact');
    await relay(sam, bob, unproven);
    // The flood: sam's contact requests to two strangers at B, each with its proof of work; B
    // accepts CONTACT_REQUESTS_PER_HOUR of them.
    const recipients = [carol, dave];
    const flood = await Promise.all(recipients.map((r) => envelope(sam, r, 'contact')));
    for (const [i, jws] of flood.entries()) await relay(sam, recipients[i]!, jws, powOf(jws));

    await counted('inbound.not-a-contact', before.notContact);
    await counted('inbound.blocked', before.blocked);
    await counted('inbound.proof-of-work', before.pow);
    await counted('inbound.rate-limited', before.limited);
    for (const jws of [strangers, blocked, unproven]) expect(await spool(bob, idOf(jws))).toEqual([]);
    for (const [i, jws] of flood.entries()) {
      const rows = await spool(recipients[i], idOf(jws));
      if (i < CONTACT_REQUESTS_PER_HOUR) {
        expect(rows).toMatchObject([{ kind: 'contact', from_account: sam.udf, stranger: true }]);
        delivered.add(`${recipients[i]!.udf}:${idOf(jws)}`);
      } else expect(rows).toEqual([]);
    }
    await spoolIsDelivered();
  }, 360_000);

  it('refuses, storing nothing, a forged sender: a device not in the Personal Profile, an account not in the origin’s log', async () => {
    const before = {
      device: await outcomes('inbound.unknown-device'),
      unknown: await outcomes('inbound.unknown-sender'),
    };
    // alice's address and Master Profile, signed by a device key that is not hers.
    const intruder = await newDevice('not alice’s');
    const forged = await envelope(alice, bob, 'message', { device: intruder });
    await relay(alice, bob, forged);
    // An account A never logged: its profiles exist only here.
    const ghost = await TestAccount.create('ghost@alpha.example', undefined, A.origin);
    const fromGhost = await envelope(ghost, bob, 'message');
    await relay(ghost, bob, fromGhost);
    await counted('inbound.unknown-device', before.device);
    await counted('inbound.unknown-sender', before.unknown);
    for (const jws of [forged, fromGhost]) expect(await spool(bob, idOf(jws))).toEqual([]);
    await spoolIsDelivered();
  }, 120_000);

  it("refuses, storing nothing, what the broker, the origin or another member may write: another witness key, changed bytes, another recipient, another origin's name", async () => {
    const rogueWitness = witnessSigner(`${rogue.origin}/witness`, nodeEd25519);
    const before = {
      witness: await outcomes('inbound.witness-signature'),
      signature: await outcomes('inbound.bad-signature'),
      recipient: await outcomes('inbound.wrong-recipient'),
      portal: await outcomes('inbound.portal', rogue.id),
    };
    const jws = await envelope(alice, bob, 'message');
    const bytes = utf8.encode(envelopeText(jws));
    // 1. Signed by another member's witness key, on A's topic in A's name.
    await publish(A.id, signInbound(A.id, bob.udf, bytes, null, rogueWitness));
    // 2. The broker changed bytes of a message A signed.
    const signed = signInbound(A.id, bob.udf, bytes, null, alphaWitness);
    const flipped = flip(bytes);
    await publish(A.id, { ...signed, envelope: flipped });
    // 3. The origin itself changed the envelope (a character of its signature) and signed that.
    await publish(A.id, signInbound(A.id, bob.udf, flipped, null, alphaWitness));
    // 4. The origin sent bob's envelope to carol.
    await publish(A.id, {
      portal: A.id,
      to: carol.udf,
      envelope: bytes,
      pow: null,
      signature: alphaWitness.sign(inboundStatement(A.id, carol.udf, bytes, null)),
    });
    // 5. A member's topic carrying a message in A's name, signed by A.
    await publish(rogue.id, signed);

    await counted('inbound.witness-signature', before.witness, 2);
    await counted('inbound.bad-signature', before.signature);
    await counted('inbound.wrong-recipient', before.recipient);
    await counted('inbound.portal', before.portal, 1, rogue.id);
    expect(await spool(bob, idOf(jws))).toEqual([]);
    expect(await spool(carol, idOf(jws))).toEqual([]);
    await spoolIsDelivered();
  }, 120_000);

  it("replays nothing: B's replication service re-reading A's whole topic after a restart delivers nothing again", async () => {
    const rows = await spool();
    await federation.stopService(B.id, 'replication');
    // Its progress on A's topic back to the start: every part and inbound message is read again.
    await queryDatabase(
      federation.portal(B.id).databaseUrl,
      'UPDATE consumer_progress SET next_offset = 0 WHERE topic = $1',
      [logTopic(A.id)],
    );
    await federation.startService(B.id, 'replication');
    // Every delivered item of A comes again, and is a replay.
    await counted('replay', 0, delivered.size);
    // The flood's refused request is refused again (the limit counts the accepted ones).
    await counted('inbound.rate-limited', 0);
    expect(await spool()).toEqual(rows);
    await spoolIsDelivered();
  }, 180_000);

  /** A contact catalog object of `owner` with `rule` for `contact` (what CatalogUpdate stores). */
  async function insertContact(owner: TestAccount, contact: TestAccount, rule: 'allow' | 'block') {
    const id = createHash('sha256').update(`${owner.udf}\n${contact.udf}`).digest('base64url');
    await queryDatabase(
      federation.portal(B.id).databaseUrl,
      `INSERT INTO user_catalog_objects
         (account_udf, catalog, id, state, sequence, value, bytes, access_account, access_master, access_rule)
       VALUES ($1, 'contact', $2, 'active', 1, 'a signed value', 14, $3, $4, $5)`,
      [owner.udf, id, contact.udf, contact.master.profile.id, rule],
    );
  }
});

/** `bytes` with one character of the envelope's signature changed (still valid base64url). */
function flip(bytes: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const at = text.lastIndexOf('"') - 3;
  const changed = `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
  return utf8.encode(changed);
}
