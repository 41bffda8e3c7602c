import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { DataSource } from 'typeorm';
import { systemClock } from '@cryptomesh/audit';
import { accountUdf, nodeEd25519 } from '@cryptomesh/crypto';
import {
  DEFAULT_PART_LIMITS,
  INBOUND_MESSAGE_TYPE,
  encodeInboundMessage,
  kafkaClientConfig,
  signInbound,
  type FederationPeer,
} from '@cryptomesh/intermesh';
import { encodeEntry, parseVerifierKey, signKeyTransition } from '@cryptomesh/log';
import {
  INBOUND_ENVELOPE_TYPE,
  authoriseRecord,
  encodeRecord,
  envelopeText,
  type RecordContent,
} from '@cryptomesh/mesh';
import { signPayload } from '../../libs/mesh/src/profile-envelope';
import {
  TypeOrmCosignatureStore,
  TypeOrmFindingStore,
  TypeOrmMirrorStore,
  dataSourceOptions,
  runMigrations,
} from '@cryptomesh/persistence';
import { HealthRegistry, MetricsService } from '@cryptomesh/service';
import { FederationMetrics } from '../../apps/replication/src/federation/federation.metrics';
import { WitnessService } from '../../apps/replication/src/federation/witness.service';
import { MirrorService } from '../../apps/replication/src/mirror/mirror.service';
import { InboundIntake } from '../../apps/replication/src/mirror/inbound-intake';
import { logSigner, witnessSigner } from '../../libs/log/testdata/log-fixture';
import { createAccountEntry } from '../../libs/mesh/test/fixtures';
import { createTestDatabase, testKafkaBrokers, type TestDatabase } from '../env/test-database';
import { TestAccount } from '../support/mesh-client';
import { waitFor } from '../support/federation-oracle';
import { RoguePortal } from '../support/rogue-portal';

/**
 * A hostile peer's sealed part whose text PostgreSQL cannot store — a NUL in a record's Account, in
 * a MoveAccount's To, in a key transition's Origin or in what a finding quotes (its detail), an
 * unpaired surrogate quoted, a 3,000-character Account (too long for an index row), a NUL in an
 * inbound envelope's sender — used to fail its store or its finding's insert, and the mirror read
 * the same part again for ever: the peer escaped audit. Each is now a finding (or, for the inbound
 * message, a refusal), stored, and the mirror goes on. The real MirrorService, Kafka and PostgreSQL.
 */
