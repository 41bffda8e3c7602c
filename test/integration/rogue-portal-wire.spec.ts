import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '@cryptomesh/crypto';
import { buildDeviceProfile, REQUEST_TYPE, requestBodyUdf } from '@cryptomesh/mesh';
import { createService, type RunningService } from '@cryptomesh/service';
import { generateDeviceKeys, MemoryClientStore, MeshProfileManager, PasswordApp } from '@cryptomesh/client';
import { portalApp } from '../../apps/portal/src/portal.app';
import { loadPortalConfig } from '../../apps/portal/src/portal.config';
import { preparePortal } from '../../apps/portal/src/portal-setup';
import { failure } from '../../libs/client/test/client-failure';
import { forgeJws } from '../../libs/crypto/test/forged-jws';
import { forgedDeviceProfile } from '../../libs/mesh/test/fixtures';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { queryDatabase, snapshotDatabase } from '../support/db-snapshot';
import { waitFor } from '../support/federation-oracle';
import { connectNonce, jws, post, TestAccount, type Answer } from '../support/mesh-client';

/**
 * Issue #14, the wire-level holes, played by the attacker against real portals (the single-portal
 * module — gateway, log-signer and query on one port — on the real PostgreSQL, in-process):
 *  - hole 1, the swapped device: the operator of alpha rewrites a pending connection request in its
 *    database so that its own device (or another nonce) stands under the real device's request; the
 *    administrator's `accept` with the witness the new device shows is refused (`verify.witness`) and
 *    nothing is logged or re-encrypted;
 *  - hole 2, the cross-portal replay: a request alice's device signed for alpha, replayed at beta
 *    where the same account lives, is refused (403 `auth.wrong-portal`, Reason
 *    `request.wrong-portal`) and beta's database does not change;
 *  - hole 5, the small-order key: a Device Profile whose key is the identity point with a forged
 *    signature is refused by the gateway (400 `profile.invalid`, Reason `profile.malformed`).
 */
interface Portal {
  readonly id: string;
  readonly origin: string;
  readonly db: TestDatabase;
  readonly dataDir: string;
  readonly service: RunningService;
  readonly url: string;
}

async function startPortal(id: string): Promise<Portal> {
  const db = await createTestDatabase(`rw${id}`);
  const dataDir = mkdtempSync(join(tmpdir(), `rogue-wire-${id}-`));
  const origin = `${id}.example/log`;
  const env: NodeJS.ProcessEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    PORTAL_ID: id,
    LOG_ORIGIN: origin,
    SEAL_INTERVAL_MS: '100',
    RATE_LIMIT_ACCOUNT_PER_MINUTE: '100000',
    RATE_LIMIT_ADDRESS_PER_MINUTE: '100000',
  };
  const setup = await preparePortal(loadPortalConfig(env), env);
  const service = await createService(portalApp(setup), env);
  return { id, origin, db, dataDir, service, url: service.url };
}

async function stopPortal(portal: Portal | undefined): Promise<void> {
  if (portal === undefined) return;
  await portal.service.app.close();
  await portal.db.drop();
  rmSync(portal.dataDir, { recursive: true, force: true });
}

/**
 * What an accepted change would touch: the catalog (accounts, their objects — the Personal Profile and
 * the encrypted application data), the queue and the log's entries, escrow. Seals are left out: the
 * signer keeps sealing heartbeats, which carry no entry.
 */
async function logged(portal: Portal): Promise<Record<string, string[]>> {
  await drained(portal);
  const all = await snapshotDatabase(portal.db.url);
  const tables = ['accounts', 'catalog_objects', 'log_queue', 'log_entries', 'escrow_blobs'];
  return Object.fromEntries(tables.map((t) => [t, all[t] ?? []]));
}

/**
 * Waits until the portal's log-signer has sequenced every queued entry: before that, the queue and the
 * log's entries move by themselves, and a snapshot could not tell an attack's write from the signer's.
 */
