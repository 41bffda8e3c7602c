import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { GatewayClient, isClientError } from '@cryptomesh/client';
import { caTrustingFetch } from '@cryptomesh/service';
import { freshHome, mesh, meshJson } from '../../apps/cli/test/built-mesh';
import { PeerQueryClient } from '../../apps/replication/src/mirror/peer-query.client';
import { loadReplicationConfig } from '../../apps/replication/src/replication.config';
import { startTestFederation, type Federation, type PortalsFile } from '../support/federation';
import { cosignersOf, fetchLog, waitFor, type KnownPortal } from '../support/federation-oracle';
import { scrape } from '../support/prometheus-text';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { issueServerCertificate } = require('../../deploy/tls/local-ca') as {
  issueServerCertificate: (
    dir: string,
    name: string,
    dns: string[],
    ip: string[],
  ) => Promise<{ certFile: string; keyFile: string; caFile: string }>;
};

/**
 * Issue #8, TLS: the three-portal federation of #6 with `--tls` (every gateway and query service on
 * HTTPS with a certificate of the local CA in <dir>/tls), and clients that verify the chain to that
 * CA — and refuse a portal whose certificate does not chain to the CA they trust.
 */
const ACCOUNT = 'tls@example.com';

/** The certificate chain `url`'s server presents, with whether it verified against `ca`. */
function handshake(url: string, ca: string): Promise<{ authorized: boolean; chain: PeerCertificate[] }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, rejectUnauthorized: false }, () => {
      const chain: PeerCertificate[] = [];
      let cert = socket.getPeerCertificate(true) as PeerCertificate & { issuerCertificate?: PeerCertificate };
      while (cert && !chain.some((c) => c.fingerprint256 === cert.fingerprint256)) {
        chain.push(cert);
        cert = (cert as { issuerCertificate?: PeerCertificate }).issuerCertificate as typeof cert;
      }
      resolve({ authorized: socket.authorized, chain });
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('a federation over TLS (federation:up --tls)', () => {
  const home = freshHome('tls');
  const otherCaDir = mkdtempSync(join(tmpdir(), 'cmp-other-ca-'));
  let federation: Federation;
  let portals: KnownPortal[];
  let caFile: string;
  let caPem: string;
  let trusting: ReturnType<typeof caTrustingFetch>;

  beforeAll(async () => {
    federation = await startTestFederation({
      tls: true,
      // CATCHUP_INTERVAL_MS: each mirror reads its peer's checkpoint over HTTPS every half second.
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, CATCHUP_INTERVAL_MS: 500, LOG_LEVEL: 'warn' },
    });
    portals = federation.portals.map((p) => ({ ...p }));
    caFile = federation.caFile!;
    caPem = readFileSync(caFile, 'utf8');
    trusting = caTrustingFetch(caPem);
  }, 240_000);

  afterAll(async () => {
    await federation?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(otherCaDir, { recursive: true, force: true });
  }, 120_000);

  it('serves every gateway and query on HTTPS with a certificate chaining to the local CA named in portals.json', async () => {
    const file = JSON.parse(readFileSync(federation.portalsFile, 'utf8')) as PortalsFile;
    const ca = new X509Certificate(caPem);
    for (const p of file.portals) {
      expect(p.caFile).toBe(caFile);
      for (const url of [p.gatewayUrl, p.queryUrl]) {
        expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const { authorized, chain } = await handshake(url, caPem);
        expect(authorized).toBe(true);
        const leaf = new X509Certificate(chain[0]!.raw);
        expect(leaf.checkIssued(ca)).toBe(true);
        expect(leaf.verify(ca.publicKey)).toBe(true);
        expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
        expect(chain.at(-1)!.fingerprint256).toBe(ca.fingerprint256);
      }
    }
  });

  it('lets a client that trusts the CA say Hello, and the mesh CLI (--ca) create and verify a profile', async () => {
    const [A] = portals as [KnownPortal];
    const hello = await new GatewayClient(A.gatewayUrl, trusting).send('Hello', {});
    expect(hello).toMatchObject({ PortalId: A.id, QueryUrl: A.queryUrl });

    const created = await meshJson<{ portal: { id: string; queryUrl: string } }>(home, [
      '--ca',
      caFile,
      'profile',
      'create',
      '--portal',
      A.gatewayUrl,
      '--account',
      ACCOUNT,
    ]);
    expect(created.portal).toMatchObject({ id: A.id, queryUrl: A.queryUrl });
    const shown = await meshJson<{ verified: { via: string; profiles: Array<{ log: string }> } }>(home, [
      '--ca',
      caFile,
      'profile',
      'show',
      '--verify',
    ]);
    expect(shown.verified.via).toBe(A.id);
    expect(shown.verified.profiles.map((p) => p.log)).toEqual([A.id, A.id]);

    // The log itself, through its tiles over HTTPS (issue #18): --ca as for every other command.
    const tiles = ['log', 'verify', '--url', `${A.queryUrl}/logs/self`, '--key', A.verifierKey];
    const verified = await mesh(home, ['--ca', caFile, ...tiles]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^OK verified \d+ entries .* through its tiles$/m);
    const untrusted = await mesh(home, tiles);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/certificate/);
    const badCa = await mesh(home, ['--ca', join(home, 'nothing.pem'), ...tiles]);
    expect(badCa.code).toBe(2);
    expect(badCa.stderr).toMatch(/--ca: cannot read .*nothing\.pem/);
  }, 120_000);

  it('is refused, naming the certificate problem, by a client that does not trust the CA; nothing is created', async () => {
    const [A] = portals as [KnownPortal];
    const error = await new GatewayClient(A.gatewayUrl).send('Hello', {}).catch((e: unknown) => e);
    expect(isClientError(error, 'portal.unreachable')).toBe(true);
    expect((error as Error).message).toMatch(/certificate/);

    const stranger = freshHome('tls-no-ca');
    try {
      const run = await mesh(stranger, [
        'profile',
        'create',
        '--portal',
        A.gatewayUrl,
        '--account',
        'no-ca@example.com',
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/certificate.*\[portal\.unreachable\]/);
      const available = await new GatewayClient(A.gatewayUrl, trusting).send('ValidateAccount', {
        Account: 'no-ca@example.com',
      });
      expect(available.Available).toBe(true);
      const badCa = await mesh(stranger, ['--ca', join(stranger, 'nothing.pem'), 'profile', 'show']);
      expect(badCa.code).toBe(2);
      expect(badCa.stderr).toMatch(/--ca: cannot read .*nothing\.pem/);
    } finally {
      rmSync(stranger, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a server whose certificate was issued by another CA, even for the right name', async () => {
    const other = await issueServerCertificate(otherCaDir, 'impostor', ['localhost'], ['127.0.0.1']);
    const server: Server = createServer(
      { cert: readFileSync(other.certFile), key: readFileSync(other.keyFile) },
      (_req, res) => res.end('{}'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const error = await new GatewayClient(`https://127.0.0.1:${port}`, trusting)
        .send('Hello', {})
        .catch((e: unknown) => e);
      expect(isClientError(error, 'portal.unreachable')).toBe(true);
      expect((error as Error).message).toMatch(/certificate/);
      // …and the other CA's clients refuse the federation's portals the same way.
      const [A] = portals as [KnownPortal];
      const theirs = caTrustingFetch(readFileSync(other.caFile, 'utf8'));
      await expect(new GatewayClient(A.gatewayUrl, theirs).send('Hello', {})).rejects.toMatchObject({
        code: 'portal.unreachable',
      });
    } finally {
      server.close();
    }
  });

  it('replicates over HTTPS: mirrors fill and the peers read each other over TLS with PEER_CA_FILE', async () => {
    const [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
    await waitFor(
      `B and C hold A's log with the profile, cosigned`,
      async () => {
        const own = await fetchLog(A.queryUrl, 'self', A, trusting);
        if (own === undefined || own.seal.size === 0) return false;
        for (const [mirror, other] of [
          [B, C],
          [C, B],
        ] as const) {
          const log = await fetchLog(mirror.queryUrl, A.id, A, trusting);
          if (log === undefined || log.seal.size < own.seal.size) return false;
          if (cosignersOf(log.checkpoint, [mirror, other]).length === 0) return false;
        }
        return true;
      },
      60_000,
    );

    // The replication service's own configuration: PEER_CA_FILE → a client that reads a peer's
    // HTTPS query service; the platform's roots alone do not.
    const config = loadReplicationConfig({
      PORTAL_ID: 'tls-check',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
      KAFKA_BROKERS: '127.0.0.1:9',
      PEER_CA_FILE: caFile,
    });
    const viaConfig = new PeerQueryClient(A.queryUrl, 5_000, caTrustingFetch(config.peerCa!));
    expect(await viaConfig.checkpoint()).toMatch(/^localhost\/cryptomesh\//);
    await expect(new PeerQueryClient(A.queryUrl, 5_000).checkpoint()).rejects.toThrow();

    // The running replication services did: over several rounds of reading every peer's checkpoint
    // (every 500 ms) once every service listens, not one failed over TLS. The window starts now, after
    // the mirrors filled: before it a peer's query service may not have listened yet (services start
    // in any order), which is an outage, not a TLS failure (issue #15: assert over the window).
    const errors = (m: Awaited<ReturnType<typeof scrape>>) =>
      m.sum('intermesh_mirror_errors_total', { stage: 'lag' }) +
      m.sum('intermesh_mirror_errors_total', { stage: 'catch-up' });
    const atStart = await Promise.all(federation.portals.map((p) => scrape(p.urls.replication)));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    for (const [i, p] of federation.portals.entries()) {
      const metrics = await scrape(p.urls.replication);
      expect(metrics.find('intermesh_mirror_lag_entries')).toHaveLength(2);
      expect(errors(metrics) - errors(atStart[i]!)).toBe(0);
    }
  }, 90_000);
});
