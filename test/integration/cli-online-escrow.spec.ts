import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadMasterKey,
  MeshProfileManager,
  portalErrorCode,
  restoreRequestDigest,
  sealRestorePackage,
} from '@cryptomesh/client';
import { generateKeyPair, readJwk, type FlattenedJws, type KeyPair } from '@cryptomesh/crypto';
import { buildMasterProfile } from '@cryptomesh/mesh';
import { FileClientStore } from '../../apps/cli/src/home/file-client-store';
import { freshHome, jsonError, mesh, meshJson } from '../../apps/cli/test/built-mesh';
import { startTestFederation, type Federation } from '../support/federation';
import { fetchLog, waitFor, type KnownPortal } from '../support/federation-oracle';
import { RoguePortal } from '../support/rogue-portal';

/**
 * Issue #19 item 3, online escrow, through the BUILT `mesh` binary against a three-portal federation
 * (plus a rogue peer for the auditors' side): a user names an escrow agent's key (`mesh escrow online
 * add`), which the Master Profile carries and every auditor re-checks without a finding; the user's
 * devices are lost; the agent, shown a restore request signed with the user's consent code, restores
 * the account's application data to a new device. Bad cases: the agent without the consent, a
 * non-administrator naming or removing an agent (gateway 403, and an auditor `rule` finding for one a
 * peer logged), a tampered escrow entry.
 */
