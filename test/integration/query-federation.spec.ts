import SwaggerParser from '@apidevtools/swagger-parser';
import type { DataSource } from 'typeorm';
import { get as getFrom, getOk } from '../support/mirror-client';
import {
  startScenarioQuery,
  writeFindings,
  writePortalRow,
  type MirrorScenario,
  type ScenarioQuery,
} from '../support/mirror-scenario';

type PeerStatus = Record<string, unknown> & { lagMs: number | null };

/**
 * `GET /federation` and `GET /findings` (federation.md "Query") over a hand-filled database: the
 * scenario of test/support/mirror-scenario.ts plus five findings.
 */
describe('query: /federation and /findings', () => {
  let env: ScenarioQuery;
  let ds: DataSource;
  let s: MirrorScenario;

  beforeAll(async () => {
    env = await startScenarioQuery('queryfederation', (ds, s) => writeFindings(ds, s.now));
    ({ s, ds } = env);
  }, 60_000);

  afterAll(() => env?.close());

  const get = (path: string) => getFrom(env.url, path);
  const json = <T>(path: string) => getOk<T>(env.url, path);

  it('before replication wrote federation_portal: the portal is unknown, nothing given or received', async () => {
    const status = await json<{ portal: unknown; peers: PeerStatus[] }>('/federation');
    expect(status.portal).toEqual({ id: null, witnessKey: null, quorum: 0 });
    expect(status.peers.map((p) => p.cosignatures)).toEqual(Array(3).fill({ given: 0, received: 0 }));
    expect(status.peers.map((p) => p.openFindings)).toEqual([2, 0, 1]);
    await writePortalRow(ds, s);
  });

  it('GET /federation: the roster with head, lag, last seal time, cosignatures given and received, open findings', async () => {
    const before = Date.now();
    const status = await json<{ portal: unknown; peers: PeerStatus[] }>('/federation');
    const after = Date.now();
    expect(status.portal).toEqual({ id: 'alpha', witnessKey: s.witnesses.alpha.verifierKey.text, quorum: 2 });
    expect(status.peers.map((p) => p.id)).toEqual(['beta', 'delta', 'gamma']);
    const [beta, delta, gamma] = status.peers;
    const t = s.beta.seals[3]!.timeMs;
    expect(beta).toEqual({
      id: 'beta',
      origin: 'beta.test/log',
      verifierKey: s.beta.logKey.verifierKey.text,
      witnessKey: s.witnesses.beta.verifierKey.text,
      queryUrl: 'http://beta.test',
      configured: true,
      head: { part: 3, size: 9, timeMs: t },
      lagMs: expect.any(Number) as number,
      lastSealTime: new Date(t).toISOString(),
      // given: alpha's rows on beta's parts 0–3; received: beta's rows on alpha's parts 0–2.
      cosignatures: { given: 4, received: 3 },
      openFindings: 2,
      unverifiedClaims: 0,
    });
    expect(beta!.lagMs).toBeGreaterThanOrEqual(before - t);
    expect(beta!.lagMs).toBeLessThanOrEqual(after - t);
    expect(delta).toMatchObject({
      configured: false,
      head: null,
      lagMs: null,
      lastSealTime: null,
      cosignatures: { given: 0, received: 0 },
      openFindings: 0,
    });
    expect(gamma).toMatchObject({
      head: { part: 1, size: 4, timeMs: s.gamma.seals[1]!.timeMs },
      cosignatures: { given: 2, received: 2 },
      openFindings: 1,
    });
  });

  it.each([
    ['', ['f5', 'f4', 'f3', 'f2', 'f1']],
    ['?subject=beta', ['f3', 'f2', 'f1']],
    ['?subject=beta&status=open', ['f2', 'f1']],
    ['?subject=beta&kind=rule&status=open&limit=5', ['f2']],
    ['?kind=equivocation', ['f4']],
    ['?status=resolved', ['f3']],
    ['?limit=2', ['f5', 'f4']],
    ['?subject=omega', []],
    ['?subject=&kind=&status=&limit=', ['f5', 'f4', 'f3', 'f2', 'f1']],
  ])('GET /findings%s, newest first', async (filter, ids) => {
    const { findings } = await json<{ findings: Array<{ id: string }> }>(`/findings${filter}`);
    expect(findings.map((f) => f.id)).toEqual(ids);
  });

  it('GET /findings serves each finding with its evidence and times', async () => {
    const { findings } = await json<{ findings: unknown[] }>('/findings?status=resolved');
    expect(findings).toEqual([
      {
        id: 'f3',
        subject: 'beta',
        reporter: 'alpha',
        kind: 'stale',
        part: null,
        code: 'stale.code',
        detail: 'detail of f3',
        evidence: { notes: ['f3', 'b'] },
        status: 'resolved',
        verified: true,
        observedAt: s.now - 2000,
        resolvedAt: s.now - 1000,
      },
    ]);
  });

  it('GET /findings: the default limit is 100, the largest 1000', async () => {
    await ds.query(
      `INSERT INTO findings (fingerprint, subject, reporter, kind, code, detail, evidence, observed_at)
       SELECT 'bulk' || n, 'gamma', 'alpha', 'gap', 'assembler.gap', '', '{}', now() - interval '1 hour'
         FROM generate_series(1, 1000) AS n`,
    );
    expect((await json<{ findings: unknown[] }>('/findings')).findings).toHaveLength(100);
    expect((await json<{ findings: unknown[] }>('/findings?limit=1000')).findings).toHaveLength(1000);
    const gamma = (await json<{ peers: PeerStatus[] }>('/federation')).peers[2]!;
    expect(gamma.openFindings).toBe(1001);
  });

  it("a peer's claim this portal did not verify is served on /findings, and counted only as a claim on /federation", async () => {
    await ds.query(
      `INSERT INTO findings (fingerprint, subject, reporter, kind, code, detail, evidence, verified)
       VALUES ('claim1', 'beta', 'gamma', 'rule', 'request.replayed', 'a claim', '{}', false)`,
    );
    const beta = (await json<{ peers: PeerStatus[] }>('/federation')).peers[0]!;
    expect(beta).toMatchObject({ id: 'beta', openFindings: 2, unverifiedClaims: 1 });
    const { findings } = await json<{ findings: Array<{ id: string; verified: boolean }> }>(
      '/findings?subject=beta&status=open',
    );
    expect(findings.map((f) => [f.id, f.verified])).toEqual([
      ['claim1', false],
      ['f2', true],
      ['f1', true],
    ]);
  });

  it.each([
    '?kind=bogus',
    '?status=closed',
    '?limit=0',
    '?limit=1001',
    '?limit=ten',
    '?subject=a&subject=b',
    `?subject=${'x'.repeat(201)}`,
  ])('GET /findings%s → 400 request.invalid', async (filter) => {
    expect(await get(`/findings${filter}`)).toMatchObject({
      status: 400,
      body: { error: { code: 'request.invalid' } },
    });
  });

  it('describes /federation and /findings in a valid OpenAPI document', async () => {
    const document = await json<{ paths: Record<string, unknown> }>('/openapi.json');
    await SwaggerParser.validate(structuredClone(document) as never);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/federation', '/findings', '/logs/{peer}/checkpoint', '/profiles/{udf}']),
    );
  });
});
