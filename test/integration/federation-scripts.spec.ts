import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, parseVerifierKey } from '@cryptomesh/log';
import {
  FEDERATION_SCRIPT,
  FEDERATION_SERVICES,
  startFederation,
  stopFederation,
  testFederationOptions,
  type Federation,
  type PortalsFile,
  type StartFederationOptions,
} from '../support/federation';

/**
 * deploy/federation/federation.js, as `npm run federation:up/down` and the end-to-end tests use it:
 * two portals of four built services each, on the run's broker and PostgreSQL.
 */

const TIMEOUT_MS = 120_000;

/** Running, and not a zombie (a process nobody reaped yet is gone for every purpose here). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true;
  }
}

async function databasesNamed(names: readonly string[]): Promise<string[]> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = ANY($1::text[])',
      [names],
    );
    return rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
}

/** The users connected to `database` now, other than the admin's own session. */
async function usersConnectedTo(database: string): Promise<string[]> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ usename: string }>(
      'SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [database],
    );
    return rows.map((r) => r.usename).sort();
  } finally {
    await client.end();
  }
}

async function rolesNamed(names: readonly string[]): Promise<string[]> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])',
      [names],
    );
    return rows.map((r) => r.rolname);
  } finally {
    await client.end();
  }
}

async function hello(gatewayUrl: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${gatewayUrl}/.well-known/mmm/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"HelloRequest":{}}',
  });
  expect(res.status).toBe(200);
  const json = (await res.json()) as { HelloResponse: Record<string, unknown> };
  return json.HelloResponse;
}

async function healthOf(url: string): Promise<number> {
  return (await fetch(`${url}/health`)).status;
}

function readPortalsFile(dir: string): PortalsFile {
  return JSON.parse(readFileSync(`${dir}/portals.json`, 'utf8')) as PortalsFile;
}

interface StateFile {
  portals: Array<{ id: string; database: string; services: Record<string, { pid: number | null }> }>;
}

function recordedPids(dir: string): number[] {
  const state = JSON.parse(readFileSync(`${dir}/state.json`, 'utf8')) as StateFile;
  return state.portals.flatMap((p) => Object.values(p.services).map((s) => s.pid!));
}

