import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRecord, recheckLog } from '@cryptomesh/mesh';
import { createService, type RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { queryApp } from '../../apps/query/src/query.app';
import {
  checkpoint,
  eventually,
  fetchAndVerifyLog,
  testLogKey,
  type TestLogKey,
} from '../../apps/log-signer/test/log-fixture';
import pkg from '../../package.json';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import {
  createServiceUsers,
  createTestDatabase,
  type ServiceUsers,
  type TestDatabase,
} from '../env/test-database';
import { exportLog } from '../support/log-export';
import { runScriptedSession } from '../support/scripted-session';
import { startGateway } from '../support/test-gateway';

/**
 * Issue #5's acceptance, end to end: the scripted client session through the gateway, then every
 * logged transaction found in a sealed part of the log, each inclusion proof verified against the
 * signed checkpoint, the whole log verified from what the query API publishes, every entry
 * re-checked against the Mesh rules from its bytes alone, and the export passing `mesh log verify`.
 * Once against the four services on PostgreSQL, once against `npm start` (embedded storage).
 */
const ROOT = join(__dirname, '../..');

async function verifyEverything(
  queryUrl: string,
  key: TestLogKey,
  expected: string[],
  dir: string,
): Promise<void> {
  const head = await eventually(
    'a checkpoint covering the session',
    async () => {
      const seal = await checkpoint(queryUrl, key);
      return seal && seal.size >= expected.length ? seal : undefined;
    },
    20_000,
  );
  const log = await fetchAndVerifyLog(queryUrl, key); // signatures, chain, digests, every proof
  expect(log.entries.map((e) => decodeRecord(e).operation)).toEqual(expected);
  expect((await recheckLog(log.entries, { origin: key.origin })).ok).toBe(true);
  for (const entry of log.entries) expect(new TextDecoder().decode(entry)).not.toContain('@');

  await exportLog(queryUrl, dir, key.verifierKey, head.part.index + 1);
  const cli = spawnSync(
    process.execPath,
    [join(ROOT, pkg.bin.mesh), 'log', 'verify', '--key', key.verifierKey, dir],
    {
      encoding: 'utf8',
    },
  );
  expect({ code: cli.status, stderr: cli.stderr }).toEqual({ code: 0, stderr: '' });
  expect(cli.stdout).toContain(
    `OK verified ${head.part.index + 1} parts, ${head.size} entries of ${key.origin}`,
  );
  // Issue #18: the same log through its C2SP tlog-tiles, as an outside verifier reads it.
  // Asynchronously: the four services of the first case answer from this very process.
  const tiles = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, pkg.bin.mesh), 'log', 'verify', '--url', `${queryUrl}/logs/self`, '--key', key.verifierKey],
      { encoding: 'utf8' },
      (error, stdout, stderr) =>
        resolve({
          status: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        }),
    );
  });
  expect({
    code: tiles.status,
    stderr: tiles.stderr.split('\n').filter((l) => !l.startsWith('verified ')),
  }).toEqual({
    code: 0,
    stderr: [''],
  });
  expect(tiles.stdout).toContain(`entries of ${key.origin} through its tiles`);
}

describe('a portal end to end', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cmp-e2e-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  // Each service as its own database user with only its role's rights (issue #15), the migrations
  // by the owner first, as a deployment does: a grant the services need and lack fails this test.
  describe('as four services on PostgreSQL, each with its own database role', () => {
    let db: TestDatabase;
    let users: ServiceUsers | undefined;
    const services: RunningService[] = [];
    const key = testLogKey('e2e.example/log');

    beforeAll(async () => {
      db = await createTestDatabase('e2e');
      const owner = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 1 })).initialize();
      await runMigrations(owner).finally(() => owner.destroy());
      users = await createServiceUsers(db);
      const common = { PORT: '0', LOG_LEVEL: 'warn', DB_MIGRATIONS: 'check' };
      services.push(
        await startGateway(users.urls.gateway, {
          LOG_ORIGIN: key.origin,
          LOG_VERIFIER_KEY: key.verifierKey,
          DB_MIGRATIONS: 'check',
        }),
        await createService(logSignerApp, {
          ...common,
          DATABASE_URL: users.urls['log-signer'],
          LOG_KEY: key.signerKey,
          SEAL_INTERVAL_MS: '200',
        }),
        await createService(queryApp, { ...common, DATABASE_URL: users.urls.query }),
      );
    }, 60_000);

    afterAll(async () => {
      for (const service of services.reverse()) await service.app.close();
      await (users ?? db)?.drop();
    });

    it('seals every logged transaction of a client session into a log that verifies', async () => {
      const [gateway, , query] = services;
      const expected = await runScriptedSession(gateway!.url, 'carol@example.org');
      await verifyEverything(query!.url, key, expected, join(tmp, 'services'));
    }, 90_000);
  });

  describe('as `npm start` on embedded storage', () => {
    let portal: ChildProcess | undefined;
    afterAll(() => {
      if (portal && portal.exitCode === null) portal.kill('SIGKILL');
    });

    it('runs the same session and the same checks', async () => {
      let output = '';
      portal = spawn(process.execPath, ['scripts/start.js'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          DATA_DIR: join(tmp, 'data'),
          PORT: '0',
          SEAL_INTERVAL_MS: '200',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      portal.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      portal.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const url = await eventually(
        'the portal listening',
        () => Promise.resolve(/"msg":"listening","url":"([^"]+)"/.exec(output)?.[1]),
        60_000,
      );
      const created = /"msg":"log key created","origin":"([^"]+)","verifierKey":"([^"]+)"/.exec(output);
      const key: TestLogKey = { origin: created![1]!, verifierKey: created![2]!, signerKey: '' };

      try {
        const expected = await runScriptedSession(url, 'dave@example.org');
        await verifyEverything(url, key, expected, join(tmp, 'embedded'));
        // Concurrent reads on the embedded database (16 proofs in flight per pass) stay consistent.
        for (let pass = 0; pass < 5; pass++) await fetchAndVerifyLog(url, key);
      } catch (error) {
        const errors = output.split('\n').filter((line) => /"level":"(error|fatal)"/.test(line));
        throw new Error(`${String(error)}\nportal errors:\n${errors.join('\n')}`);
      }

      const exited = new Promise<number | null>((resolve) => portal!.on('exit', resolve));
      portal.kill('SIGTERM');
      expect(await exited).toBe(0);
    }, 120_000);
  });
});