describe('a mirror on a hostile peer text PostgreSQL refuses: a finding, never a stall', () => {
  const tag = Date.now().toString(36);
  const names = [
    'control', // a NUL in a request's Nonce (docs/decisions.md "A request's nonce has one form")
    'accountnul', // NUL in the record Account: the account-state lookup fails
    'detailnul', // NUL in the finding's detail (unsigned Publish, Action "\0")
    'movednul', // NUL in a MoveAccount To: the stored state (jsonb)
    'accountlong', // a 3,000-character Account: index row too large
    'transition', // NUL in a key transition's Origin: the bad-part finding's evidence (jsonb)
    'surrogate', // a lone surrogate quoted in the finding's detail: signFinding refused it
    'inbound', // an inbound message whose envelope's FromAccount holds a NUL
  ] as const;
  const rogues = new Map<string, RoguePortal>();
  let db: TestDatabase;
  let dataSource: DataSource;
  let mirror: MirrorService | undefined;
  let metrics: FederationMetrics;
  let store: TypeOrmMirrorStore;

  beforeAll(async () => {
    for (const name of names) {
      const r = new RoguePortal(`t${name}-${tag}`, testKafkaBrokers());
      await r.connect();
      rogues.set(name, r);
    }
    db = await createTestDatabase('mirrortext');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(dataSource);
  }, 60_000);

  afterAll(async () => {
    await mirror?.beforeApplicationShutdown();
    for (const r of rogues.values()) await r.close().catch(() => undefined);
    await dataSource?.destroy();
    await db?.drop();
  });

  async function createWith(r: RoguePortal, account: string, address: string): Promise<Uint8Array> {
    const a = await TestAccount.create(address, undefined, r.origin);
    const content: RecordContent = {
      operation: 'CreateAccount',
      account,
      master: a.master,
      personal: a.personal,
      devices: a.devices.map((d) => d.profile),
    };
    return encodeRecord(
      await authoriseRecord(content, a.admin.signature, { portal: r.origin, time: Date.now() }),
    );
  }

  it('turns each into a finding or a refusal, stores it, and reads nothing again', async () => {
    const attack = new Map<string, Uint8Array[]>();
    const r = (n: string) => rogues.get(n)!;
    attack.set('control', [
      await createAccountEntry(50, {
        time: Date.now(),
        portal: r('control').origin,
        nonce: 'AAAAAAAAAAAAAAAAAAAAA\u0000',
      }),
    ]);
    attack.set('accountnul', [await createWith(r('accountnul'), 'MALLORY\u0000', 'm1@example.com')]);
    attack.set('detailnul', [
      encodeEntry({
        Account: accountUdf('d@example.com'),
        Action: '\u0000',
        Authorisation: {},
        Id: 'x',
        Operation: 'Publish',
      }),
    ]);
    attack.set('accountlong', [
      await createWith(r('accountlong'), randomBytes(2250).toString('base64url'), 'm2@example.com'),
    ]);
    {
      // An unsigned CreateAccount whose Master Profile payload Id is a lone surrogate.
      const a = await TestAccount.create('m3@example.com', undefined, r('surrogate').origin);
      const payload = JSON.parse(Buffer.from(a.master.jws.payload, 'base64url').toString()) as object;
      const bad = Buffer.from(JSON.stringify({ ...payload, Id: '\ud800' })).toString('base64url');
      attack.set('surrogate', [
        encodeEntry({
          Account: a.udf,
          Authorisation: {},
          Devices: [],
          Master: { ...a.master.jws, payload: bad },
          Operation: 'CreateAccount',
          Personal: { ...a.personal.jws },
        }),
      ]);
    }

    // Each rogue: part 0 honest, then its attack, then (except where noted) an honest part.
    const carol = await TestAccount.create('carol@example.com', undefined, r('movednul').origin);
    for (const name of names) {
      const rogue = r(name);
      if (name === 'movednul') {
        const created = await authoriseRecord(
          {
            operation: 'CreateAccount',
            account: carol.udf,
            master: carol.master,
            personal: carol.personal,
            devices: carol.devices.map((d) => d.profile),
          },
          carol.admin.signature,
          { portal: rogue.origin, time: Date.now() },
        );
        await rogue.publish(rogue.sealNext([encodeRecord(created)]));
        const moved = await authoriseRecord(
          { operation: 'MoveAccount', account: carol.udf, to: 'gamma.example/log\u0000' },
          carol.admin.signature,
          { portal: rogue.origin, time: Date.now() },
        );
        await rogue.publish(rogue.sealNext([encodeRecord(moved)]));
      } else if (name === 'transition') {
        await rogue.publish(await rogue.nextPart(1));
        const entry = signKeyTransition({
          origin: 'rogue\u0000',
          oldKey: rogue.log.fixture.signer,
          nextKey: logSigner(rogue.origin, nodeEd25519, 'next'),
          part: 1,
          size: 2,
        });
        await rogue.publish(rogue.sealNext([entry]));
      } else if (name === 'inbound') {
        await rogue.publish(await rogue.nextPart(1));
        const key = (await TestAccount.create('m4@example.com')).admin.signature;
        const jws = await signPayload(
          {
            Kind: 'message',
            Id: 'AAAAAAAAAAAAAAAAAAAAAA',
            FromAccount: 'MALLORY\u0000',
            FromMaster: accountUdf('master.m4@example.com'),
            ToAccount: carol.udf,
            ToMaster: carol.master.profile.id,
            Created: Date.now(),
            Body: { recipients: [], ciphertext: '' },
          },
          INBOUND_ENVELOPE_TYPE,
          key,
        );
        const message = signInbound(
          rogue.id,
          carol.udf,
          new TextEncoder().encode(envelopeText(jws)),
          null,
          witnessSigner(`${rogue.origin}/witness`, nodeEd25519),
        );
        const record = encodeInboundMessage(message);
        expect(record.type).toBe(INBOUND_MESSAGE_TYPE);
        await rogue.send([record]);
      } else {
        await rogue.publish(await rogue.nextPart(1));
        await rogue.publish(rogue.sealNext(attack.get(name)!));
      }
      await rogue.publish(await rogue.nextPart(1));
    }

    store = new TypeOrmMirrorStore(dataSource);
    const findings = new TypeOrmFindingStore(dataSource);
    const cosignatures = new TypeOrmCosignatureStore(dataSource);
    const service = new MetricsService({ name: 'replication', version: 'test' });
    metrics = new FederationMetrics(service);
    const peers: FederationPeer[] = names.map((n) => ({
      id: r(n).id,
      origin: r(n).origin,
      verifierKey: parseVerifierKey(r(n).peer.verifierKey),
      witnessKey: parseVerifierKey(r(n).peer.witnessKey),
      queryUrl: 'http://127.0.0.1:9',
    }));
    const witness = new WitnessService(
      {
        portalId: 'observer',
        peers,
        witnessKey: witnessSigner('observer.test/witness', nodeEd25519),
        quorum: 1,
      },
      findings,
      systemClock,
      metrics,
    );
    const inbound = new InboundIntake(
      {
        contactPowLevel: 0,
        maxEnvelopeBytes: 65536,
        limits: {
          contactRequestsPerHour: 10,
          contactRequestsPerOriginPerHour: 10,
          spoolMaxPerAccount: 100,
          strangerMaxPerAccount: 10,
          maxAgeMs: 3_600_000,
          clockSkewMs: 300_000,
        },
      },
      {
        isActiveRecipient: () => Promise.resolve(true),
        admit: () => Promise.reject(new Error('not reached')),
      },
      store,
      systemClock,
      service,
    );
    mirror = new MirrorService(
      {
        enabled: true,
        groupId: `mirror-text-${tag}`,
        staleAfterMs: 3_600_000,
        catchUpIntervalMs: 3_600_000,
        catchUpTimeoutMs: 1_000,
        partLimits: DEFAULT_PART_LIMITS,
      },
      new Kafka({
        ...kafkaClientConfig({ brokers: testKafkaBrokers(), clientId: 'mirror-text' }),
        logLevel: logLevel.NOTHING,
      }),
      store,
      findings,
      cosignatures,
      systemClock,
      witness,
      metrics,
      new HealthRegistry(),
      undefined,
      inbound,
      undefined,
    );
    await mirror.onApplicationBootstrap();

    const expected: Record<(typeof names)[number], { head: number; finding?: RegExp }> = {
      control: { head: 0, finding: /^rule\/request\.malformed$/ },
      accountnul: { head: 0, finding: /^rule\/record\.malformed$/ },
      detailnul: { head: 0, finding: /^rule\/record\.malformed$/ },
      movednul: { head: 0, finding: /^rule\/record\.malformed$/ },
      accountlong: { head: 0, finding: /^rule\/record\.malformed$/ },
      transition: { head: 0, finding: /^bad-part\/verify\.transition$/ },
      surrogate: { head: 0, finding: /^rule\/profile\./ },
      // Not part of the log: refused and counted; the honest part after it is mirrored.
      inbound: { head: 1 },
    };
    const state = async (name: (typeof names)[number]) => {
      const id = r(name).id;
      const found = await dataSource.query<Array<{ kind: string; code: string; detail: string }>>(
        'SELECT kind, code, detail FROM findings WHERE subject = $1',
        [id],
      );
      return { head: (await store.head(id))?.part, findings: found };
    };
    for (const name of names) {
      const want = expected[name];
      await waitFor(`${name}: its finding stored, its head at ${want.head}`, async () => {
        const now = await state(name);
        const kinds = now.findings.map((f) => `${f.kind}/${f.code}`);
        const findingOk =
          want.finding === undefined ? kinds.length === 0 : kinds.some((k) => want.finding!.test(k));
        return findingOk && now.head === want.head;
      });
    }
    // Nothing is read again: no store or topic error for any of them, and each finding once.
    const errors = (await metrics.errors.get()).values.filter((v) =>
      /store|topic/.test(String(v.labels.stage)),
    );
    expect(errors.filter((v) => names.some((n) => v.labels.peer === r(n).id))).toEqual([]);
    for (const name of names) {
      const { findings } = await state(name);
      expect([name, findings.length]).toEqual([name, expected[name].finding === undefined ? 0 : 1]);
    }
    // What a finding quotes is stored, its NUL escaped.
    const detail = (await state('detailnul')).findings[0]!.detail;
    expect(detail).toContain('\\u0000');
  }, 120_000);
});
