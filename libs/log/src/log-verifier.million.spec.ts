import { nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogFixture } from '../testdata/log-fixture';
import { verifyLog } from './verify-log';

/**
 * The long acceptance run of issue #4: a generated log of 1,000,000 entries in 1,000 parts,
 * verified streaming (each part is generated, verified and dropped), so it also shows that the
 * verifier needs no memory proportional to the log. About 30 s on 2 cores; bench/log.bench.ts
 * measures the same work with timings.
 */
const PARTS = 1000;
const PER_PART = 1000;

describe('LogVerifier over a million entries (long)', () => {
  it('verifies 1,000,000 entries in 1,000 parts and ends on the last seal', async () => {
    const fixture = new LogFixture('portal-a.example/log', nodeEd25519, { keepTree: false });
    const heapBefore = process.memoryUsage().heapUsed;
    const verdict = await verifyLog(fixture.generate(PARTS, PER_PART), {
      logKey: fixture.signer.verifierKey,
      ed25519: nodeEd25519,
    });
    expect(verdict).toMatchObject({ ok: true, parts: PARTS });
    expect(verdict.head?.size).toBe(PARTS * PER_PART);
    expect(verdict.head?.part.index).toBe(PARTS - 1);
    // 1,000,000 = 2^19 + … : one frontier hash per set bit.
    expect(verdict.state?.frontier).toHaveLength((PARTS * PER_PART).toString(2).replace(/0/g, '').length);
    // The entries alone are ~300 MB; streaming keeps the heap far below that.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
  }, 180_000);
});