interface Request {
  requestId: string;
  witness: string;
  deviceId: string;
}
interface Named {
  agent: string;
  consent: string;
  code: string;
  account: string;
  fingerprint: string;
}
interface Opened {
  account: string;
  fingerprint: string;
  applications: { type: string; name: string; private?: unknown }[];
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

/**
 * What anyone who saw a restore request can make: a package to its device key, for its account and
 * request, with a key of their own where the agent's belongs (#19 item 3 review, finding 4).
 */
async function forgePackage(requestFile: string): Promise<string> {
  const jws = JSON.parse(readFileSync(requestFile, 'utf8')) as FlattenedJws;
  const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as {
    Account: string;
    Fingerprint: string;
    Device: unknown;
    Created: number;
  };
  const device = { algorithm: 'X25519' as const, publicKey: readJwk(payload.Device).publicKey };
  const pkg = { account: payload.Account, fingerprint: payload.Fingerprint };
  return sealRestorePackage(
    {
      ...pkg,
      applications: [{ type: 'password', name: 'default', public: {}, private: { secret: 'forged' } }],
    },
    { ...pkg, device, created: payload.Created },
    { privateKey: generateKeyPair('X25519').privateKey, requestDigest: restoreRequestDigest(jws) },
  );
}

describe('online escrow (issue #19 item 3)', () => {
  const ACCOUNT = 'erin@example.com';
  const homes: string[] = [];
  const home = (label: string) => {
    const dir = freshHome(label);
    homes.push(dir);
    return dir;
  };
  const owner = home('owner');
  const phone = home('phone');
  const agent = home('agent');
  const newDevice = home('new-device');
  const thief = home('thief');
  let federation: Federation;
  let rogue: RoguePortal;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  let portals: KnownPortal[];
  let named: Named;

  beforeAll(async () => {
    rogue = new RoguePortal(`escrower-${Date.now().toString(36)}`, process.env.KAFKA_BROKERS!.split(','));
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

  const agentKeyFile = join(agent, 'agent-public.json');
  const addPassword = (dir: string, site: string, password: string) =>
    meshJson(dir, ['password', 'add', site, '--username', 'erin', '--password', password]);
  const request = (dir: string, code: string, out: string) =>
    meshJson(dir, [
      'escrow',
      'online',
      'request',
      '--account',
      ACCOUNT,
      '--fingerprint',
      named.fingerprint,
      '--code',
      code,
      '--out',
      out,
    ]);
  const restore = (requestFile: string, out: string) =>
    mesh(agent, [
      '--json',
      'escrow',
      'online',
      'restore',
      requestFile,
      '--portal',
      A.gatewayUrl,
      '--out',
      out,
    ]);

  /** A request with the current consent code from `dir`, the agent's restore, the package opened there. */
  const agentRestores = async (dir: string) => {
    const requestFile = join(dir, 'request.json');
    const packageFile = join(dir, 'package.txt');
    await request(dir, named.code, requestFile);
    const restored = await restore(requestFile, packageFile);
    expect(restored.code).toBe(0);
    const made = JSON.parse(restored.stdout) as { applications: string[]; unreadable: string[] };
    const opened = await meshJson<Opened>(dir, [
      'escrow',
      'online',
      'open',
      packageFile,
      '--portal',
      A.gatewayUrl,
    ]);
    return { made, opened, packageFile, data: JSON.stringify(opened.applications) };
  };

  it('an administrator names an agent key; the Master Profile carries it and every auditor agrees', async () => {
    await meshJson(owner, ['profile', 'create', '--portal', A.gatewayUrl, '--account', ACCOUNT]);
    await addPassword(owner, 'example.com', 'correct horse');
    const r = await meshJson<Request>(phone, [
      'device',
      'connect',
      '--portal',
      A.gatewayUrl,
      '--account',
      ACCOUNT,
      '--wait',
      '0',
    ]);
    await meshJson(owner, ['device', 'accept', r.requestId, '--witness', r.witness]);
    expect(await meshJson(phone, ['device', 'connect', '--wait', '30'])).toMatchObject({
      result: 'accepted',
    });

    const key = await meshJson<{ agent: string }>(agent, [
      'escrow',
      'online',
      'agent-key',
      '--out',
      agentKeyFile,
    ]);
    named = await meshJson<Named>(owner, ['escrow', 'online', 'add', agentKeyFile]);
    expect(named).toMatchObject({ agent: key.agent, account: ACCOUNT });
    expect(named.code).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    // Every device reads the entry from the portal; data written now is encrypted to the agent too.
    expect(await meshJson(phone, ['escrow', 'online', 'list'])).toEqual({
      agents: [{ agent: key.agent, consent: named.consent }],
    });
    await addPassword(phone, 'later.org', 'battery staple');

    // #19 item 3 review: granting and withdrawing administrator rights keeps the entry (the same
    // agent and consent key), and the phone is a demoted administrator for the bad cases below.
    for (const act of ['promote', 'demote']) {
      await meshJson(owner, ['device', act, r.deviceId]);
      expect(await meshJson(phone, ['escrow', 'online', 'list'])).toEqual({
        agents: [{ agent: key.agent, consent: named.consent }],
      });
    }
    // The phone's ordinary write (after the naming, no re-encryption since) is readable by the agent,
    // and the consent code still works after the promotion and demotion.
    const early = await agentRestores(home('early-device'));
    expect(early.made).toMatchObject({ applications: ['password/default'], unreadable: [] });
    expect(early.data).toContain('battery staple');
    await auditedByPeers();
  }, 300_000);

  it('a non-administrator naming or removing an agent: refused by the CLI, and by the gateway even with the master key (403)', async () => {
    for (const args of [
      ['escrow', 'online', 'add', agentKeyFile],
      ['escrow', 'online', 'remove'],
    ]) {
      const run = await mesh(phone, args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/this is not an administrator device of erin@example\.com/);
    }
    const manager = new MeshProfileManager(new FileClientStore(phone));
    const { session, doc } = await manager.open();
    const masterKey = (await loadMasterKey(new FileClientStore(owner)))!;
    const m = doc.master.profile;
    const other = generateKeyPair('X25519');
    const consent = generateKeyPair('Ed25519');
    for (const escrow of [{ escrow: other, escrowConsent: consent }, {}]) {
      const master = await buildMasterProfile(
        { administrators: m.administrators, ...escrow, sequence: m.sequence + 1, created: m.created },
        masterKey,
      );
      expect(await refusal(session.publish('update', master))).toBe('auth.not-administrator');
    }
    expect(await meshJson(owner, ['escrow', 'online', 'list'])).toMatchObject({
      agents: [{ agent: named.agent }],
    });

    // #19 item 3 review: an agent key nothing can be encrypted to (a small-order point) is refused
    // before anything is published; named, it would fail every later application write.
    const lowOrder = join(owner, 'low-order.json');
    writeFileSync(
      lowOrder,
      JSON.stringify({ kty: 'OKP', crv: 'X25519', x: Buffer.alloc(32).toString('base64url') }),
    );
    const refused = await mesh(owner, ['--json', 'escrow', 'online', 'add', lowOrder]);
    expect(refused.code).toBe(2);
    expect(jsonError(refused)).toMatchObject({ code: 'usage.invalid', check: 'agent key' });
    expect(await meshJson(owner, ['escrow', 'online', 'list'])).toMatchObject({
      agents: [{ agent: named.agent, consent: named.consent }],
    });
  }, 120_000);

  it('a tampered escrow entry (another agent key under the genuine signature) is refused by the gateway', async () => {
    const manager = new MeshProfileManager(new FileClientStore(owner));
    const { session, doc } = await manager.open();
    const masterKey = (await loadMasterKey(new FileClientStore(owner)))!;
    const m = doc.master.profile;
    const make = (escrow: KeyPair<'X25519'>) =>
      buildMasterProfile(
        {
          administrators: m.administrators,
          escrow,
          escrowConsent: m.escrowConsent!,
          sequence: m.sequence + 1,
          created: m.created,
        },
        masterKey,
      );
    const genuine = await make(generateKeyPair('X25519'));
    const wanted = await make(generateKeyPair('X25519'));
    const tampered = { ...wanted, jws: { ...wanted.jws, signature: genuine.jws.signature } };
    expect(await refusal(session.publish('update', tampered))).toBe('profile.bad-signature');
    expect(await meshJson(owner, ['escrow', 'online', 'list'])).toMatchObject({
      agents: [{ agent: named.agent }],
    });
  }, 120_000);

  it('a non-administrator naming an agent in a log a peer sealed is a rule finding at every portal', async () => {
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
      { kind: 'set-administrators', administrators: ['admin'], sequence: 1, by: 'second', escrow: true },
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

  it("the devices are lost: without the user's consent the agent refuses; with it, a new device reads the account's data", async () => {
    // Removing the agent voids every consent; naming it again draws a new consent code.
    const removed = await meshJson<{ removed: string }>(owner, ['escrow', 'online', 'remove', named.agent]);
    expect(removed.removed).toBe(named.agent);
    const oldCode = named.code;
    named = await meshJson<Named>(owner, ['escrow', 'online', 'add', agentKeyFile]);
    expect(named.code).not.toBe(oldCode);
    // The last re-encryption is a device removal's (#19 item 3 review): it keeps the agent a recipient.
    const devices = await meshJson<{ devices: { id: string; self: boolean }[] }>(owner, ['device', 'list']);
    const phoneId = devices.devices.find((d) => !d.self)!.id;
    await meshJson(owner, ['device', 'remove', phoneId]);
    await auditedByPeers();

    rmSync(owner, { recursive: true, force: true });
    rmSync(phone, { recursive: true, force: true });

    // Without consent: a request signed with a code that is not the account's (the agent's own guess,
    // a thief's), or with the consent the user withdrew by removing the agent.
    const guessed = '7777-7777-7777-7777-7777-7777-7777-7777-7777-7777-7777-7777-777A';
    for (const [code, why] of [
      [guessed, /not signed by the consent key/],
      [oldCode, /not signed by the consent key/],
    ] as const) {
      const file = join(thief, 'request.json');
      await request(thief, code, file);
      const refused = await restore(file, join(thief, 'package'));
      expect(refused.code).toBe(2);
      expect(jsonError(refused)).toMatchObject({ code: 'usage.invalid', check: 'escrow consent' });
      expect(jsonError(refused)?.message).toMatch(why);
    }

    // With the user's consent: the new device asks, the agent restores, the new device reads.
    const requestFile = join(newDevice, 'request.json');
    const packageFile = join(newDevice, 'package.txt');
    await request(newDevice, named.code, requestFile);
    const restored = await restore(requestFile, packageFile);
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({
      account: ACCOUNT,
      applications: ['password/default'],
      unreadable: [],
    });
    // Review finding 4: a package forged by someone who saw the request only (a fresh X25519 key of
    // their own in the agent's place) is refused, and nothing is kept.
    const forgedFile = join(thief, 'forged.txt');
    writeFileSync(forgedFile, await forgePackage(requestFile));
    const forged = await mesh(newDevice, [
      '--json',
      'escrow',
      'online',
      'open',
      forgedFile,
      '--portal',
      A.gatewayUrl,
    ]);
    expect(forged.code).toBe(2);
    expect(jsonError(forged)).toMatchObject({ code: 'usage.invalid', check: 'restore package agent' });
    expect(existsSync(join(newDevice, 'restored'))).toBe(false);

    const opened = await meshJson<Opened>(newDevice, [
      'escrow',
      'online',
      'open',
      packageFile,
      '--portal',
      A.gatewayUrl,
    ]);
    expect(opened).toMatchObject({ account: ACCOUNT, fingerprint: named.fingerprint });
    const data = JSON.stringify(opened.applications);
    expect(data).toContain('correct horse');
    expect(data).toContain('battery staple');

    // The package is the new device's only: the thief's home cannot open it.
    const stolen = await mesh(thief, [
      '--json',
      'escrow',
      'online',
      'open',
      packageFile,
      '--portal',
      A.gatewayUrl,
    ]);
    expect(stolen.code).toBe(2);
    expect(jsonError(stolen)).toMatchObject({ code: 'usage.invalid', check: 'restore package' });
    for (const portal of portals) expect(await findingsAt(portal, A.id)).toEqual([]);
  }, 240_000);
});
