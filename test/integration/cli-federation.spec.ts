import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freshHome, mesh, meshJson } from '../../apps/cli/test/built-mesh';
import { startTestFederation, type Federation } from '../support/federation';
import { cosignersOf, fetchLog, waitFor, type KnownPortal } from '../support/federation-oracle';

/**
 * Issue #7's second acceptance line, through the BUILT `mesh` binary against the three-portal
 * federation: a profile created at A; once B holds A's log up to what the client saw, cosigned to
 * the quorum, A is stopped; the client reads its profile from B's mirror of A's log and verifies it
 * (checkpoint signature by A's pinned key, peer cosignatures, consistency with the checkpoint of A
 * it saw, inclusion, signing rules); then it switches its home to B and keeps working.
 *
 * The federation runs with the default COSIGNATURE_QUORUM, ⌈2 peers / 2⌉ = 1: with A down, a
 * checkpoint of B can still gather it (from C), so the client keeps verifying its writes at B. (A
 * quorum of 2 of 2 peers could never be reached with one portal down.)
 */
const ACCOUNT = 'carol@example.com';
const QUORUM = 1;

interface Verified {
  portal: { id: string };
  verified: { via: string; profiles: Array<{ kind: string; log: string; id: string }> };
}

describe('the mesh CLI against a three-portal federation', () => {
  const home = freshHome('fed');
  let federation: Federation;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  let fingerprint: string;

  beforeAll(async () => {
    federation = await startTestFederation({
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, LOG_LEVEL: 'warn' },
    });
    const portals: KnownPortal[] = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
  }, 240_000);

  afterAll(async () => {
    await federation?.stop();
    rmSync(home, { recursive: true, force: true });
  }, 120_000);

  it('creates the profile at A, pinning A and its peers, and works there', async () => {
    const created = await meshJson<{ fingerprint: string; portal: { id: string; queryUrl: string } }>(home, [
      'profile',
      'create',
      '--portal',
      A.gatewayUrl,
      '--account',
      ACCOUNT,
    ]);
    fingerprint = created.fingerprint;
    expect(created.portal).toMatchObject({ id: A.id, queryUrl: A.queryUrl });
    const trust = JSON.parse(readFileSync(join(home, 'trust.json'), 'utf8')) as {
      home: { id: string };
      peers: Array<{ id: string }>;
      quorum: number;
    };
    expect(trust.home.id).toBe(A.id);
    expect(trust.peers.map((p) => p.id).sort()).toEqual([B.id, C.id].sort());
    expect(trust.quorum).toBe(QUORUM);

    await meshJson(home, ['password', 'add', 'bank.example', '--username', 'carol', '--password', 'at A']);
    const shown = await meshJson<Verified>(home, ['profile', 'show', '--verify']);
    expect(shown.verified.via).toBe(A.id);
    expect(shown.verified.profiles.map((p) => p.log)).toEqual([A.id, A.id]);
  }, 120_000);

  it('reads and verifies the profile from B once A is stopped', async () => {
    // The client may only accept from B a checkpoint of A consistent with the last one it saw.
    const seen = JSON.parse(
      readFileSync(join(home, 'checkpoints', `${encodeURIComponent(A.id)}.json`), 'utf8'),
    ) as { size: number };
    await waitFor(
      `B holds A's log up to ${seen.size}, cosigned by ${QUORUM} peer`,
      async () => {
        const mirror = await fetchLog(B.queryUrl, A.id, A);
        return (
          mirror !== undefined &&
          mirror.seal.size >= seen.size &&
          cosignersOf(mirror.checkpoint, [B, C]).length >= QUORUM
        );
      },
      60_000,
    );
    await federation.stopPortal(A.id);

    const atA = await mesh(home, ['profile', 'show', '--verify']);
    expect(atA.code).toBe(1);
    expect(atA.stderr).toMatch(/^mesh: .*\[portal\.unreachable\]$/m);

    const human = await mesh(home, ['profile', 'show', '--via', B.queryUrl]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(
        `^verified +master profile .* of ${A.id}'s log, .* served by ${B.id}, proof from tiles$`,
        'm',
      ),
    );
    // The mirror's tiles made that proof; the query service's own answers still serve on request.
    const byJson = await mesh(home, ['profile', 'show', '--via', B.id, '--proofs', 'json']);
    expect(byJson.stdout).toMatch(/, proof from json$/m);
    const bogus = await mesh(home, ['profile', 'show', '--via', B.id, '--proofs', 'cdn']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain('--proofs must be one of');
    const fromB = await meshJson<Verified & { fingerprint: string }>(home, [
      'profile',
      'show',
      '--via',
      B.id,
    ]);
    expect(fromB.fingerprint).toBe(fingerprint);
    expect(fromB.verified).toEqual({
      via: B.id,
      profiles: [
        expect.objectContaining({ kind: 'master', id: fingerprint, log: A.id }),
        expect.objectContaining({ kind: 'personal', log: A.id }),
      ],
    });
    const stranger = await mesh(home, ['profile', 'show', '--via', 'https://stranger.example']);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/is not a pinned portal of the federation/);
  }, 120_000);

  it('switches its home to B and keeps working there', async () => {
    const switched = await meshJson<{ portal: { id: string; gatewayUrl: string } }>(home, [
      'portal',
      'switch',
      B.gatewayUrl,
    ]);
    expect(switched.portal).toMatchObject({ id: B.id, gatewayUrl: B.gatewayUrl });
    expect(await meshJson(home, ['password', 'get', 'bank.example'])).toMatchObject({ password: 'at A' });

    await meshJson(home, ['password', 'add', 'shop.example', '--username', 'c', '--password', 'at B']);
    const read = await mesh(home, ['password', 'get', 'shop.example']);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('password at B');
    const list = await meshJson<{ entries: Array<{ site: string }> }>(home, ['password', 'list']);
    expect(list.entries.map((e) => e.site)).toEqual(['bank.example', 'shop.example']);

    const shown = await meshJson<Verified & { portal: { id: string } }>(home, [
      'profile',
      'show',
      '--verify',
    ]);
    expect(shown.portal.id).toBe(B.id);
    expect(shown.verified.via).toBe(B.id);
    expect(shown.verified.profiles.map((p) => p.log)).toEqual([B.id, B.id]);
  }, 120_000);
});
