import type { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { findCosigners, type VerifierKey } from '@cryptomesh/log';
import {
  cosigners,
  get as getFrom,
  getOk,
  verifyProfileAnswer,
  verifyServedLog,
  type ProfileAnswer,
} from '../support/mirror-client';
import { eventually } from '../../apps/log-signer/test/log-fixture';
import {
  startScenarioQuery,
  writePortalRow,
  type MirrorScenario,
  type ScenarioQuery,
} from '../support/mirror-scenario';

/**
 * `/logs/{peer}/…` and `/profiles/{udf}` over this portal's log and its mirrors (issue #6;
 * federation.md "Query"), on the scenario of test/support/mirror-scenario.ts: real logs signed with
 * @cryptomesh/log, real Mesh records, real cosignatures (one over another seal, one forged), stored
 * as the log-signer and replication store them. Every answer is checked as a client would, with
 * nothing but the peer's log key and the witness keys.
 */
describe('query: /logs/{peer} and /profiles over the mirrors', () => {
  let env: ScenarioQuery;
  let ds: DataSource;
  let s: MirrorScenario;

  beforeAll(async () => {
    env = await startScenarioQuery('querymirrors');
    ({ s, ds } = env);
  }, 60_000);

  afterAll(() => env?.close());

  const get = (path: string) => getFrom(env.url, path);
  const json = <T>(path: string) => getOk<T>(env.url, path);
  const keys = (...ids: Array<keyof MirrorScenario['witnesses']>): VerifierKey[] =>
    ids.map((id) => s.witnesses[id].verifierKey);

  async function lineOf(subject: string, part: number, witness: string): Promise<string> {
    const rows = await ds.query<Array<{ line: string }>>(
      'SELECT line FROM cosignatures WHERE subject = $1 AND part = $2 AND witness = $3',
      [subject, part, witness],
    );
    return `${rows[0]!.line}\n`;
  }

  it('before replication wrote federation_portal: self has no cosignature and the quorum is 0', async () => {
    expect((await get('/logs/self/checkpoint')).body).toBe(s.self.seals[2]!.note);
    const dave = await json<ProfileAnswer>(`/profiles/${s.people.dave.masterId}`);
    expect(dave).toMatchObject({ log: 'beta', proof: { size: 9 } }); // the latest seal
    await writePortalRow(ds, s);
    // The query service holds the roster in memory for at most CHECKPOINT_MAX_AGE_MS (query.md
    // "Log heads"): the row counts once its checkpoint carries the cosignatures of subject alpha.
    await eventually(
      'the portal row read by the query service',
      async () => ((await get('/logs/self/checkpoint')).body !== s.self.seals[2]!.note ? true : undefined),
      5_000,
      10,
    );
  });

  it("serves each peer's mirror so that a client verifies everything with the peer's keys", async () => {
    const beta = await verifyServedLog(env.url, 'beta', s.beta);
    expect(beta.head.size).toBe(9);
    // Over the latest seal: alpha's cosignature only (gamma's row is over another seal).
    expect(beta.checkpoint).toBe(`${s.beta.seals[3]!.note}${await lineOf('beta', 3, 'alpha')}`);
    expect(cosigners(beta.checkpoint, keys('alpha', 'gamma'))).toEqual(['alpha.test/witness']);

    // Lines are served as stored: the forged one is there, and a client finds it invalid.
    const gamma = await verifyServedLog(env.url, 'gamma', s.gamma);
    const report = findCosigners(gamma.checkpoint, keys('alpha', 'beta'), nodeEd25519);
    expect(report.valid.map((c) => c.key.name)).toEqual(['alpha.test/witness']);
    expect(report.invalid.map((c) => [c.key.name, c.error.code])).toEqual([
      ['beta.test/witness', 'cosignature.bad-signature'],
    ]);
    await verifyServedLog(env.url, 'self', s.self);
  });

  it("serves this portal's checkpoint with the peers' cosignatures, by witness id", async () => {
    const latest = (await get('/logs/self/checkpoint')).body as string;
    expect(latest).toBe(`${s.self.seals[2]!.note}${await lineOf('alpha', 2, 'beta')}`);
    expect(cosigners(latest, keys('beta', 'gamma'))).toEqual(['beta.test/witness']);
    const carol = await json<ProfileAnswer>(`/profiles/${s.people.carol.masterId}`);
    expect(carol.checkpoint).toBe(
      `${s.self.seals[1]!.note}${await lineOf('alpha', 1, 'beta')}${await lineOf('alpha', 1, 'gamma')}`,
    );
  });

  it.each([
    ['checkpoint', 404, 'log.empty'],
    ['parts/0', 404, 'part.not-found'],
    ['entries?start=0&end=1', 400, 'range.beyond-log'],
    ['proofs/inclusion?index=0&size=1', 400, 'range.beyond-log'],
  ])(
    'a known peer with nothing mirrored (delta): %s → %i %s, as self before its first seal',
    async (path, status, code) => {
      expect(await get(`/logs/delta/${path}`)).toMatchObject({ status, body: { error: { code } } });
    },
  );

  it('a known peer with nothing mirrored serves an empty range', async () => {
    expect(await get('/logs/delta/entries?start=0&end=0')).toMatchObject({
      status: 200,
      body: { entries: [] },
    });
  });

  it.each([
    ['/logs/omega/checkpoint', 404, 'peer.unknown'],
    ['/logs/omega/parts/0', 404, 'peer.unknown'],
    ['/logs/omega/entries?start=0&end=1', 404, 'peer.unknown'],
    ['/logs/omega/proofs/inclusion?index=0&size=1', 404, 'peer.unknown'],
    ['/logs/omega/proofs/consistency?from=0&to=1', 404, 'peer.unknown'],
    ['/logs/Beta/checkpoint', 400, 'peer.invalid'],
    ['/logs/self%00/checkpoint', 400, 'peer.invalid'],
    ['/logs/%00/parts/0', 400, 'peer.invalid'],
    [`/logs/${'a'.repeat(64)}/entries?start=0&end=1`, 400, 'peer.invalid'],
    ['/logs/beta/entries?start=x&end=2', 400, 'request.invalid'],
    ['/logs/beta/entries?start=0&end=10', 400, 'range.beyond-log'],
    ['/logs/beta/entries?start=0&end=1001', 400, 'range.too-large'],
    ['/logs/beta/proofs/inclusion?index=0&size=5', 400, 'size.not-sealed'],
    ['/logs/beta/proofs/consistency?from=7&to=4', 400, 'range.reversed'],
    ['/logs/beta/parts/4', 404, 'part.not-found'],
    ['/logs/beta/parts/-1', 400, 'request.invalid'],
  ])('GET %s → %i %s', async (path, status, code) => {
    const res = await get(path);
    expect(res.type).toMatch(/^application\/json/);
    expect(res).toMatchObject({ status, body: { error: { code, message: expect.any(String) as string } } });
  });

  describe('GET /profiles/{udf} over the own log and the mirrors (quorum 2)', () => {
    const logs = () => ({ self: s.self, beta: s.beta, gamma: s.gamma });
    const trusted = {
      self: () => keys('beta', 'gamma'),
      beta: () => keys('alpha', 'gamma'),
      gamma: () => keys('alpha', 'beta'),
    };
    type Person = keyof MirrorScenario['people'];
    type Case = [
      Person,
      'masterId' | 'personalId' | 'deviceId',
      'self' | 'beta' | 'gamma',
      number,
      number,
      string,
    ];

    it.each<Case>([
      ['bob', 'masterId', 'beta', 0, 7, 'the latest seal with the quorum (part 3 has one valid cosignature)'],
      ['dave', 'masterId', 'beta', 5, 7, 'part 2, the latest with the quorum'],
      ['frank', 'personalId', 'beta', 2, 7, 'in beta and gamma: beta, by peer id'],
      ['erin', 'deviceId', 'gamma', 0, 1, 'part 0: part 1 has a forged cosignature, one valid'],
      ['carol', 'masterId', 'self', 0, 4, 'in self and gamma: self first'],
    ])(
      '%s (%s) is served from %s, entry %i, against a seal of size %i: %s',
      async (who, which, log, index, size) => {
        const id = s.people[who][which];
        const answer = await json<ProfileAnswer>(`/profiles/${id}`);
        expect(answer).toMatchObject({ log, index, account: s.people[who].account, proof: { size } });
        expect(verifyProfileAnswer(answer, logs()[log], id, trusted[log]()).length).toBeGreaterThanOrEqual(2);
      },
    );

    it('keeps the prefix rule and mmm: URIs (with the account) for mirrors', async () => {
      const dave = s.people.dave;
      for (const name of [
        dave.masterId.slice(0, 24),
        dave.masterId.replace(/-/g, '').toLowerCase(),
        encodeURIComponent(`mmm:${dave.masterId}:${dave.address}`),
      ]) {
        const answer = await json<ProfileAnswer>(`/profiles/${name}`);
        verifyProfileAnswer(answer, s.beta, dave.masterId, trusted.beta());
      }
      const elsewhere = encodeURIComponent(`mmm:${dave.masterId}:${s.people.bob.address}`);
      expect(await get(`/profiles/${elsewhere}`)).toMatchObject({
        status: 404,
        body: { error: { code: 'profile.not-found' } },
      });
    });

    it("answers 404 profile.not-found, deleted by which entry of which log, for bob's deleted device", async () => {
      const res = await get(`/profiles/${s.people.bob.deviceId}`);
      expect(res).toMatchObject({ status: 404, body: { error: { code: 'profile.not-found' } } });
      expect((res.body as { error: { message: string } }).error.message).toContain(
        'deleted by entry 3 of log beta',
      );
    });
  });
});
