import type { DataSource } from 'typeorm';
import { createService, type RunningService } from '@cryptomesh/service';
import { encodeAuditedAccount, NonceWindow, type TransactionRecord } from '@cryptomesh/mesh';
import { queryApp } from '../../apps/query/src/query.app';
import { createServiceUsers, type ServiceUsers } from '../env/test-database';
import { get as getFrom } from '../support/mirror-client';
import { startScenarioQuery, type MirrorScenario, type ScenarioQuery } from '../support/mirror-scenario';

/**
 * `GET /accounts/{address}` (issue #20; docs/design/query.md): where an account lives and the ids of
 * its current Master and Personal Profiles, from this portal's `accounts` or from the verified
 * mirrors' `mirror_account_states` — served by the query service running as the `cryptomesh_query`
 * LOGIN user, so that the grants of migration 1763809500000 are what it reads with. On the scenario
 * of test/support/mirror-scenario.ts (carol's account in alpha's own log; bob, frank, dave in beta's
 * mirror; erin and frank again in gamma's).
 */
describe('query: GET /accounts/{address}', () => {
  let env: ScenarioQuery;
  let users: ServiceUsers;
  let query: RunningService;
  let ds: DataSource;
  let s: MirrorScenario;

  /** The stored auditor state of `create`'s account in `peer`'s mirror, through entry `through`. */
  async function mirrorState(
    peer: string,
    create: TransactionRecord,
    through: number,
    status: 'active' | 'moved' | 'deleted',
  ): Promise<void> {
    if (create.operation !== 'CreateAccount') throw new Error('not a CreateAccount');
    const state = encodeAuditedAccount({
      state: {
        account: create.account,
        status,
        ...(status === 'moved' ? { movedTo: 'beta.test/log' } : {}),
        master: create.master,
        personal: create.personal,
        objects: new Map(),
      },
      nonces: NonceWindow.empty(),
    });
    await ds.query(
      `INSERT INTO mirror_account_states (peer, account, state, through) VALUES ($1, $2, $3, $4)`,
      [peer, create.account, JSON.stringify(state), through],
    );
  }

  beforeAll(async () => {
    env = await startScenarioQuery('queryaccounts', async (source, scenario) => {
      ds = source;
      s = scenario;
      const { carol, bob, frank, dave, erin } = scenario.people;
      const create = carol.create;
      if (create.operation !== 'CreateAccount') throw new Error('not a CreateAccount');
      await source.query(
        `INSERT INTO accounts (account_udf, address, status, master, personal) VALUES ($1, $2, 'active', $3, $4)`,
        [
          carol.account,
          carol.address,
          JSON.stringify(create.master.jws),
          JSON.stringify(create.personal.jws),
        ],
      );
      await mirrorState('beta', bob.create, 0, 'active');
      await mirrorState('beta', frank.create, 2, 'active');
      await mirrorState('gamma', frank.create, 1, 'moved');
      await mirrorState('beta', dave.create, 5, 'active');
      await mirrorState('gamma', erin.create, 0, 'deleted');
    });
    const url = (ds.options as { url: string }).url;
    const db = {
      name: decodeURIComponent(new URL(url).pathname.slice(1)),
      url,
      drop: () => Promise.resolve(),
    };
    users = await createServiceUsers(db);
    query = await createService(queryApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: users.urls.query,
      DB_MIGRATIONS: 'check',
      PORTAL_ID: 'alpha',
    });
  }, 60_000);

  afterAll(async () => {
    await query?.app.close();
    await env?.close();
    await users?.drop();
  });

  const get = (path: string) => getFrom(query.url, path);

  it('answers an account of this portal from its own accounts, in any case of the address', async () => {
    const { carol } = s.people;
    const answer = await get(`/accounts/${encodeURIComponent('Carol@Example.ORG')}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      Address: carol.address,
      Account: carol.account,
      Portal: 'alpha',
      Master: carol.masterId,
      Personal: carol.personalId,
      Owners: [{ Portal: 'alpha', Master: carol.masterId, Personal: carol.personalId }],
    });
  });

  it("answers a peer's account from its verified mirror; moved and deleted states are skipped", async () => {
    const { dave, frank } = s.people;
    expect((await get(`/accounts/${dave.address}`)).body).toEqual({
      Address: dave.address,
      Account: dave.account,
      Portal: 'beta',
      Master: dave.masterId,
      Personal: dave.personalId,
      Owners: [{ Portal: 'beta', Master: dave.masterId, Personal: dave.personalId }],
    });
    // frank is active in beta's mirror and moved in gamma's: one owner only.
    expect((await get(`/accounts/${frank.address}`)).body).toMatchObject({
      Portal: 'beta',
      Master: frank.masterId,
      Owners: [{ Portal: 'beta', Master: frank.masterId, Personal: frank.personalId }],
    });
  });

  it('404 account.not-found for an unknown or deleted account, 400 account.invalid for a malformed address', async () => {
    for (const address of [s.people.erin.address, 'nobody@example.org']) {
      const answer = await get(`/accounts/${address}`);
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: 'account.not-found' } });
    }
    for (const bad of [
      'no-at-sign',
      'a%20b%40example.org',
      'x%00y%40example.org',
      `${'a'.repeat(65)}%40x.org`,
    ]) {
      const answer = await get(`/accounts/${bad}`);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: 'account.invalid' } });
    }
  });
});
