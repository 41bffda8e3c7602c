import { rmSync } from 'node:fs';
import {
  loadMasterKey,
  MeshProfileManager,
  nextPersonalInput,
  portalErrorCode,
  readProfileDocument,
} from '@cryptomesh/client';
import { buildMasterProfile, buildPersonalProfile, deviceEntry } from '@cryptomesh/mesh';
import { FileClientStore } from '../../apps/cli/src/home/file-client-store';
import { freshHome, jsonError, mesh, meshJson } from '../../apps/cli/test/built-mesh';
import { flatJws, jwsOf } from '../../libs/client/src/profile-document';
import { startTestFederation, type Federation } from '../support/federation';
import { fetchLog, waitFor, type KnownPortal } from '../support/federation-oracle';
import { post } from '../support/mesh-client';
import { RoguePortal } from '../support/rogue-portal';

/**
 * Issue #19, items 1 and 5, through the BUILT `mesh` binary against a three-portal federation (plus
 * a rogue peer that holds its own log key): several administrators — granted with `accept --admin`
 * and `promote`, withdrawn with `demote` and `remove` — checked by A's gateway and re-checked by
 * every auditor without a finding, while a forged promotion is a rule finding everywhere; then an
 * account's deletion: its pending connection requests, its escrow blob, and its address.
 */
interface Request {
  requestId: string;
  witness: string;
  deviceId: string;
}
interface Device {
  id: string;
  administrator: boolean;
  self: boolean;
}
interface FindingJson {
  kind: string;
  code: string;
  verified: boolean;
}

/** The portal's error code of a refused SDK call (the test fails when it was not refused). */
async function refusal(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (error) {
    return portalErrorCode(error);
  }
  throw new Error('the portal accepted it');
}

