import { testFederationOptions } from '../support/federation';
import { SOAK_ENV, runSoak } from '../soak/soak';

/**
 * `npm run soak -- --quick` inside `npm test` (issue #15): one minute of write load on a three-portal
 * federation of the built services while random services are killed with SIGKILL and restarted,
 * and the soak's own broker once. Afterwards every log and mirror re-verifies from what is published,
 * every acknowledged write is present exactly once, and no portal raised a finding.
 */
describe('soak, quick form (issue #15)', () => {
  it('a minute of kills under load: nothing acknowledged is lost or duplicated, no finding', async () => {
    const figures = await runSoak({
      durationMs: 60_000,
      killEveryMs: 6_000,
      minKills: 3,
      settleMs: 180_000,
      federation: (brokers) => testFederationOptions({ kafkaBrokers: brokers, env: SOAK_ENV }),
      log: (m) => process.stderr.write(`${m}\n`),
    });
    process.stderr.write(`soak figures: ${JSON.stringify(figures)}\n`);
    expect(figures.kills).toBeGreaterThanOrEqual(3);
    expect(figures.brokerRestarts).toBe(1);
    expect(figures.writesAcknowledged).toBeGreaterThan(20);
    expect(figures).toMatchObject({
      writesMissing: 0,
      duplicates: 0,
      findings: 0,
      logsVerified: 3,
      mirrorsVerified: 6,
    });
  }, 480_000);
});
