import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freshHome,
  jsonError,
  mesh,
  meshJson,
  startMesh,
  type RunningMesh,
} from '../../apps/cli/test/built-mesh';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { spawnListening, type ListeningProcess } from '../support/listening-process';

/**
 * Issue #7's first acceptance line, through the BUILT `mesh` binary against a running all-in-one
 * portal (dist/apps/portal on this run's PostgreSQL): create a profile, connect a second device,
 * store and read passwords from both, remove a device (which then cannot read what is written
 * later), escrow, and recover on a third fresh home. Each home is its own MESH_HOME, as three
 * machines would be. Steps run in order and share state.
 */
const ROOT = join(__dirname, '../..');
const ACCOUNT = 'alice@example.com';
const SHARE = /^S[A-Z2-7]{3}(-[A-Z2-7]{1,4})+$/;
const UDF = /^M[A-Z2-7]{3}(-[A-Z2-7]{4})+$/;

interface Created {
  account: string;
  fingerprint: string;
  deviceId: string;
  portal: { id: string; gatewayUrl: string; queryUrl: string };
}
interface Entry {
  site: string;
  username: string;
  password?: string;
}

describe('the mesh profile manager end to end (built CLI, one portal)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cmp-cli-portal-'));
  const homes = { one: freshHome('one'), two: freshHome('two'), three: freshHome('three') };
  let db: TestDatabase;
  let portal: ListeningProcess;
  let connecting: RunningMesh | undefined;
  let created: Created;
  let secondDevice: string;

  beforeAll(async () => {
    db = await createTestDatabase('cliprofile');
    portal = await spawnListening(
      'the portal',
      ['dist/apps/portal/apps/portal/src/main.js'],
      { DATABASE_URL: db.url, PORT: '0', DATA_DIR: dataDir, SEAL_INTERVAL_MS: '200' },
      { cwd: ROOT, timeoutMs: 60_000 },
    );
  }, 90_000);

  afterAll(async () => {
    if (connecting?.child.exitCode === null) connecting.child.kill('SIGKILL');
    if (portal !== undefined) await stop(portal);
    await db?.drop();
    for (const dir of [dataDir, ...Object.values(homes)]) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('creates the profile on the first home and shows it, verified from the log', async () => {
    const run = await mesh(homes.one, ['profile', 'create', '--portal', portal.url, '--account', ACCOUNT]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`contacting portal ${portal.url} …`);
    expect(run.stderr).toMatch(/pinned portal local: log key \S+, quorum 0/);
    const fingerprint = /^fingerprint (\S+)$/m.exec(run.stdout)?.[1];
    expect(fingerprint).toMatch(UDF);

    const shown = await meshJson<Created & { status: string; devices: number; verified: unknown }>(
      homes.one,
      ['profile', 'show', '--verify'],
    );
    created = shown;
    expect(shown).toMatchObject({ status: 'active', account: ACCOUNT, fingerprint, devices: 1 });
    expect(shown.verified).toEqual({
      via: 'local',
      profiles: [
        expect.objectContaining({ kind: 'master', log: 'local', id: fingerprint }),
        expect.objectContaining({ kind: 'personal', log: 'local' }),
      ],
    });
    // A second profile on the same home is refused as bad usage.
    const again = await mesh(homes.one, ['profile', 'create', '--portal', portal.url, '--account', ACCOUNT]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^mesh: this home already holds the profile of alice@example\.com/m);
  }, 60_000);

  it('connects a second device while the first accepts it', async () => {
    connecting = startMesh(homes.two, [
      '--json',
      'device',
      'connect',
      '--portal',
      portal.url,
      '--account',
      ACCOUNT,
      '--wait',
      '30',
      '--description',
      'laptop',
    ]);
    const witness = await until(
      () => /compare the witness (\S+)/.exec(connecting!.stderr())?.[1],
      'the new device to show its witness',
    );
    const requests = await until(async () => {
      const pending = await meshJson<{ requests: Array<{ requestId: string; witness: string }> }>(homes.one, [
        'device',
        'pending',
      ]);
      return pending.requests.length > 0 ? pending.requests : undefined;
    }, 'the request to be pending');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.witness).toBe(witness);
    expect(connecting.stderr()).toMatch(/waiting for an administrator to accept \(request \S+\)/);

    const human = await mesh(homes.one, ['device', 'pending']);
    expect(human.stdout).toContain(`${requests[0]!.requestId}  device`);
    const accepted = await meshJson<{ device: { id: string; description: string } }>(homes.one, [
      'device',
      'accept',
      requests[0]!.requestId,
      '--witness',
      witness,
    ]);
    expect(accepted.device.description).toBe('laptop');
    secondDevice = accepted.device.id;

    const connected = await connecting.done;
    expect(connected.code).toBe(0);
    expect(JSON.parse(connected.stdout)).toMatchObject({
      result: 'accepted',
      fingerprint: created.fingerprint,
      deviceId: secondDevice,
      account: ACCOUNT,
    });
    const devices = await meshJson<{ devices: Array<{ id: string; self: boolean }> }>(homes.two, [
      'device',
      'list',
    ]);
    expect(devices.devices.map((d) => d.id).sort()).toEqual([created.deviceId, secondDevice].sort());
    expect(devices.devices.find((d) => d.self)?.id).toBe(secondDevice);
  }, 90_000);

  it('stores a password on each device and reads it on the other', async () => {
    const added = await mesh(homes.one, [
      'password',
      'add',
      'Example.com',
      '--username',
      'alice',
      '--password',
      'correct horse',
    ]);
    expect(added).toMatchObject({ code: 0, stdout: 'stored the password of example.com for alice\n' });
    const onTwo = await mesh(homes.two, ['password', 'get', 'example.com']);
    expect(onTwo.code).toBe(0);
    expect(onTwo.stdout).toBe('site     example.com\nusername alice\npassword correct horse\n');

    // From standard input on the second device (no --password).
    await meshJson(homes.two, ['password', 'add', 'other.org', '--username', 'al'], 'battery staple\n');
    expect(await meshJson<Entry>(homes.one, ['password', 'get', 'other.org'])).toMatchObject({
      site: 'other.org',
      username: 'al',
      password: 'battery staple',
    });
    const list = await meshJson<{ entries: Entry[] }>(homes.two, ['password', 'list']);
    expect(list.entries.map((e) => [e.site, e.username, e.password])).toEqual([
      ['example.com', 'alice', undefined],
      ['other.org', 'al', undefined],
    ]);
    const missing = await mesh(homes.one, ['--json', 'password', 'get', 'nowhere.net']);
    expect(missing.code).toBe(1);
    expect(jsonError(missing)).toMatchObject({
      code: 'state.missing',
      message: 'no password is stored for nowhere.net',
    });
  }, 90_000);

  it('removes the second device, which cannot read a password written afterwards', async () => {
    expect(await meshJson(homes.one, ['device', 'remove', secondDevice])).toEqual({
      removed: secondDevice,
      catalogs: {
        rewritten: { contact: 0, application: 0, credential: 0 },
        tombstones: { contact: 0, application: 0, credential: 0 },
      },
    });
    await meshJson(homes.one, [
      'password',
      'add',
      'later.net',
      '--username',
      'a',
      '--password',
      'after removal',
    ]);
    const denied = await mesh(homes.two, ['password', 'get', 'later.net']);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toBe('');
    // One line naming the portal and what failed, with the stable code.
    const line = denied.stderr.split('\n').find((l) => l.startsWith('mesh: '));
    expect(line).toMatch(
      /^mesh: .*(not a device|no longer connected).*\[(portal\.refused|state\.missing)\]$/,
    );
    expect(line).toContain(portal.url.replace(/\/$/, ''));
    const json = await mesh(homes.two, ['--json', 'password', 'get', 'later.net']);
    expect(json.code).toBe(1);
    expect(jsonError(json)?.code).toMatch(/^(portal\.refused|state\.missing)$/);
    const devices = await meshJson<{ devices: Array<{ id: string }> }>(homes.one, ['device', 'list']);
    expect(devices.devices.map((d) => d.id)).toEqual([created.deviceId]);
  }, 90_000);

  it('escrows the profile and recovers it on a fresh third home from two of three shares', async () => {
    const printed = await mesh(homes.one, ['escrow', 'create', '--threshold', '2', '--shares', '3']);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const share of lines) expect(share).toMatch(SHARE);
    expect(printed.stderr).toMatch(/any 2 recover the profile/);

    const escrow = await meshJson<{ shares: string[]; threshold: number; key: string }>(homes.one, [
      'escrow',
      'create',
      '--threshold',
      '2',
      '--shares',
      '3',
    ]);
    expect(escrow.threshold).toBe(2);
    expect(escrow.shares).toHaveLength(3);

    const tooFew = await mesh(homes.three, ['escrow', 'recover', lines[0]!, '--portal', portal.url]);
    expect(tooFew.code).toBe(2);
    expect(tooFew.stderr).toMatch(/^mesh: the shares do not recover a key: .*\[usage\.invalid\]$/m);

    const recovered = await mesh(homes.three, [
      'escrow',
      'recover',
      lines[0]!,
      lines[2]!,
      '--portal',
      portal.url,
      '--account',
      ACCOUNT,
    ]);
    expect(recovered.code).toBe(0);
    expect(recovered.stdout).toContain(`recovered the profile of ${ACCOUNT}`);
    expect(recovered.stdout).toContain(`fingerprint ${created.fingerprint}`);

    const list = await meshJson<{ entries: Entry[] }>(homes.three, ['password', 'list']);
    expect(list.entries.map((e) => e.site)).toEqual(['example.com', 'later.net', 'other.org']);
    expect(await meshJson<Entry>(homes.three, ['password', 'get', 'later.net'])).toMatchObject({
      username: 'a',
      password: 'after removal',
    });
    const human = await mesh(homes.three, ['password', 'get', 'example.com']);
    expect(human.stdout).toContain('password correct horse');
    // The recovered device is an administrator holding the master key: it can escrow again.
    const shown = await meshJson<{ fingerprint: string }>(homes.three, ['profile', 'show', '--verify']);
    expect(shown.fingerprint).toBe(created.fingerprint);

    // A second, JSON-printed escrow recovers too (on yet another fresh home).
    const four = freshHome('four');
    try {
      const again = await meshJson<{ fingerprint: string; account: string }>(four, [
        'escrow',
        'recover',
        escrow.shares[1]!,
        escrow.shares[2]!,
        '--portal',
        portal.url,
      ]);
      expect(again).toMatchObject({ fingerprint: created.fingerprint, account: ACCOUNT });
    } finally {
      rmSync(four, { recursive: true, force: true });
    }
  }, 120_000);
});

/** SIGTERM, then SIGKILL if it is still running 5 s later; resolves once it exited. */
async function stop(process: ListeningProcess): Promise<void> {
  const { child } = process;
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Polls `probe` every 250 ms until it gives a value, for at most `timeoutMs`. */
async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