describe("an account's life across the federation (issue #19)", () => {
  const homes: string[] = [];
  const home = (label: string) => {
    const dir = freshHome(label);
    homes.push(dir);
    return dir;
  };
  let federation: Federation;
  let rogue: RoguePortal;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  let portals: KnownPortal[];

  beforeAll(async () => {
    rogue = new RoguePortal(`forger-${Date.now().toString(36)}`, process.env.KAFKA_BROKERS!.split(','));
    await rogue.connect();
    federation = await startTestFederation({
      extraPeers: [rogue.peer],
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, LOG_LEVEL: 'warn' },
    });
    portals = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
  }, 240_000);

  afterAll(async () => {
    await rogue?.close().catch(() => undefined);
    await federation?.stop();
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const findingsAt = async (portal: KnownPortal, subject: string): Promise<FindingJson[]> => {
    const res = await fetch(`${portal.queryUrl}/findings?subject=${subject}&limit=1000`);
    return ((await res.json()) as { findings: FindingJson[] }).findings;
  };

  /** Every peer holds A's whole log as A shows it now: it verified (and re-checked) every entry. */
  const auditedByPeers = async () => {
    const own = await fetchLog(A.queryUrl, 'self', A);
    for (const holder of [B, C])
      await waitFor(
        `${holder.id} mirrors ${A.id} up to ${own!.seal.size}`,
        async () => ((await fetchLog(holder.queryUrl, A.id, A))?.seal.size ?? 0) >= own!.seal.size,
        60_000,
      );
    for (const portal of portals) expect(await findingsAt(portal, A.id)).toEqual([]);
  };

  const requestConnect = (dir: string, account: string, description: string) =>
    meshJson<Request>(dir, [
      'device',
      'connect',
      '--portal',
      A.gatewayUrl,
      '--account',
      account,
      '--description',
      description,
      '--wait',
      '0',
    ]);
  const finishConnect = async (dir: string) =>
    expect(await meshJson(dir, ['device', 'connect', '--wait', '30'])).toMatchObject({ result: 'accepted' });
  const devicesOf = async (dir: string) =>
    (await meshJson<{ devices: Device[] }>(dir, ['device', 'list'])).devices;

  describe('several administrators (item 1)', () => {
    const ACCOUNT = 'dora@example.com';
    const owner = home('owner');
    const second = home('second');
    const third = home('third');
    const fourth = home('fourth');
    let ownerId: string;
    let r2: Request;
    let r3: Request;

    it('accept --admin makes a second administrator, which approves a device without the master key', async () => {
      await meshJson(owner, ['profile', 'create', '--portal', A.gatewayUrl, '--account', ACCOUNT]);
      ownerId = (await devicesOf(owner)).find((d) => d.self)!.id;

      r2 = await requestConnect(second, ACCOUNT, 'tablet');
      const accepted = await meshJson<{ device: Device }>(owner, [
        'device',
        'accept',
        r2.requestId,
        '--witness',
        r2.witness,
        '--admin',
      ]);
      expect(accepted.device).toMatchObject({ id: r2.deviceId, administrator: true });
      await finishConnect(second);

      r3 = await requestConnect(third, ACCOUNT, 'phone');
      const human = await mesh(second, ['device', 'accept', r3.requestId, '--witness', r3.witness]);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`accepted device ${r3.deviceId} (phone)`);
      await finishConnect(third);

      const seen = await devicesOf(third);
      expect(seen.map((d) => [d.id, d.administrator])).toEqual([
        [ownerId, true],
        [r2.deviceId, true],
        [r3.deviceId, false],
      ]);
      await auditedByPeers();
    }, 180_000);

    it('a non-administrator promoting: refused by the CLI, and by the gateway even with the master key', async () => {
      const run = await mesh(third, ['device', 'promote', r3.deviceId]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/this is not an administrator device of dora@example\.com/);

      // The SDK straight to the gateway, with a Master Profile the real master key signed.
      const manager = new MeshProfileManager(new FileClientStore(third));
      const { session, doc } = await manager.open();
      const masterKey = (await loadMasterKey(new FileClientStore(owner)))!;
      const m = doc.master.profile;
      const master = await buildMasterProfile(
        {
          administrators: [...m.administrators, doc.device.profile.signature],
          sequence: m.sequence + 1,
          created: m.created,
        },
        masterKey,
      );
      expect(await refusal(session.publish('update', master))).toBe('auth.not-administrator');
      expect((await devicesOf(owner)).find((d) => d.id === r3.deviceId)?.administrator).toBe(false);
    }, 120_000);

    it('a demoted administrator approving: refused by the CLI and by the gateway; the request stays for a real administrator', async () => {
      expect(await meshJson<{ device: Device }>(owner, ['device', 'demote', r2.deviceId])).toMatchObject({
        device: { id: r2.deviceId, administrator: false },
      });
      const r4 = await requestConnect(fourth, ACCOUNT, 'watch');
      const late = await mesh(second, ['device', 'accept', r4.requestId, '--witness', r4.witness]);
      expect(late.code).not.toBe(0);
      expect(late.stderr).toMatch(/this is not an administrator device/);

      // The demoted device signs the ConnectComplete itself and sends it.
      const manager = new MeshProfileManager(new FileClientStore(second));
      const opened = await manager.open();
      const doc = await manager.refresh(opened.session, opened.doc);
      const device = (await readProfileDocument(new FileClientStore(fourth)))!.device;
      const personal = await buildPersonalProfile(
        nextPersonalInput(doc.personal.profile, { add: [deviceEntry(device.profile)] }),
        opened.session.keys.signature,
      );
      const record = await opened.session.authorise({
        operation: 'ConnectComplete',
        account: doc.accountUdf,
        personal,
        device,
      });
      const sent = opened.session.gateway.send('ConnectComplete', {
        Account: doc.account,
        RequestId: r4.requestId,
        Accept: true,
        Personal: jwsOf(personal),
        Device: jwsOf(device),
        Authorisation: flatJws(record.authorisation),
      });
      expect(await refusal(sent)).toBe('auth.not-administrator');

      await meshJson(owner, ['device', 'accept', r4.requestId, '--witness', r4.witness]);
      await finishConnect(fourth);
    }, 120_000);

    it('the last administrator cannot be demoted; an administrator is removed with its right', async () => {
      const last = await mesh(owner, ['device', 'demote', ownerId]);
      expect(last.code).not.toBe(0);
      expect(last.stderr).toMatch(
        /is the last administrator of dora@example\.com: promote another device first/,
      );

      expect(await meshJson<{ device: Device }>(owner, ['device', 'promote', r3.deviceId])).toMatchObject({
        device: { id: r3.deviceId, administrator: true },
      });
      expect((await devicesOf(fourth)).filter((d) => d.administrator).map((d) => d.id)).toEqual([
        ownerId,
        r3.deviceId,
      ]);
      // Not the last one now, but a device does not demote itself (it would orphan what it signed).
      const self = await mesh(owner, ['device', 'demote', ownerId]);
      expect(self.code).not.toBe(0);
      expect(self.stderr).toMatch(/cannot withdraw its own administrator right/);
      await meshJson(owner, ['device', 'remove', r3.deviceId]);
      const left = await devicesOf(owner);
      expect(left.map((d) => [d.id, d.administrator])).toEqual([
        [ownerId, true],
        [r2.deviceId, false],
        [expect.any(String), false],
      ]);
      const removed = await mesh(third, ['device', 'list']);
      expect(removed.code).not.toBe(0);
      await auditedByPeers();
    }, 180_000);

    it('a forged promotion logged by a peer (a non-administrator publishing the Master Profile) is a rule finding at every portal', async () => {
      const n = rogue.log.nextAccountNumber;
      await rogue.publish(
        rogue.sealNext([
          ...(await rogue.log.entries(1)),
          await rogue.log.accountRequest(n, { kind: 'connect' }, 1),
        ]),
      );
      for (const portal of portals)
        await waitFor(`${portal.id} mirrors ${rogue.id}'s honest part`, async () => {
          const mirror = await fetchLog(portal.queryUrl, rogue.id, { ...rogue.peer, gatewayUrl: '' });
          return mirror?.seal.part.index === 0;
        });
      const attack = await rogue.log.accountRequest(
        n,
        { kind: 'set-administrators', administrators: ['admin', 'second'], sequence: 1, by: 'second' },
        2,
      );
      await rogue.publish(rogue.sealNext([attack]));
      for (const portal of portals)
        await waitFor(`${portal.id} records rule/request.not-administrator against ${rogue.id}`, async () =>
          (await findingsAt(portal, rogue.id)).some(
            (f) => f.kind === 'rule' && f.code === 'request.not-administrator' && f.verified,
          ),
        );
    }, 120_000);
  });

  describe('deleting an account (item 5)', () => {
    const ACCOUNT = 'erin@example.com';
    const owner = home('erin');
    const newcomer = home('erin-new');
    const heir = home('erin-heir');
    const again = home('erin-again');
    const elsewhere = home('erin-b');

    it('ends its pending connection requests, keeps the anonymous escrow blob, and the address is never free at A again', async () => {
      const created = await meshJson<{ fingerprint: string }>(owner, [
        'profile',
        'create',
        '--portal',
        A.gatewayUrl,
        '--account',
        ACCOUNT,
      ]);
      const escrow = await meshJson<{ key: string; shares: string[] }>(owner, [
        'escrow',
        'create',
        '--threshold',
        '2',
        '--shares',
        '3',
      ]);
      const pending = await requestConnect(newcomer, ACCOUNT, 'laptop');

      const unconfirmed = await mesh(owner, ['account', 'delete']);
      expect(unconfirmed.code).toBe(2);
      expect(await meshJson(owner, ['device', 'pending'])).toMatchObject({
        requests: [expect.objectContaining({ requestId: pending.requestId })],
      });
      expect(await meshJson(owner, ['account', 'delete', '--yes'])).toMatchObject({ deleted: ACCOUNT });

      // The pending request was rejected with the account (not left pending until it expires).
      const waited = await mesh(newcomer, ['--json', 'device', 'connect', '--wait', '30']);
      expect(waited.code).toBe(1);
      expect(jsonError(waited)?.code).toBe('connect.rejected');
      // Every later request for the account is refused.
      const later = await mesh(owner, ['--json', 'device', 'list']);
      expect(later.code).toBe(1);
      expect(jsonError(later)?.message).toMatch(/account\.unknown|no active account/);

      // The escrow blob names no account: it stays, and EscrowGet still serves it.
      const blob = await post(A.gatewayUrl, 'EscrowGet', { Key: escrow.key });
      expect(blob.status).toBe(200);
      // Recovering the deleted account from it at A is refused: the account is gone there.
      const recovered = await mesh(heir, [
        '--json',
        'escrow',
        'recover',
        escrow.shares[0]!,
        escrow.shares[1]!,
        '--portal',
        A.gatewayUrl,
        '--account',
        ACCOUNT,
      ]);
      expect(recovered.code).toBe(1);
      expect(jsonError(recovered)?.message).toMatch(/account\.unknown|no active account/);

      // The address: taken at A for ever (a CreateAccount of its UDF would be account.deleted to every auditor).
      const validate = await post(A.gatewayUrl, 'ValidateAccount', { Account: ACCOUNT });
      expect(validate.fields).toMatchObject({ Valid: true, Available: false });
      const retry = await mesh(again, [
        '--json',
        'profile',
        'create',
        '--portal',
        A.gatewayUrl,
        '--account',
        ACCOUNT,
      ]);
      expect(retry.code).toBe(1);
      expect(jsonError(retry)?.message).toMatch(/account\.exists|is taken on this portal/);

      // At another member of the federation it is a new account, with its own fingerprint.
      expect((await post(B.gatewayUrl, 'ValidateAccount', { Account: ACCOUNT })).fields).toMatchObject({
        Available: true,
      });
      const atB = await meshJson<{ fingerprint: string }>(elsewhere, [
        'profile',
        'create',
        '--portal',
        B.gatewayUrl,
        '--account',
        ACCOUNT,
      ]);
      expect(atB.fingerprint).not.toBe(created.fingerprint);
      await auditedByPeers();
      for (const portal of portals) expect(await findingsAt(portal, B.id)).toEqual([]);
    }, 240_000);
  });
});
