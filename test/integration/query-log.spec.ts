import SwaggerParser from '@apidevtools/swagger-parser';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { createService, RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { queryApp } from '../../apps/query/src/query.app';
import {
  checkpoint,
  enqueueAll,
  eventually,
  testEntry,
  testLogKey,
} from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, TestDatabase } from '../env/test-database';

/** The query service's `/logs/{peer}/…` API: answers, and a clear coded error for each bad request. */
describe('query: /logs/self API', () => {
  const key = testLogKey('query.test/log');
  let db: TestDatabase;
  let dataSource: DataSource;
  let query: RunningService;
  let sealedSizes: number[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('querylog');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(dataSource);
    query = await createService(queryApp, { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url });
  });

  afterAll(async () => {
    await query?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  async function get(path: string): Promise<{ status: number; body: unknown; type: string | null }> {
    const res = await fetch(`${query.url}${path}`);
    const type = res.headers.get('content-type');
    const text = await res.text();
    return { status: res.status, type, body: type?.startsWith('application/json') ? JSON.parse(text) : text };
  }

  it('answers 404 log.empty before the first seal', async () => {
    const res = await get('/logs/self/checkpoint');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'log.empty' } });
  });

  it('serves a sealed log (seeded by the log-signer)', async () => {
    // Queued before the signer starts: with PART_MAX_ENTRIES 7 the parts are exactly [0,7) [7,14) [14,20).
    await enqueueAll(
      dataSource,
      Array.from({ length: 20 }, (_, i) => testEntry('q', i)),
    );
    const signer = await createService(logSignerApp, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      LOG_KEY: key.signerKey,
      // Arbitrary JSON entries, not Mesh records: only the log is under test here.
      LOG_SIGNER_RULES: 'none',
      SEAL_INTERVAL_MS: '50',
      PART_MAX_ENTRIES: '7',
      QUEUE_POLL_MS: '5',
    });
    try {
      await eventually(
        '20 entries sealed',
        async () => ((await checkpoint(query.url, key))?.size === 20 ? true : undefined),
        10_000,
      );
    } finally {
      await signer.app.close();
    }
    const rows = await dataSource.query<Array<{ size: string }>>('SELECT size FROM log_seals ORDER BY part');
    sealedSizes = rows.map((r) => Number(r.size));
    expect(sealedSizes).toEqual([7, 14, 20]);

    const cp = await get('/logs/self/checkpoint');
    expect(cp.status).toBe(200);
    expect(cp.type).toMatch(/^text\/plain/);
    expect(cp.body).toMatch(/^query\.test\/log\n20\n/);

    const part = await get('/logs/self/parts/0');
    expect(part.status).toBe(200);
    expect(part.body).toMatchObject({ part: 0, first: 0, size: sealedSizes[0] });

    const entries = await get('/logs/self/entries?start=0&end=20');
    expect((entries.body as { entries: string[] }).entries).toHaveLength(20);
    expect(await get('/logs/self/entries?start=3&end=3')).toMatchObject({
      status: 200,
      body: { entries: [] },
    });

    const inclusion = await get('/logs/self/proofs/inclusion?index=5&size=20');
    expect(inclusion).toMatchObject({ status: 200, body: { index: 5, size: 20 } });
    const consistency = await get(`/logs/self/proofs/consistency?from=${sealedSizes[1]}&to=20`);
    expect(consistency).toMatchObject({ status: 200, body: { from: sealedSizes[1], to: 20 } });
  });

  it.each([
    ['/logs/self/entries?start=a&end=2', 400, 'request.invalid'],
    ['/logs/self/entries?start=-1&end=2', 400, 'request.invalid'],
    ['/logs/self/entries?start=01&end=2', 400, 'request.invalid'],
    ['/logs/self/entries?start=1.5&end=2', 400, 'request.invalid'],
    ['/logs/self/entries?end=2', 400, 'request.invalid'],
    ['/logs/self/entries?start=0&end=99999999999999999999', 400, 'request.invalid'],
    ['/logs/self/entries?start=5&end=2', 400, 'range.reversed'],
    ['/logs/self/entries?start=0&end=1001', 400, 'range.too-large'],
    ['/logs/self/entries?start=10&end=21', 400, 'range.beyond-log'],
    ['/logs/self/proofs/inclusion?index=x&size=20', 400, 'request.invalid'],
    ['/logs/self/proofs/inclusion?index=0', 400, 'request.invalid'],
    ['/logs/self/proofs/inclusion?index=0&size=21', 400, 'range.beyond-log'],
    ['/logs/self/proofs/inclusion?index=20&size=20', 400, 'range.beyond-log'],
    ['/logs/self/proofs/inclusion?index=0&size=19', 400, 'size.not-sealed'],
    ['/logs/self/proofs/consistency?from=20&to=7', 400, 'range.reversed'],
    ['/logs/self/proofs/consistency?from=7&to=25', 400, 'range.beyond-log'],
    ['/logs/self/proofs/consistency?from=3&to=20', 400, 'size.not-sealed'],
    ['/logs/self/proofs/consistency?from=-3&to=20', 400, 'request.invalid'],
    ['/logs/self/parts/abc', 400, 'request.invalid'],
    ['/logs/self/parts/999', 404, 'part.not-found'],
    ['/logs/portal-b/checkpoint', 404, 'peer.unknown'],
    ['/logs/portal-b/parts/0', 404, 'peer.unknown'],
  ])('GET %s → %i %s', async (path, status, code) => {
    const res = await get(path);
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: { code, message: expect.any(String) as string } });
  });

  // The log reads are Fastify routes, not a Nest controller (log-routes.ts): what the service does
  // around every route still happens around them.
  it('answers the log reads with the request id, the cache header, and counts them by route', async () => {
    const counted = async (route: string, status: number) => {
      const metrics = await (await fetch(`${query.url}/metrics`)).text();
      const pattern = `^http_requests_total\\{method="GET",route="${route}",status="${status}"[^}]*\\} (\\d+)$`;
      return Number(new RegExp(pattern, 'm').exec(metrics)?.[1] ?? 0);
    };
    const before = [
      await counted('/logs/:peer/checkpoint', 200),
      await counted('/logs/:peer/checkpoint', 404),
      await counted('/logs/:peer/proofs/inclusion', 400),
    ];
    const res = await fetch(`${query.url}/logs/self/checkpoint`, { headers: { 'x-request-id': 'read-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('read-1');
    expect(res.headers.get('cache-control')).toBe('public, max-age=5');
    // A refusal is JSON and never cached, also where the answer would have been a checkpoint.
    const refused = await fetch(`${query.url}/logs/portal-b/checkpoint`);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    expect(refused.headers.get('cache-control')).toBeNull();
    // A bad parameter is refused before the peer is looked up, as a bad peer name is.
    expect(await get('/logs/portal-b/proofs/inclusion?index=x&size=20')).toMatchObject({
      status: 400,
      body: { error: { code: 'request.invalid' } },
    });
    // An empty segment is a parameter like any other: refused, not a missing route.
    expect(await get('/logs//checkpoint')).toMatchObject({
      status: 400,
      body: { error: { code: 'peer.invalid' } },
    });
    expect(await get('/logs/self/parts//')).toMatchObject({
      status: 400,
      body: { error: { code: 'request.invalid' } },
    });
    // HEAD is answered like GET, without the body.
    const head = await fetch(`${query.url}/logs/self/checkpoint`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await head.text()).toBe('');
    expect([
      await counted('/logs/:peer/checkpoint', 200),
      await counted('/logs/:peer/checkpoint', 404),
      await counted('/logs/:peer/proofs/inclusion', 400),
    ]).toEqual([before[0]! + 1, before[1]! + 1, before[2]! + 1]);
  });
});

describe('query: OpenAPI description', () => {
  it('serves a valid OpenAPI 3.1 document with every query path', async () => {
    const db = await createTestDatabase('queryoapi');
    const query = await createService(queryApp, { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url });
    try {
      const document = (await (await fetch(`${query.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      await SwaggerParser.validate(structuredClone(document) as never);
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining([
          '/logs/{peer}/checkpoint',
          '/logs/{peer}/parts/{n}',
          '/logs/{peer}/entries',
          '/logs/{peer}/proofs/inclusion',
          '/logs/{peer}/proofs/consistency',
          '/profiles/{udf}',
          '/health',
        ]),
      );
    } finally {
      await query.app.close();
      await db.drop();
    }
  });
});