async function drained(portal: Portal): Promise<void> {
  await waitFor(`${portal.id}'s log queue to drain`, async () => {
    const [row] = await queryDatabase<{ n: number }>(
      portal.db.url,
      'SELECT count(*)::int AS n FROM log_queue',
    );
    return row!.n === 0;
  });
}

function refusal(answer: Answer): { status: number; code: unknown; reason: unknown } {
  return { status: answer.status, code: answer.fields.Error, reason: answer.fields.Reason };
}

describe('a rogue portal cannot fool its clients (issue #14, holes 1, 2 and 5)', () => {
  let alpha: Portal;
  let beta: Portal;

  beforeAll(async () => {
    alpha = await startPortal('alpha');
    beta = await startPortal('beta');
  }, 60_000);

  afterAll(async () => {
    await stopPortal(alpha);
    await stopPortal(beta);
  });

  it('the swapped device: accept refuses a request whose witness it cannot reproduce; nothing is re-encrypted to the attacker', async () => {
    const ACCOUNT = 'swap@example.com';
    const admin = new MeshProfileManager(new MemoryClientStore());
    await admin.createProfile({ gatewayUrl: alpha.url, account: ACCOUNT });
    await new PasswordApp(admin).add('bank.example', { username: 'alice', password: 'first-secret' });
    const phone = new MeshProfileManager(new MemoryClientStore());
    const started = await phone.connect({ gatewayUrl: alpha.url, account: ACCOUNT, description: 'phone' });
    const [honest] = await admin.pending();
    expect(honest).toMatchObject({ requestId: started.requestId, witness: started.witness });

    const [original] = await queryDatabase<{ device: unknown; device_id: string }>(
      alpha.db.url,
      `SELECT device, device_id FROM connect_requests WHERE id = $1`,
      [started.requestId],
    );
    // The operator lists its own device under the real device's request, keeping its nonce.
    const keys = generateDeviceKeys();
    const attacker = await buildDeviceProfile(
      { encryption: keys.encryption, description: 'phone' },
      keys.signature,
    );
    await queryDatabase(
      alpha.db.url,
      `UPDATE connect_requests SET device = $1::jsonb, device_id = $2 WHERE id = $3`,
      [JSON.stringify(jws(attacker)), attacker.profile.id, started.requestId],
    );
    const before = await logged(alpha);
    const [swapped] = await admin.pending();
    expect(swapped).toMatchObject({ requestId: started.requestId, deviceId: attacker.profile.id });
    expect(swapped!.witness).not.toBe(started.witness);
    expect(await failure(admin.accept(started.requestId, started.witness))).toMatchObject({
      code: 'verify.witness',
      check: 'connection witness',
    });

    // Or the real device with another nonce (the operator's choice): refused the same way.
    await queryDatabase(
      alpha.db.url,
      `UPDATE connect_requests SET device = $1::jsonb, device_id = $2, nonce = $3 WHERE id = $4`,
      [JSON.stringify(original!.device), original!.device_id, connectNonce(), started.requestId],
    );
    expect(await failure(admin.accept(started.requestId, started.witness))).toMatchObject({
      code: 'verify.witness',
    });
    // And a nonce from which no witness can be computed.
    await queryDatabase(alpha.db.url, `UPDATE connect_requests SET nonce = 'AAAA' WHERE id = $1`, [
      started.requestId,
    ]);
    expect(await failure(admin.accept(started.requestId, started.witness))).toMatchObject({
      code: 'verify.answer',
    });

    // Nothing was logged, no Personal Profile lists the attacker, no application was re-encrypted.
    expect(await logged(alpha)).toEqual(before);
    expect(JSON.stringify(before.catalog_objects)).not.toContain(attacker.profile.id);
    expect(await phone.connectStatus()).toEqual({ result: 'pending' });
    expect((await admin.devices()).map((d) => d.id)).not.toContain(attacker.profile.id);
  }, 120_000);

  it('the cross-portal replay: a request signed for alpha is refused at beta (request.wrong-portal) and changes nothing there', async () => {
    const alice = await TestAccount.create('replay@example.com', undefined, alpha.origin);
    expect((await post(alpha.url, 'CreateAccount', await alice.createAccount())).status).toBe(200);
    // The same account (same keys) at beta, as after a `mesh portal switch`.
    alice.portal = beta.origin;
    expect((await post(beta.url, 'CreateAccount', await alice.createAccount())).status).toBe(200);

    // A DeleteAccount alice signed for alpha, logged publicly there; the attacker replays it at beta.
    alice.portal = alpha.origin;
    const deletion = await alice.deleteAccount();
    const status = await alice.authenticated('Status');
    await drained(beta);
    const before = await snapshotDatabase(beta.db.url);
    const replayed = await post(beta.url, 'DeleteAccount', deletion);
    expect(refusal(replayed)).toEqual({
      status: 403,
      code: 'auth.wrong-portal',
      reason: 'request.wrong-portal',
    });
    expect(refusal(await post(beta.url, 'Status', status))).toEqual({
      status: 403,
      code: 'auth.wrong-portal',
      reason: 'request.wrong-portal',
    });
    const after = await snapshotDatabase(beta.db.url);
    for (const table of ['accounts', 'catalog_objects', 'log_queue', 'log_entries', 'request_nonces'])
      expect(after[table]).toEqual(before[table]);

    // At alpha, where it was meant to go, the same request is accepted.
    expect((await post(alpha.url, 'DeleteAccount', deletion)).status).toBe(200);
    alice.portal = beta.origin;
    expect((await post(beta.url, 'Status', await alice.authenticated('Status'))).status).toBe(200);
  }, 60_000);

  it('the small-order key: a Device Profile with the identity point as key and a forged signature is refused', async () => {
    const alice = await TestAccount.create('weak@example.com', undefined, alpha.origin);
    expect((await post(alpha.url, 'CreateAccount', await alice.createAccount())).status).toBe(200);
    const forged = forgedDeviceProfile();
    await drained(alpha);
    const before = await snapshotDatabase(alpha.db.url);
    const started = await post(alpha.url, 'ConnectStart', {
      Account: alice.address,
      Device: forged.jws as unknown as Record<string, unknown>,
      Nonce: connectNonce(),
    });
    expect(refusal(started)).toEqual({ status: 400, code: 'profile.invalid', reason: 'profile.malformed' });
    // Published by alice's own administrator device: the profile itself is what is refused.
    const published = await post(alpha.url, 'Publish', await alice.publish('create', forged));
    expect(refusal(published)).toEqual({ status: 400, code: 'profile.invalid', reason: 'profile.malformed' });
    // A request "signed" by the identity point: no Personal Profile can list that key (profiles carrying
    // it are refused when read), so the gateway never takes it for a device of the account.
    const body = { Account: alice.address, Id: alice.personal.profile.id };
    const forgedRequest = forgeJws(
      utf8(
        JSON.stringify({
          Request: 'Get',
          Portal: alpha.origin,
          Account: alice.udf,
          Device: forged.profile.id,
          Time: Date.now(),
          Nonce: connectNonce(),
          Body: requestBodyUdf(body),
        }),
      ),
      REQUEST_TYPE,
    );
    const get = await post(alpha.url, 'Get', {
      ...body,
      Authentication: forgedRequest as unknown as Record<string, unknown>,
    });
    expect(refusal(get)).toEqual({
      status: 401,
      code: 'auth.unknown-device',
      reason: 'request.unknown-device',
    });
    const after = await snapshotDatabase(alpha.db.url);
    for (const table of [
      'accounts',
      'catalog_objects',
      'connect_requests',
      'log_queue',
      'log_entries',
      'request_nonces',
    ])
      expect(after[table]).toEqual(before[table]);
  }, 60_000);
});
