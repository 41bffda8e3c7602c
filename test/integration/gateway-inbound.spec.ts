import { randomBytes } from 'node:crypto';
import { encryptJwe, utf8, type FlattenedJws } from '@cryptomesh/crypto';
import {
  authoriseRecord,
  CATALOG_VALUE_TYPE,
  envelopeWorkBody,
  INBOUND_ENVELOPE_TYPE,
  readEnvelope,
  retrievalKey,
  signCatalogValue,
  signEnvelope,
  solveProofOfWork,
  type CatalogAccess,
  type CatalogName,
  type InboundKind,
  type JsonObject,
} from '@cryptomesh/mesh';
import { signPayload } from '@cryptomesh/mesh/profile-envelope';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import type { RunningService } from '@cryptomesh/service';
import { DataSource } from 'typeorm';
import { InboundPurger } from '../../apps/gateway/src/inbound/inbound-purger';
import {
  createServiceUsers,
  createTestDatabase,
  type ServiceUsers,
  type TestDatabase,
} from '../env/test-database';
import { queryDatabase, snapshotDatabase } from '../support/db-snapshot';
import { jws, newDevice, post, TestAccount, type Fields, type TestDevice } from '../support/mesh-client';
import { startGateway } from '../support/test-gateway';

/**
 * The catalog and inbound services of the gateway (docs/design/inbound.md, docs/PROTOCOL.md
 * "CatalogUpdate" … "InboundDelete") against a real gateway on PostgreSQL. Every refusal is checked
 * to leave every row of every table as it was (DESIGN.md invariant 4).
 */
