import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptJwe } from '@cryptomesh/crypto';
import { readProfileOf } from '@cryptomesh/mesh';
import { createService, type RunningService } from '@cryptomesh/service';
import {
  createEscrow,
  GatewayClient,
  loadDeviceKeys,
  MemoryClientStore,
  MeshProfileManager,
  openApplication,
  PasswordApp,
  portalErrorCode,
  recoverEscrow,
  type DeviceKeys,
  type EscrowShares,
  type FetchLike,
} from '@cryptomesh/client';
import { portalApp } from '../../apps/portal/src/portal.app';
import { loadPortalConfig } from '../../apps/portal/src/portal.config';
import { preparePortal } from '../../apps/portal/src/portal-setup';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { failure } from '../../libs/client/test/client-failure';

/**
 * The client SDK (issue #7) against real portals — the single-portal module (gateway, log-signer and
 * query on one port) on PostgreSQL, in-process: a profile created on device 1, device 2 connected and
 * accepted, passwords written on each and read on the other, device 2 removed (and unable to read what
 * is written afterwards), escrow created and recovered on a fresh device 3, then the profile switched
 * to a second portal (which demands proof of work) where both remaining devices keep working. Every
 * profile the SDK reads is verified through the portal's log.
 */
interface Portal {
  readonly db: TestDatabase;
  readonly dataDir: string;
  readonly service: RunningService;
  readonly url: string;
}

async function startPortal(id: string, extra: Record<string, string> = {}): Promise<Portal> {
  const db = await createTestDatabase(`sdk${id}`);
  const dataDir = mkdtempSync(join(tmpdir(), `sdk-${id}-`));
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    PORTAL_ID: id,
    LOG_ORIGIN: `${id}.example/log`,
    SEAL_INTERVAL_MS: '100',
    RATE_LIMIT_ACCOUNT_PER_MINUTE: '100000',
    RATE_LIMIT_ADDRESS_PER_MINUTE: '100000',
    ...extra,
  };
  const setup = await preparePortal(loadPortalConfig(env), env);
  const service = await createService(portalApp(setup), env);
  return { db, dataDir, service, url: service.url };
}

async function stopPortal(portal: Portal | undefined): Promise<void> {
  if (portal === undefined) return;
  await portal.service.app.close().catch(() => undefined); // alpha is closed by the last test already
  await portal.db.drop();
  rmSync(portal.dataDir, { recursive: true, force: true });
}

const ACCOUNT = 'alice@example.com';