describe('local federation (deploy/federation/federation.js)', () => {
  let options: StartFederationOptions;
  let federation: Federation | undefined;
  const everyPid = new Set<number>();

  beforeAll(() => {
    options = testFederationOptions({
      portals: ['alpha', 'beta'],
      // One service of one portal gets a harmless node flag: nodeArgs as a function reaches only it.
      nodeArgs: (service, portal) => (service === 'query' && portal === 'beta' ? ['--no-deprecation'] : []),
    });
  });

  afterAll(async () => {
    await federation?.stop({ log: () => {} });
  }, TIMEOUT_MS);

  it(
    'starts two portals, writes portals.json, and every service is healthy',
    async () => {
      federation = await startFederation(options);
      const ids = options.portals!;
      const file = readPortalsFile(options.dir!);
      expect(Object.keys(file)).toEqual(['portals']);
      expect(file.portals.map((p) => p.id)).toEqual(ids);
      for (const entry of file.portals) {
        expect(Object.keys(entry)).toEqual([
          'id',
          'origin',
          'verifierKey',
          'witnessKey',
          'gatewayUrl',
          'queryUrl',
        ]);
        expect(entry.origin).toBe(`localhost/cryptomesh/${entry.id}`);
        expect(parseVerifierKey(entry.verifierKey)).toMatchObject({
          name: entry.origin,
          type: KEY_TYPE_ED25519,
        });
        expect(parseVerifierKey(entry.witnessKey)).toMatchObject({
          name: `${entry.origin}/witness`,
          type: KEY_TYPE_COSIGNATURE_V1,
        });
        expect(entry.gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(entry.queryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

        const portal = federation.portal(entry.id);
        expect(portal).toMatchObject(entry);
        expect(portal.urls.gateway).toBe(entry.gatewayUrl);
        expect(portal.urls.query).toBe(entry.queryUrl);
        expect(portal.database).toBe(`${options.prefix}_${entry.id}`);
        expect(portal.database).toMatch(new RegExp(`^${process.env.CMP_TEST_RUN_TAG}_`));

        expect(await hello(entry.gatewayUrl)).toMatchObject({
          PortalId: entry.id,
          Origin: entry.origin,
          VerifierKey: entry.verifierKey,
          WitnessKey: entry.witnessKey,
        });
        // Issue #15: each service connects as its own user (<database>_<service>), never as the owner.
        const userOf = (service: string) => `${portal.database}_${service}`.replace(/-/g, '_');
        const users = FEDERATION_SERVICES.map(userOf).sort();
        expect(
          Object.values(portal.serviceDatabaseUrls)
            .map((url) => decodeURIComponent(new URL(url).username))
            .sort(),
        ).toEqual(users);
        const connected = await usersConnectedTo(portal.database);
        expect(connected).toContain(userOf('log-signer')); // it holds the leader lock
        for (const user of connected) expect(users).toContain(user);
        for (const service of FEDERATION_SERVICES) {
          expect([service, await healthOf(portal.urls[service])]).toEqual([service, 200]);
          const pid = portal.pids[service]!;
          expect(alive(pid)).toBe(true);
          everyPid.add(pid);
          const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          expect([entry.id, service, argv.includes('--no-deprecation')]).toEqual([
            entry.id,
            service,
            entry.id === 'beta' && service === 'query',
          ]);
          // The replication service collects garbage on its main thread (docs/configuration.md
          // "Node flags"), as docker-compose.yml and deploy/k8s start it, and says so when it
          // listens.
          expect([service, argv.includes('--single-threaded-gc')]).toEqual([
            service,
            service === 'replication',
          ]);
          expect([service, argv.includes('--max-semi-space-size=8')]).toEqual([
            service,
            service === 'replication',
          ]);
          const listening = readFileSync(portal.logs[service], 'utf8')
            .split('\n')
            .filter((line) => line.includes('"listening"'))
            .map((line) => (JSON.parse(line) as { gc?: string }).gc);
          expect([service, listening]).toEqual([
            service,
            [service === 'replication' ? 'single-threaded' : 'parallel'],
          ]);
        }
      }
      expect(new Set(recordedPids(options.dir!))).toEqual(everyPid);
      expect((await databasesNamed(federation.portals.map((p) => p.database))).sort()).toEqual(
        federation.portals.map((p) => p.database).sort(),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'stops and restarts one replication service with the same port',
    async () => {
      const id = options.portals![1]!;
      const portal = federation!.portal(id);
      const before = portal.pids.replication!;
      const stopped = await federation!.stopService(id, 'replication');
      expect(stopped).toEqual({ code: 0, signal: null });
      expect(alive(before)).toBe(false);
      expect(portal.pids.replication).toBeNull();
      await expect(fetch(`${portal.urls.replication}/health`)).rejects.toThrow();
      expect(await healthOf(portal.urls.gateway)).toBe(200);

      await federation!.startService(id, 'replication');
      const after = portal.pids.replication!;
      expect(after).not.toBe(before);
      everyPid.add(after);
      expect(await healthOf(portal.urls.replication)).toBe(200);
      expect(recordedPids(options.dir!)).toContain(after);
    },
    TIMEOUT_MS,
  );

  it(
    'stopFederation leaves no process and no database, and is idempotent',
    async () => {
      const databases = federation!.portals.map((p) => p.database);
      const users = federation!.portals.flatMap((p) =>
        Object.values(p.serviceDatabaseUrls).map((url) => decodeURIComponent(new URL(url).username)),
      );
      expect(await rolesNamed(users)).toHaveLength(users.length);
      const logs = federation!.portals.flatMap((p) => Object.values(p.logs));
      expect(await stopFederation({ dir: options.dir, log: () => {} })).toEqual({ stopped: true });
      federation = undefined;
      for (const pid of everyPid) expect([pid, alive(pid)]).toEqual([pid, false]);
      expect(await databasesNamed(databases)).toEqual([]);
      expect(await rolesNamed(users)).toEqual([]);
      expect(existsSync(`${options.dir}/state.json`)).toBe(false);
      expect(existsSync(`${options.dir}/portals.json`)).toBe(false);
      for (const log of logs) expect(existsSync(log)).toBe(true);
      expect(await stopFederation({ dir: options.dir, log: () => {} })).toEqual({ stopped: false });
    },
    TIMEOUT_MS,
  );

  it(
    'the CLI: up, status, down',
    async () => {
      const cli = testFederationOptions({ portals: ['cli-a', 'cli-b'] });
      const env = {
        ...process.env,
        FEDERATION_DIR: cli.dir,
        FEDERATION_PORTALS: cli.portals!.join(','),
        FEDERATION_PREFIX: cli.prefix,
        FEDERATION_DATABASE_URL: cli.databaseUrl,
        KAFKA_BROKERS: cli.kafkaBrokers,
      };
      const run = (command: string) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, [FEDERATION_SCRIPT, command], { env, stdio: 'pipe' });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        });
      const databases = cli.portals!.map((id) => `${cli.prefix}_${id}`);
      let pids: number[] = [];
      try {
        const up = await run('up');
        expect([up.code, up.stderr]).toEqual([0, expect.any(String)]);
        const file = readPortalsFile(cli.dir!);
        expect(file.portals.map((p) => p.id)).toEqual(cli.portals);
        expect(up.stdout).toContain(file.portals[0]!.gatewayUrl);
        pids = recordedPids(cli.dir!);
        expect(pids).toHaveLength(cli.portals!.length * FEDERATION_SERVICES.length);
        // The services outlive the command that started them.
        for (const pid of pids) expect(alive(pid)).toBe(true);
        for (const p of file.portals) expect((await hello(p.gatewayUrl)).PortalId).toBe(p.id);

        const status = await run('status');
        expect(status.code).toBe(0);
        expect(status.stdout.match(/health 200/g)).toHaveLength(pids.length);
      } finally {
        const down = await run('down');
        expect([down.code, down.stderr]).toEqual([0, expect.stringContaining('stopped')]);
      }
      for (const pid of pids) expect([pid, alive(pid)]).toEqual([pid, false]);
      expect(await databasesNamed(databases)).toEqual([]);
      const again = await run('status');
      expect(again.code).toBe(3);
      expect((await run('down')).code).toBe(0);
    },
    TIMEOUT_MS,
  );

  it(
    'with stopWithProcess, a federation whose starter is killed stops by itself',
    async () => {
      const orphan = testFederationOptions({ portals: ['orphan'] });
      const script =
        `require(${JSON.stringify(FEDERATION_SCRIPT)}).startFederation(JSON.parse(process.argv[1])).then(` +
        `(f) => { console.log(JSON.stringify(f.portals[0].pids)); setInterval(() => {}, 1e9); },` +
        ` (e) => { console.error(e.message); process.exit(1); })`;
      const starter = spawn(process.execPath, ['-e', script, JSON.stringify(orphan) /* drops `log` */], {
        stdio: 'pipe',
      });
      let stdout = '';
      let stderr = '';
      starter.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      let pids: number[];
      try {
        pids = await new Promise<number[]>((resolve, reject) => {
          starter.stdout.on('data', (c: Buffer) => {
            stdout += c.toString();
            if (stdout.includes('\n')) resolve(Object.values(JSON.parse(stdout) as Record<string, number>));
          });
          starter.on('exit', (code) => reject(new Error(`the starter exited (${code}): ${stderr}`)));
        });
        expect(pids).toHaveLength(FEDERATION_SERVICES.length);
        for (const pid of pids) expect(alive(pid)).toBe(true);
      } finally {
        starter.kill('SIGKILL');
      }
      const deadline = Date.now() + 30_000;
      while (pids.some(alive) || existsSync(`${orphan.dir}/state.json`)) {
        if (Date.now() > deadline)
          throw new Error(`still running 30 s after the starter died: ${pids.filter(alive).join(', ')}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(await databasesNamed([`${orphan.prefix}_${orphan.portals![0]}`])).toEqual([]);
    },
    TIMEOUT_MS,
  );

  it('refuses bad options before starting anything', async () => {
    const dir = testFederationOptions().dir;
    await expect(startFederation({ ...options, dir, portals: ['Alpha'] })).rejects.toThrow(/not a portal id/);
    await expect(startFederation({ ...options, dir, portals: ['a', 'a'] })).rejects.toThrow(/unique/);
    await expect(
      startFederation({ ...options, dir, prefix: `bad-${randomBytes(2).toString('hex')}` }),
    ).rejects.toThrow(/prefix/);
    expect(existsSync(`${dir}/state.json`)).toBe(false);
  });
});
