import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  MerkleTree,
  encodeEntry,
  formatAddCheckpoint,
  formatCheckpoint,
  parseSignerKey,
  signNote,
} from '@cryptomesh/log';
import { generateLogKey } from '../../apps/log-signer/src/log-key';
import { generateWitnessKey } from '../../apps/replication/src/witness-key';
import { createTestDatabase, testKafkaBrokers, type TestDatabase } from '../env/test-database';
import { spawnListening, type ListeningProcess } from '../support/listening-process';
import { gatewayEnv } from '../support/test-gateway';

const ROOT = join(__dirname, '../..');
const QUERY = join(ROOT, 'dist/apps/query/apps/query/src/main.js');
const GATEWAY = join(ROOT, 'dist/apps/gateway/apps/gateway/src/main.js');
const REPLICATION = join(ROOT, 'dist/apps/replication/apps/replication/src/main.js');

/**
 * The request log of a built service (docs/design/observability.md "Request ids"; issue #17 made it
 * cheap): at `info` one access line a request with its id, the id the client is answered in
 * `X-Request-Id`; probes unlogged; at `warn` no access line at all.
 */
describe('request logging of a built service', () => {
  let db: TestDatabase;
  const running: ListeningProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('logging');
    const dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 1 })).initialize();
    await runMigrations(dataSource);
    await dataSource.destroy();
  });

  afterAll(async () => {
    for (const p of running) p.child.kill('SIGKILL');
    await db?.drop();
  });

  async function start(level: string, url?: string): Promise<ListeningProcess> {
    const p = await spawnListening(
      'query',
      [QUERY],
      { PORT: '0', LOG_LEVEL: level, DATABASE_URL: url ?? db.url, REQUEST_TIMEOUT_MS: '500' },
      { cwd: ROOT },
    );
    running.push(p);
    return p;
  }

  const lines = (p: { output: () => string }) =>
    p
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`${what}: not within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('at info: one access line a request, with the id it was answered in; probes are not logged', async () => {
    const query = await start('info');
    const given = await fetch(`${query.url}/logs/self/checkpoint`, {
      headers: { 'x-request-id': 'trace-me-1' },
    });
    expect(given.status).toBe(404);
    expect(given.headers.get('x-request-id')).toBe('trace-me-1');
    const fresh = await fetch(`${query.url}/logs/nobody/checkpoint`);
    const freshId = fresh.headers.get('x-request-id')!;
    expect(freshId).toMatch(/^[0-9a-f-]{36}$/);
    await fetch(`${query.url}/health/ready`);
    await fetch(`${query.url}/metrics`);
    const completed = await until('two access lines', () => {
      const found = lines(query).filter((l) => l['msg'] === 'request completed');
      return found.length >= 2 ? found : undefined;
    });
    expect(completed).toEqual([
      expect.objectContaining({
        service: 'query',
        level: 'info',
        requestId: 'trace-me-1',
        req: expect.objectContaining({
          id: 'trace-me-1',
          method: 'GET',
          url: '/logs/self/checkpoint',
        }) as unknown,
        res: { statusCode: 404 },
        responseTime: expect.any(Number) as unknown,
      }),
      expect.objectContaining({ requestId: freshId, res: { statusCode: 404 } }),
    ]);
    // No header is logged, and the probes wrote nothing.
    expect(JSON.stringify(completed)).not.toMatch(/headers/);
    expect(lines(query).some((l) => /\/(health|metrics)/.test(JSON.stringify(l['req'] ?? '')))).toBe(false);
  });

  // `request timed out` (not `aborted`) only if boundRequestTime's own body timer cut it: with
  // Content-Length, and with a body framed by Transfer-Encoding alone (request-timeout.ts).
  it.each([
    ['Content-Length: 100\r\n\r\n{"Hello', 'stall-1'],
    ['Transfer-Encoding: chunked\r\n\r\n7\r\n{"Hello', 'stall-2'],
  ])(
    'at info: a request cut for a stalled body (%j) has its line, though it ran no response hook',
    async (framing, id) => {
      // The same close handler writes `request aborted` for a client that leaves mid-request.
      const query = await start('info');
      const port = Number(new URL(query.url).port);
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(
            `POST /.well-known/mmm/ HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\n` +
              `Content-Type: application/json\r\n${framing}`,
          ),
        );
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      const cut = await until('the line of the cut request', () =>
        lines(query).find((l) => l['requestId'] === id && l['level'] === 'info'),
      );
      expect(cut).toMatchObject({
        msg: 'request timed out',
        res: { statusCode: 408 },
        req: { method: 'POST' },
      });
    },
  );

  it('a line logged while serving a request carries its id; a 5xx is logged at error', async () => {
    const broken = await createTestDatabase('logging5xx');
    try {
      const dataSource = await new DataSource(
        dataSourceOptions({ url: broken.url, poolSize: 1 }),
      ).initialize();
      await runMigrations(dataSource);
      const query = await start('info', broken.url);
      await dataSource.query('DROP TABLE log_seals CASCADE');
      await dataSource.destroy();
      const res = await fetch(`${query.url}/logs/self/checkpoint`, { headers: { 'x-request-id': 'fail-1' } });
      expect(res.status).toBe(500);
      const mine = await until('the lines of the failed request', () => {
        const found = lines(query).filter((l) => l['requestId'] === 'fail-1');
        return found.some((l) => l['msg'] === 'request errored') ? found : undefined;
      });
      // The service's own diagnostic, written inside the request, carries the id.
      expect(mine.some((l) => l['msg'] !== 'request errored' && l['level'] !== 'info')).toBe(true);
      expect(mine.find((l) => l['msg'] === 'request errored')).toMatchObject({
        level: 'error',
        res: { statusCode: 500 },
      });
    } finally {
      await broken.drop();
    }
  });

  it('the gateway, which binds no request context either, logs a failed transaction with its id (#17)', async () => {
    const broken = await createTestDatabase('logginggw');
    try {
      const dataSource = await new DataSource(
        dataSourceOptions({ url: broken.url, poolSize: 1 }),
      ).initialize();
      await runMigrations(dataSource);
      const gateway = await spawnListening(
        'gateway',
        [GATEWAY],
        gatewayEnv(broken.url, { LOG_LEVEL: 'info', DB_MIGRATIONS: 'check' }) as Record<string, string>,
        { cwd: ROOT },
      );
      running.push(gateway);
      // ConnectStatus reads the connection request before it verifies anything: without its table
      // the transaction fails inside the request, after the request's own code has started.
      await dataSource.query('DROP TABLE connect_requests CASCADE');
      await dataSource.destroy();
      const res = await fetch(`${gateway.url}/.well-known/mmm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'gw-fail-1' },
        body: JSON.stringify({
          ConnectStatusRequest: {
            Account: 'alice@example.com',
            RequestId: 'A'.repeat(22),
            Authentication: {},
          },
        }),
      });
      expect(res.status).toBe(500);
      expect(res.headers.get('x-request-id')).toBe('gw-fail-1');
      const mine = await until('the lines of the failed transaction', () => {
        const found = lines(gateway).filter((l) => l['requestId'] === 'gw-fail-1');
        return found.some((l) => l['msg'] === 'request errored') ? found : undefined;
      });
      expect(mine.find((l) => l['msg'] === 'transaction failed')).toMatchObject({
        level: 'error',
        context: 'mmm',
        transaction: 'ConnectStatus',
      });
    } finally {
      await broken.drop();
    }
  });

  it('the replication service binds no request context: /add-checkpoint writes its lines with the id', async () => {
    const beta = generateLogKey('beta.test/log');
    const peers = [
      {
        id: 'beta',
        origin: 'beta.test/log',
        verifierKey: beta.verifierKey,
        witnessKey: generateWitnessKey('beta.test/witness').verifierKey,
        queryUrl: 'http://127.0.0.1:9',
      },
    ];
    const replication = await spawnListening(
      'replication',
      [REPLICATION],
      {
        PORT: '0',
        LOG_LEVEL: 'info',
        DATABASE_URL: db.url,
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        KAFKA_GROUP_ID: `logging-${process.pid}`,
        PORTAL_ID: 'alpha',
        MIRROR: 'false',
        PUBLISH_LOG: 'false',
        FEDERATION_PEERS: JSON.stringify(peers),
        WITNESS_KEY: generateWitnessKey('alpha.test/witness').signerKey,
      },
      { cwd: ROOT, timeoutMs: 60_000 },
    );
    running.push(replication);
    const res = await fetch(`${replication.url}/add-checkpoint`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-request-id': 'witness-1' },
      body: 'old 5\n\nnot a checkpoint\n',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-request-id')).toBe('witness-1');
    const mine = await until('the refusal and the access line', () => {
      const found = lines(replication).filter((l) => l['requestId'] === 'witness-1');
      return found.some((l) => l['msg'] === 'request completed') ? found : undefined;
    });
    expect(mine.find((l) => l['msg'] === 'add-checkpoint refused')).toMatchObject({
      level: 'warn',
      context: 'witness',
      code: 'witness.malformed',
      status: 400,
    });
    // A conflict found in a request: another root for the size cosigned (plain checkpoints, so no
    // finding can be proven), logged with the id of the request that brought it.
    const checkpoint = (tag: string, oldSize: number): string => {
      const tree = new MerkleTree();
      for (let n = 0; n < 3; n++) tree.append(encodeEntry({ tag, n }));
      const text = formatCheckpoint({
        origin: 'beta.test/log',
        size: 3,
        root: tree.rootAt(3),
        extensions: [],
      });
      return formatAddCheckpoint({
        oldSize,
        proof: [],
        checkpoint: signNote(text, parseSignerKey(beta.signerKey, nodeEd25519)),
      });
    };
    const add = (body: string, id: string) =>
      fetch(`${replication.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-request-id': id },
        body,
      });
    expect((await add(checkpoint('one', 0), 'witness-2')).status).toBe(200);
    // From the size cosigned, so not stale: a conflict.
    expect((await add(checkpoint('two', 3), 'witness-3')).status).toBe(409);
    const conflict = await until('the conflict line', () =>
      lines(replication).find(
        (l) =>
          l['requestId'] === 'witness-3' &&
          l['msg'] === 'add-checkpoint: another root for a size cosigned, not a seal',
      ),
    );
    expect(conflict).toMatchObject({
      level: 'warn',
      context: 'witness',
      peer: 'beta',
    });
  });

  it('at warn: no access line, and the answers still carry their ids', async () => {
    // At warn it does not say that it listens (an info line): it is given a free port and asked.
    const port = await freePort();
    const child = spawn(process.execPath, [QUERY], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    while (
      !(await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (Date.now() > deadline) throw new Error(`the query service did not answer:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const query = { child, url, output: () => output };
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${query.url}/logs/self/checkpoint`, {
        headers: { 'x-request-id': `quiet-${i}` },
      });
      expect(res.headers.get('x-request-id')).toBe(`quiet-${i}`);
    }
    // Stopped and exited, everything it wrote is in: no access line among it.
    query.child.kill('SIGTERM');
    await exited;
    expect(lines(query).filter((l) => l['msg'] === 'request completed')).toEqual([]);
    expect(lines(query).filter((l) => typeof l['requestId'] === 'string')).toEqual([]);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
