import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { join } from 'node:path';
import { startTestFederation, type Federation, type FederationService } from '../support/federation';
import { waitFor } from '../support/federation-oracle';
import { TestAccount, post } from '../support/mesh-client';
import { scrape, type Scrape } from '../support/prometheus-text';
import { RoguePortal, type RoguePart } from '../support/rogue-portal';
import { runScriptedSession } from '../support/scripted-session';
import { spawnListening, type ListeningProcess } from '../support/listening-process';

const ROOT = join(__dirname, '../..');

/**
 * Issue #8's "every metric moves" (docs/design/observability.md "Metric catalogue"): one
 * three-portal federation of built services on the real PostgreSQL and Kafka, plus a rogue peer
 * whose "query service" is a stub of this file. Each metric is scraped before and after the
 * traffic that should move it. Also the request-id path: gateway answer → gateway log → queue row →
 * the log-signer's line with the entry's index.
 */
describe('metrics and request ids on a running federation', () => {
  let federation: Federation;
  let rogue: RoguePortal;
  let stub: Server;
  /** The rogue part its stub query service announces (sealed, never published on its topic). */
  let announced: RoguePart | undefined;
  let standby: ListeningProcess | undefined;
  let A: Federation['portals'][number];

  beforeAll(async () => {
    rogue = new RoguePortal(`rogue-${Date.now().toString(36)}`, process.env.KAFKA_BROKERS!.split(','));
    await rogue.connect();
    stub = createServer((req, res) => {
      if (req.url === '/logs/self/checkpoint' && announced !== undefined) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(announced.seal);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    federation = await startTestFederation({
      extraPeers: [{ ...rogue.peer, queryUrl: stubUrl }],
      env: {
        LOG_LEVEL: 'info',
        SEAL_INTERVAL_MS: 300,
        HEARTBEAT_MS: 2_000,
        STALE_AFTER_MS: 120_000,
        CATCHUP_INTERVAL_MS: 500,
        CATCHUP_TIMEOUT_MS: 1_000,
      },
    });
    A = federation.portals[0]!;
  }, 120_000);

  afterAll(async () => {
    standby?.child.kill('SIGTERM');
    await rogue?.close().catch(() => undefined);
    await federation?.stop();
    await new Promise((resolve) => stub?.close(resolve));
  }, 60_000);

  const url = (portal: { urls: Readonly<Record<FederationService, string>> }, service: FederationService) =>
    portal.urls[service];

  /** Polls `service`'s /metrics until `moved(now)` holds; resolves to that scrape. */
  const until = (what: string, serviceUrl: string, moved: (now: Scrape) => boolean, timeoutMs = 20_000) =>
    waitFor(
      what,
      async () => {
        const now = await scrape(serviceUrl);
        return moved(now) ? now : undefined;
      },
      timeoutMs,
    );

  it('answers X-Request-Id and carries it to the log-signer line that names the entry index', async () => {
    const id = `metrics-spec-${Date.now().toString(36)}`;
    const alice = await TestAccount.create(`rid-${Date.now()}@example.com`, undefined, A.origin);
    const res = await fetch(`${A.gatewayUrl}/.well-known/mmm/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ CreateAccountRequest: await alice.createAccount() }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(id);

    // An unacceptable id is replaced, not refused.
    const bad = await fetch(`${A.gatewayUrl}/.well-known/mmm/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'x'.repeat(500) },
      body: JSON.stringify({ HelloRequest: {} }),
    });
    expect(bad.status).toBe(200);
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const lines = (service: FederationService) =>
      readFileSync(A.logs[service], 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    // The access line is written once the answer is sent: wait for it, do not race it.
    await waitFor('the gateway logs the request id', () =>
      Promise.resolve(lines('gateway').find((l) => l.requestId === id && l.msg === 'request completed')),
    );
    const sequenced = await waitFor('the log-signer logs the request id with the entry index', () =>
      Promise.resolve(lines('log-signer').find((l) => l.requestId === id && l.msg === 'entry sequenced')),
    );
    expect(sequenced).toMatchObject({ service: 'log-signer', level: 'info' });
    // That index holds this request's entry (the id itself is not in the entry's bytes).
    const index = sequenced.index;
    if (typeof index !== 'number') throw new Error(`no entry index in ${JSON.stringify(sequenced)}`);
    const entries = await waitFor('the entry is published', async () => {
      const r = await fetch(`${A.queryUrl}/logs/self/entries?start=${index}&end=${index + 1}`);
      return r.status === 200 ? ((await r.json()) as { entries: string[] }).entries : undefined;
    });
    const entry = Buffer.from(entries[0]!, 'base64').toString('utf8');
    expect(entry).toContain(`"Account":"${alice.udf}"`);
    expect(entry).toContain('CreateAccount');
    expect(entry).not.toContain(id);
  }, 60_000);

  /** Starts one more instance of portal A's `service`, with its environment and `overrides`. */
  const spawnExtra = (service: FederationService, overrides: Record<string, string>) => {
    const state = JSON.parse(readFileSync(federation.stateFile, 'utf8')) as {
      portals: Array<{ id: string; services: Record<FederationService, { env: Record<string, string> }> }>;
    };
    const env = state.portals.find((p) => p.id === A.id)!.services[service].env;
    return spawnListening(
      `extra ${service}`,
      [join(ROOT, `dist/apps/${service}/apps/${service}/src/main.js`)],
      { ...env, PORT: '0', DB_MIGRATIONS: 'skip', ...overrides },
      { cwd: ROOT },
    );
  };

  it('db_pool_waiting_clients counts queries waiting for a connection', async () => {
    const gateway = await spawnExtra('gateway', {
      DB_POOL_SIZE: '1',
      RATE_LIMIT_ADDRESS_PER_MINUTE: '1000000',
    });
    try {
      expect((await scrape(gateway.url)).sum('db_pool_waiting_clients')).toBe(0);
      expect((await scrape(gateway.url)).sum('db_pool_max_connections')).toBe(1);
      // A table lock holds the pool's one connection in a read; the next reads wait for it.
      const locker = new Client({ connectionString: A.databaseUrl });
      await locker.connect();
      let burst: Array<Promise<{ status: number }>> = [];
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE');
        burst = Array.from({ length: 3 }, () =>
          post(gateway.url, 'ValidateAccount', { Account: 'someone@example.com' }),
        );
        await until(
          'reads wait for the connection',
          gateway.url,
          (s) => s.sum('db_pool_waiting_clients') >= 1,
        );
      } finally {
        await locker.query('COMMIT').catch(() => undefined);
        await locker.end();
      }
      for (const answer of await Promise.all(burst)) expect(answer.status).toBe(200);
      expect((await scrape(gateway.url)).sum('db_pool_waiting_clients')).toBe(0);
    } finally {
      gateway.child.kill('SIGTERM');
    }
  }, 240_000);

  it('log_queue_depth rises while no signer leads and falls when one does', async () => {
    // A standby signer of portal A (its leader holds the lock) serves the queue depth throughout.
    standby = await spawnExtra('log-signer', { LEADER_RETRY_MS: '60000' });
    await until('the standby sees an empty queue', standby.url, (s) => s.sum('log_queue_depth') === 0);
    expect((await scrape(standby.url)).sum('log_signer_leader')).toBe(0);

    await federation.stopService(A.id, 'log-signer');
    const account = await TestAccount.create(`queued-${Date.now()}@example.com`, undefined, A.origin);
    expect((await post(A.gatewayUrl, 'CreateAccount', await account.createAccount())).status).toBe(200);
    await until('the queue depth rises', standby.url, (s) => s.sum('log_queue_depth') >= 1);

    await federation.startService(A.id, 'log-signer');
    await until('the queue depth falls', standby.url, (s) => s.sum('log_queue_depth') === 0);
    standby.child.kill('SIGTERM');
    standby = undefined;
  }, 240_000);

  it('moves every metric of the catalogue', async () => {
    const [, B, C] = federation.portals as [typeof A, typeof A, typeof A];
    const portals = [A, B, C];
    const before = new Map<string, Scrape>();
    for (const p of portals)
      for (const s of ['gateway', 'query', 'replication', 'log-signer'] as const)
        before.set(`${p.id}/${s}`, await scrape(url(p, s)));
    const was = (p: typeof A, s: FederationService) => before.get(`${p.id}/${s}`)!;

    // Traffic: the scripted session and a refusal at A, an account at B and C; the rogue publishes
    // part 0, announces part 1 on its query service without publishing it, then equivocates.
    await runScriptedSession(A.gatewayUrl, `session-${Date.now()}@example.com`);
    expect((await post(A.gatewayUrl, 'CreateAccount', {})).status).toBeGreaterThanOrEqual(400);
    for (const p of [B, C]) {
      const account = await TestAccount.create(`m-${p.id}@example.com`, undefined, p.origin);
      expect((await post(p.gatewayUrl, 'CreateAccount', await account.createAccount())).status).toBe(200);
    }
    const p0 = await rogue.nextPart(2);
    announced = await rogue.nextPart(1);
    await rogue.publish(p0);

    // Gateway: requests and errors by transaction, acceptance latency.
    const gateway = await scrape(A.urls.gateway);
    const ok = { transaction: 'CreateAccount', outcome: 'ok' };
    expect(gateway.sum('mesh_transactions_total', ok)).toBeGreaterThan(
      was(A, 'gateway').sum('mesh_transactions_total', ok),
    );
    const refusals = (s: Scrape) =>
      s
        .find('mesh_transactions_total', { transaction: 'CreateAccount' })
        .filter((x) => x.labels.outcome !== 'ok')
        .reduce((t, x) => t + x.value, 0);
    expect(refusals(gateway)).toBeGreaterThan(refusals(was(A, 'gateway')));
    for (const transaction of ['CreateAccount', 'Publish', 'ConnectStart', 'EscrowPut'])
      expect(gateway.sum('mesh_acceptance_latency_seconds_count', { transaction })).toBeGreaterThan(
        was(A, 'gateway').sum('mesh_acceptance_latency_seconds_count', { transaction }),
      );

    // Log-signer: integration latency, seal interval and size.
    const signer = await until('A seals the session', A.urls['log-signer'], (s) =>
      [
        'log_integration_latency_seconds_count',
        'log_seal_interval_seconds_count',
        'log_part_entries_count',
      ].every((m) => s.sum(m) > was(A, 'log-signer').sum(m)),
    );
    expect(signer.sum('log_part_entries_sum')).toBeGreaterThan(
      was(A, 'log-signer').sum('log_part_entries_sum'),
    );
    expect(signer.sum('log_integration_latency_seconds_sum')).toBeGreaterThan(0);

    // Database pools: every service with a database.
    for (const s of ['gateway', 'query', 'replication', 'log-signer'] as const) {
      const now = await scrape(url(A, s));
      expect(now.sum('db_pool_acquisitions_total')).toBeGreaterThan(
        was(A, s).sum('db_pool_acquisitions_total'),
      );
      expect(now.sum('db_pool_connections')).toBeGreaterThan(0);
      expect(now.sum('db_pool_max_connections')).toBeGreaterThan(0);
      expect(now.find('db_pool_idle_connections')).toHaveLength(1);
      expect(now.find('db_pool_waiting_clients')).toHaveLength(1);
    }

    // Query: the log heads it keeps in memory were read again after the session's seals.
    const headsAdvanced = (s: Scrape) => s.sum('query_log_heads_refreshes_total', { outcome: 'advanced' });
    expect((await fetch(`${A.urls.query}/logs/self/checkpoint`)).status).toBe(200);
    await until(
      'A reads its log heads again',
      A.urls.query,
      (s) => headsAdvanced(s) > headsAdvanced(was(A, 'query')),
    );

    // Replication: cosignatures both ways and mirror lag between the honest portals.
    for (const p of portals) {
      const others = portals.filter((q) => q !== p);
      const replication = await until(`${p.id} mirrors and cosigns`, p.urls.replication, (s) =>
        others.every(
          (q) =>
            s.sum('intermesh_cosignatures_given_total', { peer: q.id }) >
              was(p, 'replication').sum('intermesh_cosignatures_given_total', { peer: q.id }) &&
            s.sum('intermesh_cosignatures_received_total', { subject: p.id, witness: q.id }) >
              was(p, 'replication').sum('intermesh_cosignatures_received_total', {
                subject: p.id,
                witness: q.id,
              }) &&
            s.find('intermesh_mirror_lag_seconds', { peer: q.id }).length === 1,
        ),
      );
      for (const q of others) {
        // Set with each part mirrored: the age of the newest mirrored seal then. (Not compared with
        // the value before: two ages of a live peer's seals, a few ms each, are often equal.)
        const lag = replication.find('intermesh_mirror_lag_seconds', { peer: q.id })[0]!.value;
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThan(60);
        const head = (x: Scrape) => x.find('intermesh_mirror_head_part', { peer: q.id })[0]?.value ?? -1;
        expect(head(replication)).toBeGreaterThan(head(was(p, 'replication')));
      }
      // The rogue's query service announces a part the topic never brought: the lag in entries shows it.
      await until(
        `${p.id} sees the rogue one entry behind`,
        p.urls.replication,
        (s) =>
          s.sum('intermesh_mirror_lag_entries', { peer: rogue.id }) === 1 &&
          s.sum('intermesh_cosignatures_given_total', { peer: rogue.id }) >= 1,
      );
      expect(was(p, 'replication').sum('intermesh_mirror_lag_entries', { peer: rogue.id })).toBe(0);
    }

    // Findings by kind, and the mirror consumer's lag: a rejected part is not consumed progress.
    await rogue.publish(rogue.resealed(p0, { timeMs: p0.value.timeMs + 1 }));
    for (const p of portals) {
      const mirrorLag = {
        group: `cryptomesh.${p.id}.replication-mirror`,
        topic: `intermesh.log.${rogue.id}`,
        partition: '0',
      };
      const now = await until(
        `${p.id} counts the equivocation`,
        p.urls.replication,
        (s) =>
          s.sum('intermesh_findings_total', { subject: rogue.id, kind: 'equivocation' }) >= 1 &&
          s.sum('kafka_consumer_lag_messages', mirrorLag) >= 1,
      );
      expect(was(p, 'replication').sum('intermesh_findings_total', { kind: 'equivocation' })).toBe(0);
      expect(was(p, 'replication').sum('kafka_consumer_lag_messages', mirrorLag)).toBe(0);
      // The witness consumer's lag is measured per partition of intermesh.witness.
      const witness = now.find('kafka_consumer_lag_messages', {
        group: `cryptomesh.${p.id}.replication`,
        topic: 'intermesh.witness',
      });
      expect(witness.map((w) => w.labels.partition).sort()).toEqual(['0', '1', '2']);
      for (const w of witness) expect(w.value).toBeGreaterThanOrEqual(0);
    }

    // The witness consumer's lag: with B's cosignature table locked its intake blocks on the next
    // witness message (the others keep cosigning), so the group's committed offset stays behind.
    const witnessGroup = { group: `cryptomesh.${B.id}.replication`, topic: 'intermesh.witness' };
    const locker = new Client({ connectionString: B.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE cosignatures IN ACCESS EXCLUSIVE MODE');
      await until(
        `${B.id}'s witness consumer falls behind`,
        B.urls.replication,
        (s) => s.sum('kafka_consumer_lag_messages', witnessGroup) >= 1,
      );
    } finally {
      await locker.query('COMMIT').catch(() => undefined);
      await locker.end();
    }
    await until(
      `${B.id}'s witness consumer catches up`,
      B.urls.replication,
      (s) => s.sum('kafka_consumer_lag_messages', witnessGroup) === 0,
    );
  }, 90_000);
});
