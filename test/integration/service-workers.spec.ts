import { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_ED25519, makeVerifierKey } from '@cryptomesh/log';
import { createTestDatabase, TestDatabase } from '../env/test-database';
import { processAlive, spawnListening, type ListeningProcess } from '../support/listening-process';
import { waitFor } from '../support/federation-oracle';
import { parsePrometheusText } from '../support/prometheus-text';

/**
 * WORKERS > 1 (libs/service/src/cluster/service-cluster.ts, issue #17): the built gateway and query
 * service run as a primary and that many worker processes behind one port. Each worker serves;
 * /metrics sums them all whichever worker answers; a worker that dies is replaced; SIGTERM stops
 * every process gracefully; a worker that cannot start stops the service with exit 1.
 */
const ROOT = join(__dirname, '../..');
const entryOf = (service: string) => join(ROOT, 'dist/apps', service, 'apps', service, 'src/main.js');

const GATEWAY_ENV = {
  PORTAL_ID: 'alpha',
  LOG_ORIGIN: 'alpha.example/log',
  LOG_VERIFIER_KEY: makeVerifierKey(
    'alpha.example/log',
    KEY_TYPE_ED25519,
    nodeEd25519.publicKeyOf(new Uint8Array(32).fill(9)),
  ).text,
};

/** One GET on a connection of its own (no keep-alive), so that the primary hands each to a worker. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The pids of the workers that logged `listening`, in order. */
function listeningPids(output: string): number[] {
  const pids: number[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"listening"')) continue;
    const pid = (JSON.parse(line) as { pid: number }).pid;
    if (!pids.includes(pid)) pids.push(pid);
  }
  return pids;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.on('close', (code) => resolve(code));
  });
}

/** The value of the `/health/live` request counter in a Prometheus text exposition. */
function liveRequests(metrics: string): number {
  return parsePrometheusText(metrics)
    .filter((s) => s.name === 'http_requests_total' && s.labels.route === '/health/live')
    .reduce((total, s) => total + s.value, 0);
}

describe('a service of several worker processes (WORKERS)', () => {
  let db: TestDatabase;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('workers');
  });

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
  });

  async function startGateway(env: Record<string, string> = {}): Promise<ListeningProcess> {
    const started = await spawnListening(
      'gateway',
      [entryOf('gateway')],
      { ...GATEWAY_ENV, PORT: '0', DATABASE_URL: db.url, WORKERS: '2', ...env },
      { cwd: ROOT },
    );
    running.push(started.child);
    return started;
  }

  it('serves from every worker, sums their metrics, replaces a dead worker and stops on SIGTERM', async () => {
    const gateway = await startGateway();
    await waitFor(
      'both workers',
      // The primary's line and each worker's own `listening` line come through different pipes, in
      // no fixed order: wait for all three (a clean-clone run once saw the primary's line first).
      () =>
        Promise.resolve(
          gateway.output().includes('"msg":"all workers listening"') &&
            listeningPids(gateway.output()).length >= 2,
        ),
      120_000,
    );
    const first = listeningPids(gateway.output());
    expect(first).toHaveLength(2);
    expect(first).not.toContain(gateway.child.pid);

    // Round-robin: 40 connections reach both workers; the scrape, answered by one, counts all 40.
    const sent = 40;
    for (let i = 0; i < sent; i += 1) expect((await get(`${gateway.url}/health/live`)).status).toBe(200);
    // A worker counts a request once its answer is sent, which may be a moment after the client
    // has it: wait for the count, then every scrape, whichever worker answers it, sees all of it.
    await waitFor('every request counted', async () =>
      liveRequests((await get(`${gateway.url}/metrics`)).body) === sent ? true : undefined,
    );
    for (let i = 0; i < 4; i += 1) {
      const metrics = (await get(`${gateway.url}/metrics`)).body;
      expect(liveRequests(metrics)).toBe(sent);
      expect(metrics).toContain('cryptomesh_build_info{version="0.1.0",service="gateway"} 1');
    }
    const hello = await fetch(`${gateway.url}/.well-known/mmm/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ HelloRequest: {} }),
    });
    expect(hello.status).toBe(200);

    // A worker killed outright is replaced; the port keeps answering meanwhile.
    const victim = first[0]!;
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'a replacement',
      () => Promise.resolve(listeningPids(gateway.output()).length === 3),
      120_000,
    );
    expect(gateway.output()).toContain('"msg":"a worker died; starting another"');
    for (let i = 0; i < 10; i += 1) expect((await get(`${gateway.url}/health/live`)).status).toBe(200);

    gateway.child.kill('SIGTERM');
    expect(await exitOf(gateway.child)).toBe(0);
    const lines = gateway.output().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(lines.at(-1)).toMatch(/"role":"primary".*"msg":"stopped"/);
    for (const pid of listeningPids(gateway.output())) expect(processAlive(pid)).toBe(false);
  }, 300_000);

  it('the query service runs as workers too', async () => {
    const query = await spawnListening(
      'query',
      [entryOf('query')],
      { PORT: '0', DATABASE_URL: db.url, WORKERS: '2' },
      { cwd: ROOT },
    );
    running.push(query.child);
    await waitFor(
      'both workers',
      () => Promise.resolve(query.output().includes('"msg":"all workers listening"')),
      120_000,
    );
    expect(listeningPids(query.output())).toHaveLength(2);
    expect((await get(`${query.url}/logs/self/checkpoint`)).status).toBeLessThan(500);
    query.child.kill('SIGTERM');
    expect(await exitOf(query.child)).toBe(0);
  }, 300_000);

  it('a worker that cannot listen stops the whole service with exit 1', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const gateway = startGateway({ PORT: String(port) });
      await expect(gateway).rejects.toThrow(/exited with 1 before listening/);
      await expect(gateway).rejects.toThrow(/"msg":"a worker failed to start; stopping"/);
    } finally {
      holder.close();
    }
  }, 300_000);

  it('refuses a bad WORKERS at start with one line (exit 78)', async () => {
    const started = startGateway({ WORKERS: '0' });
    await expect(started).rejects.toThrow(/exited with 78 before listening/);
    await expect(started).rejects.toThrow(/gateway: configuration error: WORKERS: must be between 1 and 64/);
  });
});