describe('the client SDK against real portals', () => {
  let alpha: Portal;
  let beta: Portal;
  const store1 = new MemoryClientStore();
  const store2 = new MemoryClientStore();
  const store3 = new MemoryClientStore();
  // Device 1's requests, recorded: its verified reads build their proofs from the log's tiles.
  const requests: Array<{ url: string; status: number }> = [];
  const recording: FetchLike = async (url, init) => {
    const answer = await fetch(url, init);
    requests.push({ url: String(url), status: answer.status });
    return answer;
  };
  const device1 = new MeshProfileManager(store1, { fetchImpl: recording });
  const device2 = new MeshProfileManager(store2);
  const device3 = new MeshProfileManager(store3);
  const passwords1 = new PasswordApp(device1);
  const passwords2 = new PasswordApp(device2);
  const passwords3 = new PasswordApp(device3);
  let fingerprint: string;
  let device2Id: string;
  let device2Keys: DeviceKeys;
  let escrow: EscrowShares;

  beforeAll(async () => {
    alpha = await startPortal('alpha');
    beta = await startPortal('beta', { PROOF_OF_WORK_LEVEL: '1' });
  }, 60_000);

  afterAll(async () => {
    await stopPortal(alpha);
    await stopPortal(beta);
  });

  it('creates a profile on device 1: keys kept as secrets, trust pinned, the fingerprint returned', async () => {
    const created = await device1.createProfile({ gatewayUrl: alpha.url, account: 'Alice@Example.com' });
    fingerprint = created.fingerprint;
    expect(created).toMatchObject({ account: ACCOUNT, portal: { id: 'alpha', gatewayUrl: alpha.url } });
    expect(fingerprint).toMatch(/^M[A-Z2-7]{3}(-[A-Z2-7]{4}){6}$/);
    expect(store1.documents.get('keys/device.json')?.secret).toBe(true);
    expect(store1.documents.get('keys/master.json')?.secret).toBe(true);
    expect(store1.documents.get('trust.json')?.text).toContain('"id": "alpha"');
    expect(await failure(device1.createProfile({ gatewayUrl: alpha.url, account: ACCOUNT }))).toMatchObject({
      code: 'usage.invalid',
    });
    // A password before any other device exists: the next device must get it on acceptance.
    await passwords1.add('bank.example', { username: 'alice', password: 'first-secret' });
    expect((await store1.list('checkpoints/')).length).toBeGreaterThan(0);
  }, 60_000);

  it('connects device 2: ConnectStart, pending with the same witness, accept, status', async () => {
    const started = await device2.connect({ gatewayUrl: alpha.url, account: ACCOUNT, description: 'phone' });
    device2Id = started.deviceId;
    expect(await device2.connectStatus()).toEqual({ result: 'pending' });
    const pending = await device1.pending();
    expect(pending).toEqual([
      expect.objectContaining({
        requestId: started.requestId,
        deviceId: device2Id,
        witness: started.witness,
      }),
    ]);
    expect(await failure(device1.accept('no-such-request', started.witness))).toMatchObject({
      code: 'usage.invalid',
    });
    // A witness other than the one the new device shows: refused before anything is signed (issue #14).
    expect(await failure(device1.accept(started.requestId, 'MXXX-XXXX-XXXX'))).toMatchObject({
      code: 'verify.witness',
    });
    expect(await device1.accept(started.requestId, started.witness)).toMatchObject({
      id: device2Id,
      description: 'phone',
    });
    expect(await device2.connectStatus()).toEqual({ result: 'accepted', fingerprint });
    device2Keys = await loadDeviceKeys(store2);

    // A third request, rejected.
    const stranger = new MeshProfileManager(new MemoryClientStore());
    const refused = await stranger.connect({ gatewayUrl: alpha.url, account: ACCOUNT });
    await device1.reject(refused.requestId);
    expect(await stranger.connectStatus()).toEqual({ result: 'rejected' });

    expect((await device1.devices()).map((d) => [d.id === device2Id, d.administrator, d.self])).toEqual([
      [false, true, true],
      [true, false, false],
    ]);
  }, 60_000);

  it('shares passwords: device 2 reads what device 1 wrote before and after, and the other way round', async () => {
    expect(await passwords2.get('bank.example')).toMatchObject({
      username: 'alice',
      password: 'first-secret',
    });
    await passwords1.add('Example.com', { username: 'alice', password: 's3cret' });
    expect(await passwords2.get('example.com')).toMatchObject({ sites: ['example.com'], password: 's3cret' });
    await passwords2.add('mail.example.net', { username: 'al', password: 'from-the-phone' });
    expect(await passwords1.get('mail.example.net')).toMatchObject({ password: 'from-the-phone' });
    expect((await passwords1.list()).map((e) => e.sites[0])).toEqual([
      'bank.example',
      'example.com',
      'mail.example.net',
    ]);

    expect(await failure(passwords2.get('unknown.example'))).toMatchObject({
      code: 'state.missing',
      check: 'site',
    });
    expect(await failure(passwords1.remove('unknown.example'))).toMatchObject({ code: 'state.missing' });
    expect(await failure(device2.accept('anything', 'MXXX-XXXX-XXXX'))).toMatchObject({
      code: 'usage.invalid',
      check: 'administrator',
    });
    await passwords2.remove('bank.example');
    expect(await failure(passwords1.get('bank.example'))).toMatchObject({ code: 'state.missing' });
  }, 60_000);

  it("verifies every read with proofs built from the portal's tiles, never asking for a proof (issue #18)", () => {
    const tiles = requests.filter((r) => r.url.startsWith(`${alpha.url}/logs/self/tile/`));
    expect(tiles.length).toBeGreaterThan(0);
    expect(tiles.filter((r) => r.status !== 200)).toEqual([]);
    // Partial tiles of the growing log; and no JSON proof at all, though device 1 saw the log grow
    // from read to read (each larger checkpoint needs a consistency proof).
    expect(tiles.some((r) => r.url.includes('.p/'))).toBe(true);
    expect(requests.filter((r) => r.url.includes('/proofs/'))).toEqual([]);
  });

  it('removes device 2: it can neither sign nor read what is written afterwards', async () => {
    await device1.remove(device2Id);
    expect((await device1.devices()).map((d) => d.id)).not.toContain(device2Id);
    await passwords1.add('after.example', { username: 'alice', password: 'written-after-removal' });

    const { session, doc } = await device1.open();
    const app = doc.personal.profile.applications.find((a) => a.type === 'password')!;
    const published = readProfileOf(await session.getRaw(app.id), 'application');
    await expect(decryptJwe(published.profile.private, device2Keys.encryption)).rejects.toMatchObject({
      code: 'jwe.no-recipient',
    });
    expect(await failure(openApplication(published, device2Keys))).toMatchObject({ code: 'state.missing' });
    const refused = await failure(passwords2.get('after.example'));
    expect(refused.code).toBe('portal.refused');
    expect(portalErrorCode(refused)).toBe('auth.unknown-device');
    expect(await failure(device1.remove(doc.device.profile.id))).toMatchObject({ code: 'usage.invalid' });
  }, 60_000);

  it('escrows the profile in shares and recovers it on a fresh device 3, which reads every password', async () => {
    expect(await failure(createEscrow(device1, { threshold: 4, shares: 3 }))).toMatchObject({
      code: 'usage.invalid',
    });
    escrow = await createEscrow(device1, { threshold: 2, shares: 3 });
    expect(escrow.shares).toHaveLength(3);
    expect((await device1.devices()).find((d) => d.id === escrow.deviceId)).toMatchObject({
      administrator: true,
    });

    const wrong = await failure(recoverEscrow(device3, [escrow.shares[0]!], { gatewayUrl: alpha.url }));
    expect(wrong).toMatchObject({ code: 'usage.invalid', check: 'escrow shares' });
    const recovered = await recoverEscrow(device3, [escrow.shares[2]!, escrow.shares[0]!], {
      gatewayUrl: alpha.url,
      account: ACCOUNT,
    });
    expect(recovered).toMatchObject({ fingerprint, account: ACCOUNT });
    expect(store3.documents.get('keys/master.json')?.secret).toBe(true);
    expect((await passwords3.list()).map((e) => e.sites[0])).toEqual([
      'after.example',
      'example.com',
      'mail.example.net',
    ]);
    expect(await passwords3.get('after.example')).toMatchObject({ password: 'written-after-removal' });
    const devices = await device3.devices();
    expect(devices.find((d) => d.self)).toMatchObject({ id: recovered.deviceId, administrator: true });
    await passwords3.add('recovered.example', { username: 'alice', password: 'from-device-3' });
    expect(await passwords1.get('recovered.example')).toMatchObject({ password: 'from-device-3' });
  }, 90_000);

  it('switches to a second portal (with proof of work) and keeps working there from every device', async () => {
    const available = async (url: string) =>
      (await new GatewayClient(url).send('ValidateAccount', { Account: ACCOUNT })).Available;
    expect([await available(alpha.url), await available(beta.url)]).toEqual([false, true]);
    const { portal: home, closed } = await device1.switchPortal({ gatewayUrl: beta.url });
    expect(await available(beta.url)).toBe(false);
    expect(home).toMatchObject({ id: 'beta', gatewayUrl: beta.url });
    // The switch closed the account at alpha (MoveAccount): device 3, still homed there, is refused.
    expect(closed).toBe(true);
    const refused = await failure(passwords3.get('example.com'));
    expect(refused).toMatchObject({ code: 'portal.refused' });
    expect(portalErrorCode(refused)).toBe('account.moved');
    expect(store1.documents.get('trust.json')?.text).toContain('"id": "beta"');
    await passwords1.add('beta.example', { username: 'alice', password: 'at-beta' });
    expect(await passwords1.get('example.com')).toMatchObject({ password: 's3cret' });

    // Alpha is gone; device 3 switches from its own copies, finds its profile already at beta and
    // only moves its home there.
    await alpha.service.app.close();
    expect(await failure(passwords3.get('example.com'))).toMatchObject({ code: 'portal.unreachable' });
    await device3.switchPortal({ gatewayUrl: beta.url });
    expect(await passwords3.get('beta.example')).toMatchObject({ password: 'at-beta' });
    await passwords3.add('both.example', { username: 'a', password: 'b' });
    expect(await passwords1.get('both.example')).toMatchObject({ password: 'b' });

    // The escrow blob moved too: recovery works from beta.
    const fresh = new MeshProfileManager(new MemoryClientStore());
    const again = await recoverEscrow(fresh, escrow.shares.slice(0, 2), { gatewayUrl: beta.url });
    expect(again.fingerprint).toBe(fingerprint);
    expect(await new PasswordApp(fresh).get('both.example')).toMatchObject({ password: 'b' });
  }, 120_000);
});