describe('gateway: catalogs and inbound services', () => {
  let db: TestDatabase;
  let users: ServiceUsers;
  let gateway: RunningService; // no proof of work, 2 stranger contact requests per sender per hour
  let strict: RunningService; // contact proof of work at level 1
  let tight: RunningService; // 2 catalog objects and 2 spool items per account
  let alice: TestAccount;
  let bob: TestAccount;
  let carol: TestAccount;
  let dave: TestAccount; // bob blocks him
  let erin: TestAccount; // floods
  let fred: TestAccount; // the tight portal's quotas
  let phone: TestDevice; // alice's second device
  const catalogKey = new Uint8Array(randomBytes(32));
  let zed: TestAccount; // an account of the member beta, known here only through a verified mirror
  let nobody: TestAccount; // an account of no portal

  beforeAll(async () => {
    db = await createTestDatabase('gwinbound');
    // The gateways run as the gateway's database role: only the rights its migrations grant it.
    const owner = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 1 })).initialize();
    await runMigrations(owner);
    await owner.destroy();
    users = await createServiceUsers(db);
    // No log-signer runs: the queued entries of the accounts' changes never leave the queue.
    const common = {
      DB_MIGRATIONS: 'check',
      RATE_LIMIT_ACCOUNT_PER_MINUTE: '0',
      RATE_LIMIT_ADDRESS_PER_MINUTE: '0',
      PUSHBACK_QUEUE_AGE_MS: '0',
    };
    gateway = await startGateway(users.urls.gateway, {
      ...common,
      INBOUND_CONTACT_POW_LEVEL: '0',
      INBOUND_CONTACT_REQUESTS_PER_HOUR: '2',
      MAX_PROFILE_BYTES: '8192',
    });
    strict = await startGateway(users.urls.gateway, { ...common, INBOUND_CONTACT_POW_LEVEL: '1' });
    tight = await startGateway(users.urls.gateway, {
      ...common,
      INBOUND_CONTACT_POW_LEVEL: '0',
      QUOTA_CATALOG_OBJECTS_PER_ACCOUNT: '2',
      INBOUND_SPOOL_MAX_PER_ACCOUNT: '2',
    });
    const create = (name: string) => TestAccount.create(`${name}@alpha.example`);
    [alice, bob, carol, dave, erin, fred] = [
      await create('alice'),
      await create('bob'),
      await create('carol'),
      await create('dave'),
      await create('erin'),
      await create('fred'),
    ];
    for (const account of [alice, bob, carol, dave, erin, fred])
      await expectOk('CreateAccount', await account.createAccount());
    phone = await newDevice('phone');
    const personal = await alice.nextPersonal({ devices: [alice.admin, phone] });
    await expectOk('Publish', await alice.publish('update', personal));
    alice.adopt(personal, [alice.admin, phone], []);
    // An account of the member `beta`, known here only through a verified mirror of beta's log.
    zed = await TestAccount.create('zed@beta.example');
    nobody = await TestAccount.create('nobody@alpha.example');
    await queryDatabase(
      db.url,
      `INSERT INTO mirror_entries (peer, idx, entry, leaf_hash, account) VALUES ('beta', 0, '\\x7b7d', $1, $2)`,
      [Buffer.alloc(32), zed.udf],
    );
    await queryDatabase(
      db.url,
      `INSERT INTO mirror_account_states (peer, account, state, through) VALUES ('beta', $1, $2, 0)`,
      [zed.udf, JSON.stringify({ status: 'active', master: jws(zed.master) })],
    );
  });

  afterAll(async () => {
    await tight?.app.close();
    await strict?.app.close();
    await gateway?.app.close();
    await users?.drop();
    await db?.drop();
  });

  async function expectOk(name: string, body: Fields, on: RunningService = gateway): Promise<Fields> {
    const answer = await post(on.url, name, body);
    expect([answer.status, answer.fields.Error, answer.fields.StatusDescription]).toEqual([
      200,
      undefined,
      'OK',
    ]);
    return answer.fields;
  }

  /** Posts, expects the refusal, and checks that no row of any table changed. */
  async function expectRefused(
    name: string,
    body: Fields | string,
    status: number,
    code: string,
    options: { reason?: string; on?: RunningService } = {},
  ): Promise<Fields> {
    const before = await snapshotDatabase(db.url);
    const answer = await post((options.on ?? gateway).url, name, body);
    expect({ status: answer.status, code: answer.fields.Error, reason: answer.fields.Reason }).toEqual({
      status,
      code,
      reason: options.reason ?? answer.fields.Reason,
    });
    expect(await snapshotDatabase(db.url)).toEqual(before);
    return answer.fields;
  }

  const jwe = async (text: string, to: readonly TestDevice[] = bob.devices): Promise<JsonObject> =>
    (await encryptJwe(
      utf8(text),
      to.map((d) => ({ algorithm: 'X25519' as const, publicKey: d.encryption.publicKey })),
    )) as unknown as JsonObject;

  const asFields = (signed: FlattenedJws): JsonObject => ({
    protected: signed.protected,
    payload: signed.payload,
    signature: signed.signature,
  });

  /**
   * `signed` with members of its payload replaced, signed again by `signer` with the same `typ`:
   * a signature that verifies over a form the portal must refuse (hostile text).
   */
  async function resigned(
    signed: JsonObject,
    type: string,
    change: (payload: Record<string, unknown>) => void,
    signer: TestDevice,
  ): Promise<JsonObject> {
    const payload = JSON.parse(Buffer.from(signed.payload as string, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    change(payload);
    return asFields(await signPayload(payload, type, signer.signature));
  }

  /** A signed catalog value (or tombstone) of `owner`, by `signer`. */
  async function catalogValue(
    owner: TestAccount,
    options: {
      catalog?: CatalogName;
      id: string;
      sequence: number;
      access?: CatalogAccess;
      deleted?: boolean;
      signer?: TestDevice;
      account?: string;
      data?: JsonObject;
    },
  ): Promise<JsonObject> {
    const deleted = options.deleted === true;
    const signed = await signCatalogValue(
      {
        account: options.account ?? owner.udf,
        catalog: options.catalog ?? 'contact',
        id: options.id,
        sequence: options.sequence,
        created: Date.now(),
        ...(options.access === undefined ? {} : { access: options.access }),
        ...(deleted ? { deleted: true } : { data: options.data ?? (await jwe('{}', owner.devices)) }),
      },
      (options.signer ?? owner.admin).signature,
    );
    return asFields(signed);
  }

  async function catalogUpdate(
    owner: TestAccount,
    action: 'create' | 'update' | 'delete',
    id: string,
    value: JsonObject,
    catalog: CatalogName = 'contact',
  ): Promise<Fields> {
    return owner.authenticated('CatalogUpdate', { Catalog: catalog, Action: action, Id: id, Value: value });
  }

  /** `owner` allows (or blocks) `other` in its contact catalog. */
  async function setContact(owner: TestAccount, other: TestAccount, rule: 'allow' | 'block') {
    const id = retrievalKey(catalogKey, 'contact', `${owner.address}\n${other.address}`);
    const access: CatalogAccess = { account: other.udf, master: other.master.profile.id, rule };
    const value = await catalogValue(owner, { id, sequence: 1, access });
    await expectOk('CatalogUpdate', await catalogUpdate(owner, 'create', id, value));
  }

  async function envelope(
    from: TestAccount,
    to: TestAccount,
    kind: InboundKind,
    options: { signer?: TestDevice; fromAddress?: string; created?: number; toMaster?: string } = {},
  ): Promise<JsonObject> {
    const signed = await signEnvelope(
      {
        kind,
        from: options.fromAddress ?? from.address,
        fromMaster: from.master.profile.id,
        to: to.address,
        toMaster: options.toMaster ?? to.master.profile.id,
        created: options.created ?? Date.now(),
        body: await jwe(JSON.stringify({ Text: `a ${kind}` })),
      },
      (options.signer ?? from.admin).signature,
    );
    return asFields(signed);
  }

  const inboundPost = (from: TestAccount, envelopeFields: JsonObject, pow?: string): Promise<Fields> =>
    from.authenticated('InboundPost', {
      Envelope: envelopeFields,
      ...(pow === undefined ? {} : { ProofOfWork: pow }),
    });

  const idOf = (envelopeFields: JsonObject): string => readEnvelope(envelopeFields).envelope.id;

  const spoolOf = (account: TestAccount) =>
    queryDatabase<{ id: string; kind: string; deleted: boolean; stranger: boolean }>(
      db.url,
      `SELECT id, kind, deleted_at IS NOT NULL AS deleted, stranger FROM inbound_spool WHERE account_udf = $1 ORDER BY seq`,
      [account.udf],
    );

  describe('Hello', () => {
    it('announces the inbound policy and the catalog quotas', async () => {
      const hello = await expectOk('Hello', {}, strict);
      expect(hello.Policy).toMatchObject({
        Inbound: {
          ContactProofOfWork: 1,
          ContactRequestsPerHour: 20,
          MaxEnvelopeBytes: 65_536,
          MaxAgeMs: 604_800_000,
        },
        Quotas: { CatalogObjectsPerAccount: 10_000, CatalogBytesPerAccount: 16 * 1024 * 1024 },
      });
    });
  });

  describe('CatalogUpdate and CatalogGet', () => {
    const id = retrievalKey(catalogKey, 'credential', 'mail.example');
    let v1: JsonObject;
    let v2: JsonObject;

    it('creates and updates an object; CatalogGet answers the stored value', async () => {
      v1 = await catalogValue(alice, { catalog: 'credential', id, sequence: 1, signer: phone });
      const created = await expectOk(
        'CatalogUpdate',
        await catalogUpdate(alice, 'create', id, v1, 'credential'),
      );
      expect(created).toMatchObject({ Catalog: 'credential', Id: id, State: 'active', Sequence: 1 });
      v2 = await catalogValue(alice, { catalog: 'credential', id, sequence: 2 });
      expect(
        await expectOk('CatalogUpdate', await catalogUpdate(alice, 'update', id, v2, 'credential')),
      ).toMatchObject({ State: 'active', Sequence: 2 });
      const got = await expectOk(
        'CatalogGet',
        await alice.authenticated('CatalogGet', { Catalog: 'credential' }),
      );
      expect(got.Objects).toEqual([{ Id: id, State: 'active', Value: v2 }]);
      expect(got.Next).toBeUndefined();
      const one = await expectOk(
        'CatalogGet',
        await alice.authenticated('CatalogGet', { Catalog: 'credential', Id: id }),
      );
      expect(one.Objects).toEqual([{ Id: id, State: 'active', Value: v2 }]);
      // Another catalog of the account, and another account, hold nothing.
      expect(
        (await expectOk('CatalogGet', await alice.authenticated('CatalogGet', { Catalog: 'application' })))
          .Objects,
      ).toEqual([]);
      expect(
        (await expectOk('CatalogGet', await bob.authenticated('CatalogGet', { Catalog: 'credential' })))
          .Objects,
      ).toEqual([]);
    });

    it('refuses a forged, misdirected or stale value, and changes nothing', async () => {
      const v3 = await catalogValue(alice, { catalog: 'credential', id, sequence: 3 });
      const tampered = {
        ...v3,
        signature: (v3.signature as string).startsWith('A')
          ? `B${(v3.signature as string).slice(1)}`
          : `A${(v3.signature as string).slice(1)}`,
      };
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'update', id, tampered, 'credential'),
        400,
        'catalog.bad-signature',
      );
      const byBob = await catalogValue(alice, { catalog: 'credential', id, sequence: 3, signer: bob.admin });
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'update', id, byBob, 'credential'),
        403,
        'catalog.wrong-signer',
      );
      // Authenticated by a device of another account.
      await expectRefused(
        'CatalogUpdate',
        await alice.authenticated(
          'CatalogUpdate',
          { Catalog: 'credential', Action: 'update', Id: id, Value: v3 },
          bob.admin,
        ),
        401,
        'auth.unknown-device',
      );
      const otherId = retrievalKey(catalogKey, 'credential', 'other.example');
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'update', otherId, v3, 'credential'),
        400,
        'catalog.invalid',
        { reason: 'catalog.id-mismatch' },
      );
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'update', id, v3, 'application'),
        400,
        'catalog.invalid',
        { reason: 'catalog.wrong-catalog' },
      );
      const forBob = await catalogValue(alice, { catalog: 'credential', id, sequence: 3, account: bob.udf });
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'update', id, forBob, 'credential'),
        400,
        'catalog.invalid',
        { reason: 'catalog.wrong-account' },
      );
      for (const sequence of [1, 2]) {
        const stale = await catalogValue(alice, { catalog: 'credential', id, sequence });
        await expectRefused(
          'CatalogUpdate',
          await catalogUpdate(alice, 'update', id, stale, 'credential'),
          409,
          'persistence.conflict',
          { reason: 'catalog.sequence' },
        );
      }
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'create', id, v3, 'credential'),
        409,
        'persistence.conflict',
        { reason: 'persistence.exists' },
      );
      const missing = retrievalKey(catalogKey, 'credential', 'never.example');
      const tombMissing = await catalogValue(alice, {
        catalog: 'credential',
        id: missing,
        sequence: 1,
        deleted: true,
      });
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'delete', missing, tombMissing, 'credential'),
        409,
        'persistence.conflict',
        { reason: 'persistence.undefined' },
      );
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'delete', id, v3, 'credential'),
        400,
        'catalog.invalid',
        { reason: 'catalog.invalid' },
      );
      // Access is only a contact's.
      await expect(
        catalogValue(alice, {
          catalog: 'credential',
          id,
          sequence: 3,
          access: { account: bob.udf, rule: 'allow' },
        }),
      ).rejects.toMatchObject({ code: 'catalog.invalid' });
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(
          alice,
          'update',
          id,
          { protected: 'x', payload: 'y', signature: 'z' },
          'credential',
        ),
        400,
        'catalog.invalid',
      );
      // A contact whose Access names no UDF, signed by alice's own device: refused as the form it
      // is, never stored (a NUL, or 3,000 characters, answered 500 before 2026-12-07).
      const contactId = retrievalKey(catalogKey, 'contact', 'hostile.example');
      const contact = await catalogValue(alice, {
        id: contactId,
        sequence: 1,
        access: { account: bob.udf, master: bob.master.profile.id, rule: 'allow' },
      });
      for (const hostile of [{ Master: 'M\u0000' }, { Account: 'A'.repeat(3_000) }, { Account: 'x\u0000' }])
        await expectRefused(
          'CatalogUpdate',
          await catalogUpdate(
            alice,
            'create',
            contactId,
            await resigned(
              contact,
              CATALOG_VALUE_TYPE,
              (p) => (p['Access'] = { ...(p['Access'] as object), ...hostile }),
              alice.admin,
            ),
          ),
          400,
          'catalog.invalid',
        );
    });

    it('refuses malformed requests and an oversized value', async () => {
      const v3 = await catalogValue(alice, { catalog: 'credential', id, sequence: 3 });
      await expectRefused('CatalogUpdate', '{"CatalogUpdateRequest": {"Account": ', 400, 'request.malformed');
      for (const change of [
        { Catalog: 'calendar' },
        { Action: 'upsert' },
        { Action: 7 },
        { Id: 'short' },
        { Value: 'eyJ9' },
        { Extra: true },
      ])
        await expectRefused(
          'CatalogUpdate',
          await alice.authenticated('CatalogUpdate', {
            Catalog: 'credential',
            Action: 'update',
            Id: id,
            Value: v3,
            ...change,
          }),
          400,
          'request.invalid',
        );
      const huge = await catalogValue(alice, {
        catalog: 'credential',
        id,
        sequence: 3,
        data: { recipients: [], ciphertext: 'A'.repeat(10_000) },
      });
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'update', id, huge, 'credential'),
        413,
        'profile.too-large',
      );
      await expectRefused(
        'CatalogGet',
        await alice.authenticated('CatalogGet', { Catalog: 'credential', After: 'x' }),
        400,
        'request.invalid',
      );
    });

    it('deletes with a signed tombstone, and revives by an update', async () => {
      const tomb = await catalogValue(alice, { catalog: 'credential', id, sequence: 3, deleted: true });
      expect(
        await expectOk('CatalogUpdate', await catalogUpdate(alice, 'delete', id, tomb, 'credential')),
      ).toMatchObject({
        State: 'inactive',
        Sequence: 3,
      });
      const tomb4 = await catalogValue(alice, { catalog: 'credential', id, sequence: 4, deleted: true });
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(alice, 'delete', id, tomb4, 'credential'),
        409,
        'persistence.conflict',
        { reason: 'persistence.inactive' },
      );
      const got = await expectOk(
        'CatalogGet',
        await alice.authenticated('CatalogGet', { Catalog: 'credential' }),
      );
      expect(got.Objects).toEqual([{ Id: id, State: 'inactive', Value: tomb }]);
      const v5 = await catalogValue(alice, { catalog: 'credential', id, sequence: 5 });
      expect(
        await expectOk('CatalogUpdate', await catalogUpdate(alice, 'update', id, v5, 'credential')),
      ).toMatchObject({
        State: 'active',
        Sequence: 5,
      });
    });

    it('pages 500 objects at a time in change order', async () => {
      await queryDatabase(
        db.url,
        `INSERT INTO user_catalog_objects (account_udf, catalog, id, state, sequence, value, bytes)
         SELECT $1, 'application', lpad(i::text, 43, 'A'), 'active', 1, '{"n":' || i || '}', 8
           FROM generate_series(1, 501) AS i`,
        [carol.udf],
      );
      const first = await expectOk(
        'CatalogGet',
        await carol.authenticated('CatalogGet', { Catalog: 'application' }),
      );
      expect((first.Objects as unknown[]).length).toBe(500);
      expect((first.Objects as Array<{ Value: unknown }>)[0]!.Value).toEqual({ n: 1 });
      expect(typeof first.Next).toBe('string');
      const second = await expectOk(
        'CatalogGet',
        await carol.authenticated('CatalogGet', { Catalog: 'application', After: first.Next }),
      );
      expect(second.Objects).toEqual([{ Id: `${'A'.repeat(40)}501`, State: 'active', Value: { n: 501 } }]);
      expect(second.Next).toBeUndefined();
    });

    it('of two concurrent creates of one object, exactly one is stored', async () => {
      const race = retrievalKey(catalogKey, 'application', 'race');
      const values = [
        await catalogValue(dave, { catalog: 'application', id: race, sequence: 1 }),
        await catalogValue(dave, { catalog: 'application', id: race, sequence: 1 }),
      ];
      const answers = await Promise.all(
        values.map(async (v, i) =>
          post(
            [gateway, strict][i]!.url,
            'CatalogUpdate',
            await catalogUpdate(dave, 'create', race, v, 'application'),
          ),
        ),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      const winner = values[answers.findIndex((a) => a.status === 200)];
      const got = await expectOk(
        'CatalogGet',
        await dave.authenticated('CatalogGet', { Catalog: 'application', Id: race }),
      );
      expect(got.Objects).toEqual([{ Id: race, State: 'active', Value: winner }]);
    });

    it('holds the account to its catalog quota', async () => {
      const ids = ['a', 'b', 'c'].map((k) => retrievalKey(catalogKey, 'application', k));
      for (const k of ids.slice(0, 2)) {
        const value = await catalogValue(fred, { catalog: 'application', id: k, sequence: 1 });
        await expectOk('CatalogUpdate', await catalogUpdate(fred, 'create', k, value, 'application'), tight);
      }
      const third = await catalogValue(fred, { catalog: 'application', id: ids[2]!, sequence: 1 });
      await expectRefused(
        'CatalogUpdate',
        await catalogUpdate(fred, 'create', ids[2]!, third, 'application'),
        413,
        'quota.exceeded',
        { reason: 'quota.catalog-objects', on: tight },
      );
      // An update of a held object is no new object.
      const again = await catalogValue(fred, { catalog: 'application', id: ids[0]!, sequence: 2 });
      await expectOk(
        'CatalogUpdate',
        await catalogUpdate(fred, 'update', ids[0]!, again, 'application'),
        tight,
      );
    });
  });

  describe('InboundPost between accounts of this portal', () => {
    beforeAll(async () => {
      await setContact(bob, alice, 'allow');
      await setContact(bob, dave, 'block');
      await setContact(alice, zed, 'allow');
    });

    it("delivers an allowed contact's message, task, confirm and answer; InboundList shows them", async () => {
      const sent: JsonObject[] = [];
      for (const kind of ['message', 'task', 'confirm', 'answer'] as const) {
        const e = await envelope(alice, bob, kind, { signer: kind === 'task' ? phone : alice.admin });
        sent.push(e);
        expect(await expectOk('InboundPost', await inboundPost(alice, e))).toEqual(
          expect.objectContaining({ Id: idOf(e), Delivery: 'delivered', Portal: 'alpha' }),
        );
      }
      const list = await expectOk('InboundList', await bob.authenticated('InboundList', {}));
      const items = list.Items as Fields[];
      expect(items.map((i) => [i.Id, i.Kind, i.FromAccount, i.FromMaster, i.Portal])).toEqual(
        sent.map((e) => [
          idOf(e),
          readEnvelope(e).envelope.kind,
          alice.udf,
          alice.master.profile.id,
          'alpha',
        ]),
      );
      expect(items.map((i) => i.Envelope)).toEqual(sent);
      expect(
        items.every((i) => typeof i.Received === 'number' && Math.abs(i.Received - Date.now()) < 60_000),
      ).toBe(true);
      const tasks = await expectOk('InboundList', await bob.authenticated('InboundList', { Kind: 'task' }));
      expect((tasks.Items as Fields[]).map((i) => i.Kind)).toEqual(['task']);
      // Nothing for the sender.
      expect((await expectOk('InboundList', await alice.authenticated('InboundList', {}))).Items).toEqual([]);
    });

    it('a repeated post of one envelope is delivered once', async () => {
      const e = await envelope(alice, bob, 'message');
      const first = await expectOk('InboundPost', await inboundPost(alice, e));
      const before = (await spoolOf(bob)).length;
      const second = await expectOk('InboundPost', await inboundPost(alice, e));
      expect(second).toEqual(first);
      expect((await spoolOf(bob)).length).toBe(before);
      // The very same signed request is a replay.
      const request = await inboundPost(alice, await envelope(alice, bob, 'message'));
      await expectOk('InboundPost', request);
      await expectRefused('InboundPost', request, 409, 'auth.replayed');
    });

    it("refuses a stranger's message, a blocked sender, and a second pending contact request", async () => {
      await expectRefused(
        'InboundPost',
        await inboundPost(carol, await envelope(carol, bob, 'message')),
        403,
        'inbound.not-a-contact',
        { reason: 'inbound.not-a-contact' },
      );
      await expectRefused(
        'InboundPost',
        await inboundPost(dave, await envelope(dave, bob, 'contact')),
        403,
        'inbound.blocked',
        { reason: 'inbound.blocked' },
      );
      await expectRefused(
        'InboundPost',
        await inboundPost(dave, await envelope(dave, bob, 'message')),
        403,
        'inbound.blocked',
      );
      await expectOk('InboundPost', await inboundPost(carol, await envelope(carol, alice, 'contact')));
      await expectRefused(
        'InboundPost',
        await inboundPost(carol, await envelope(carol, alice, 'contact')),
        409,
        'inbound.duplicate',
        { reason: 'inbound.duplicate' },
      );
    });

    it("a stranger's contact request needs the proof of work at the portal's level", async () => {
      const e = await envelope(carol, bob, 'contact');
      await expectRefused('InboundPost', await inboundPost(carol, e), 403, 'pow.insufficient', {
        reason: 'inbound.proof-of-work',
        on: strict,
      });
      await expectRefused('InboundPost', await inboundPost(carol, e, 'f00d'), 403, 'pow.insufficient', {
        reason: 'inbound.proof-of-work',
        on: strict,
      });
      const pow = solveProofOfWork(envelopeWorkBody(readEnvelope(e).envelope), 1);
      expect(await expectOk('InboundPost', await inboundPost(carol, e, pow), strict)).toMatchObject({
        Delivery: 'delivered',
      });
      expect((await spoolOf(bob)).filter((i) => i.id === idOf(e))).toEqual([
        { id: idOf(e), kind: 'contact', deleted: false, stranger: true },
      ]);
      // An allowed sender needs none, at the same level.
      await expectOk('InboundPost', await inboundPost(alice, await envelope(alice, bob, 'contact')), strict);
    }, 600_000); // one level-1 solve: about 2^20 digests, far more on a loaded machine

    it('refuses a forged sender, a bad signature, a stale envelope and an unknown recipient', async () => {
      // Signed by a device that is not alice's.
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, await envelope(alice, bob, 'message', { signer: bob.admin })),
        403,
        'inbound.wrong-sender',
        { reason: 'inbound.unknown-device' },
      );
      // From another address than the authenticated account's.
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, await envelope(alice, bob, 'message', { fromAddress: carol.address })),
        403,
        'inbound.wrong-sender',
        { reason: 'inbound.wrong-sender' },
      );
      // Carol's envelope posted by carol but naming alice's Master Profile.
      await expectRefused(
        'InboundPost',
        await inboundPost(carol, await envelope(alice, bob, 'message', { signer: carol.admin })),
        403,
        'inbound.wrong-sender',
      );
      const e = await envelope(alice, bob, 'message');
      const sig = e.signature as string;
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, { ...e, signature: (sig.startsWith('A') ? 'B' : 'A') + sig.slice(1) }),
        400,
        'inbound.bad-signature',
      );
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, await envelope(alice, bob, 'message', { created: Date.now() - 600_000 })),
        400,
        'inbound.invalid',
        { reason: 'inbound.stale' },
      );
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, await envelope(alice, nobody, 'message')),
        404,
        'inbound.unknown-recipient',
      );
      // The address is right but the Master Profile is not its owner's (a reused or squatted address).
      for (const to of [bob, zed])
        await expectRefused(
          'InboundPost',
          await inboundPost(
            alice,
            await envelope(alice, to, 'message', { toMaster: carol.master.profile.id }),
          ),
          404,
          'inbound.unknown-recipient',
        );
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, { ...e, extra: 'x' }),
        400,
        'inbound.invalid',
      );
      // A sender or recipient that is no UDF, signed by alice's own device (a NUL in the recipient
      // answered 500 before 2026-12-07).
      for (const [field, value] of [
        ['ToMaster', 'M\u0000'],
        ['ToAccount', 'B\u0000'],
        ['ToAccount', 'A'.repeat(3_000)],
        ['FromMaster', 'M\u0000'],
      ] as const)
        await expectRefused(
          'InboundPost',
          await inboundPost(
            alice,
            await resigned(e, INBOUND_ENVELOPE_TYPE, (p) => (p[field] = value), alice.admin),
          ),
          400,
          'inbound.invalid',
        );
      await expectRefused(
        'InboundPost',
        await alice.authenticated('InboundPost', { Envelope: e, ProofOfWork: 'x'.repeat(129) }),
        400,
        'request.invalid',
      );
    });

    it('stops a flood of contact requests at the hourly limit, counting local and relayed ones', async () => {
      await expectOk('InboundPost', await inboundPost(erin, await envelope(erin, bob, 'contact')));
      expect(
        await expectOk('InboundPost', await inboundPost(erin, await envelope(erin, zed, 'contact'))),
      ).toMatchObject({ Delivery: 'relayed', Portal: 'beta' });
      const answer = await expectRefused(
        'InboundPost',
        await inboundPost(erin, await envelope(erin, alice, 'contact')),
        429,
        'rate.limited',
        { reason: 'inbound.rate-limited' },
      );
      expect(answer.StatusDescription).toMatch(/contact requests/);
      await expectRefused(
        'InboundPost',
        await inboundPost(erin, await envelope(erin, zed, 'contact')),
        429,
        'rate.limited',
      );
    });

    it('holds the recipient to its spool quota', async () => {
      await setContact(fred, alice, 'allow');
      for (let i = 0; i < 2; i++)
        await expectOk(
          'InboundPost',
          await inboundPost(alice, await envelope(alice, fred, 'message')),
          tight,
        );
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, await envelope(alice, fred, 'message')),
        413,
        'quota.exceeded',
        { reason: 'quota.inbound', on: tight },
      );
    });

    it('InboundDelete removes items; a replay of a deleted one is not delivered again', async () => {
      const e = await envelope(alice, bob, 'message');
      await expectOk('InboundPost', await inboundPost(alice, e));
      expect(
        await expectOk(
          'InboundDelete',
          await bob.authenticated('InboundDelete', {
            Items: [
              { FromAccount: alice.udf, Id: idOf(e) },
              { FromAccount: alice.udf, Id: 'A'.repeat(22) },
              { FromAccount: carol.udf, Id: idOf(e) }, // another sender's item of that Id: none
            ],
          }),
        ),
      ).toMatchObject({ Deleted: 1 });
      expect(
        await expectOk(
          'InboundDelete',
          await bob.authenticated('InboundDelete', { Items: [{ FromAccount: alice.udf, Id: idOf(e) }] }),
        ),
      ).toMatchObject({ Deleted: 0 });
      const listed = async () =>
        ((await expectOk('InboundList', await bob.authenticated('InboundList', {}))).Items as Fields[]).map(
          (i) => i.Id,
        );
      expect(await listed()).not.toContain(idOf(e));
      expect(await expectOk('InboundPost', await inboundPost(alice, e))).toMatchObject({
        Delivery: 'delivered',
      });
      expect(await listed()).not.toContain(idOf(e));
      expect((await spoolOf(bob)).filter((i) => i.id === idOf(e))).toEqual([
        { id: idOf(e), kind: 'message', deleted: true, stranger: false },
      ]);
      // Only the recipient's own items: alice cannot delete bob's.
      const other = await envelope(alice, bob, 'message');
      await expectOk('InboundPost', await inboundPost(alice, other));
      expect(
        await expectOk(
          'InboundDelete',
          await alice.authenticated('InboundDelete', {
            Items: [{ FromAccount: alice.udf, Id: idOf(other) }],
          }),
        ),
      ).toMatchObject({ Deleted: 0 });
      expect(await listed()).toContain(idOf(other));
      const item = { FromAccount: alice.udf, Id: 'A'.repeat(22) };
      for (const items of [
        [],
        Array.from({ length: 101 }, () => item),
        [{ ...item, Id: 'short' }],
        [{ ...item, FromAccount: 'alice@alpha.example' }],
        [{ Id: item.Id }],
        [{ ...item, Extra: 1 }],
        ['A'.repeat(22)],
        item,
      ])
        await expectRefused(
          'InboundDelete',
          await bob.authenticated('InboundDelete', { Items: items }),
          400,
          'request.invalid',
        );
      await expectRefused(
        'InboundDelete',
        await bob.authenticated('InboundDelete', { Ids: [item.Id] }),
        400,
        'request.invalid',
      );
      await expectRefused(
        'InboundList',
        await bob.authenticated('InboundList', { Kind: 'spam' }),
        400,
        'request.invalid',
      );
    });

    it('pages InboundList 100 items at a time', async () => {
      await setContact(carol, alice, 'allow');
      for (let i = 0; i < 101; i++)
        await expectOk('InboundPost', await inboundPost(alice, await envelope(alice, carol, 'message')));
      const first = await expectOk(
        'InboundList',
        await carol.authenticated('InboundList', { Kind: 'message' }),
      );
      expect((first.Items as unknown[]).length).toBe(100);
      const second = await expectOk(
        'InboundList',
        await carol.authenticated('InboundList', { Kind: 'message', After: first.Next }),
      );
      expect((second.Items as unknown[]).length).toBe(1);
      expect(second.Next).toBeUndefined();
    }, 120_000);

    it('the purger drops the tombstones older than INBOUND_MAX_AGE_MS and an hour; unread items stay', async () => {
      const fresh = await envelope(alice, bob, 'message');
      await expectOk('InboundPost', await inboundPost(alice, fresh));
      await queryDatabase(
        db.url,
        `UPDATE inbound_spool SET received_at = now() - interval '7 days 2 hours' WHERE account_udf = $1 AND id <> $2`,
        [bob.udf, idOf(fresh)],
      );
      const old = (await spoolOf(bob)).filter((i) => i.id !== idOf(fresh));
      const tombstones = old.filter((i) => i.deleted);
      expect(tombstones.length).toBeGreaterThan(0);
      expect(old.length).toBeGreaterThan(tombstones.length); // an old unread item too
      expect(await gateway.app.get(InboundPurger).purge()).toBe(tombstones.length);
      expect((await spoolOf(bob)).map((i) => i.id).sort()).toEqual(
        [idOf(fresh), ...old.filter((i) => !i.deleted).map((i) => i.id)].sort(),
      );
    });
  });

  describe('InboundPost to an account of another member', () => {
    it("queues a relay for the recipient's portal, once", async () => {
      const e = await envelope(alice, zed, 'message');
      const first = await expectOk('InboundPost', await inboundPost(alice, e));
      expect(first).toMatchObject({ Id: idOf(e), Delivery: 'relayed', Portal: 'beta' });
      expect(await expectOk('InboundPost', await inboundPost(alice, e))).toEqual(first);
      const rows = await queryDatabase<Fields>(
        db.url,
        `SELECT to_account, to_portal, from_account, from_master, kind, stranger, envelope, pow FROM inbound_outbox WHERE id = $1`,
        [idOf(e)],
      );
      expect(rows).toEqual([
        {
          to_account: zed.udf,
          to_portal: 'beta',
          from_account: alice.udf,
          from_master: alice.master.profile.id,
          kind: 'message',
          stranger: false,
          envelope: JSON.stringify(e),
          pow: null,
        },
      ]);
    });

    it('demands the proof of work of a contact request to an account the sender does not allow', async () => {
      await expectRefused(
        'InboundPost',
        await inboundPost(carol, await envelope(carol, zed, 'contact')),
        403,
        'pow.insufficient',
        { reason: 'inbound.proof-of-work', on: strict },
      );
      // Alice allows the recipient (an answer to its request): no proof of work at her portal.
      const e = await envelope(alice, zed, 'contact');
      expect(await expectOk('InboundPost', await inboundPost(alice, e), strict)).toMatchObject({
        Delivery: 'relayed',
      });
    });
    it('relays nothing but a contact request to an account the sender does not allow', async () => {
      for (const kind of ['message', 'task', 'confirm', 'answer'] as const)
        await expectRefused(
          'InboundPost',
          await inboundPost(carol, await envelope(carol, zed, kind)),
          403,
          'inbound.not-a-contact',
        );
      const rows = await queryDatabase(db.url, 'SELECT 1 FROM inbound_outbox WHERE from_account = $1', [
        carol.udf,
      ]);
      expect(rows).toEqual([]);
    });

    it('takes only a proof-of-work nonce the relay can carry, and relays it only when it is needed', async () => {
      for (const pow of ['', 'a b', 'é', 'x'.repeat(129)])
        await expectRefused(
          'InboundPost',
          await inboundPost(carol, await envelope(carol, zed, 'contact'), pow),
          400,
          'request.invalid',
        );
      // Alice allows zed: her contact request needs no work, and a nonce she sends along stays here.
      const e = await envelope(alice, zed, 'contact');
      await expectOk('InboundPost', await inboundPost(alice, e, 'deadbeef'));
      const rows = await queryDatabase<Fields>(db.url, 'SELECT pow FROM inbound_outbox WHERE id = $1', [
        idOf(e),
      ]);
      expect(rows).toEqual([{ pow: null }]);
    });
  });

  describe('the account leaves', () => {
    it('DeleteAccount erases its catalogs and its spool', async () => {
      expect((await spoolOf(bob)).length).toBeGreaterThan(0);
      await expectOk('DeleteAccount', await bob.deleteAccount());
      expect(await spoolOf(bob)).toEqual([]);
      expect(
        await queryDatabase(db.url, 'SELECT 1 FROM user_catalog_objects WHERE account_udf = $1', [bob.udf]),
      ).toEqual([]);
      await expectRefused(
        'InboundPost',
        await inboundPost(alice, await envelope(alice, bob, 'message')),
        404,
        'inbound.unknown-recipient',
      );
    });

    it('MoveAccount erases them too', async () => {
      expect(
        (await queryDatabase(db.url, 'SELECT 1 FROM user_catalog_objects WHERE account_udf = $1', [fred.udf]))
          .length,
      ).toBeGreaterThan(0);
      const to = 'gamma.example/log';
      const record = await authoriseRecord(
        { operation: 'MoveAccount', account: fred.udf, to },
        fred.admin.signature,
        {
          portal: fred.portal,
          time: Date.now(),
        },
      );
      await expectOk('MoveAccount', { Account: fred.address, To: to, Authorisation: record.authorisation });
      expect(
        await queryDatabase(db.url, 'SELECT 1 FROM user_catalog_objects WHERE account_udf = $1', [fred.udf]),
      ).toEqual([]);
      expect(await spoolOf(fred)).toEqual([]);
    });
  });

  describe('metrics', () => {
    it('counts inbound items by kind and outcome', async () => {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(text).toMatch(
        /gateway_inbound_items_total\{[^}]*kind="message"[^}]*outcome="delivered"[^}]*\} [1-9]/,
      );
      expect(text).toMatch(
        /gateway_inbound_items_total\{[^}]*kind="contact"[^}]*outcome="inbound.rate-limited"[^}]*\} [1-9]/,
      );
    });
  });
});
