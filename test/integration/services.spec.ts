import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_ED25519, formatSignerKey, makeVerifierKey } from '@cryptomesh/log';
import { createTestDatabase, TestDatabase, testKafkaBrokers } from '../env/test-database';
import { spawnListening, type ListeningProcess } from '../support/listening-process';

/** What the gateway must know of its portal: identity and the public log key. */
const PORTAL_ENV = {
  PORTAL_ID: 'alpha',
  LOG_ORIGIN: 'alpha.example/log',
  LOG_VERIFIER_KEY: makeVerifierKey(
    'alpha.example/log',
    KEY_TYPE_ED25519,
    nodeEd25519.publicKeyOf(new Uint8Array(32).fill(9)),
  ).text,
  LOG_KEY: formatSignerKey('alpha.example/log', KEY_TYPE_ED25519, new Uint8Array(32).fill(9), nodeEd25519),
};

/**
 * The built services (`nest build --all`, run by `npm test` before jest) as an operator runs
 * them: `node dist/apps/<name>/…/main.js`. Each starts, answers /health, and stops on SIGTERM
 * within 5 s; a bad configuration stops it at once with one line naming the variable.
 */
const ROOT = join(__dirname, '../..');
const SERVICES = ['gateway', 'query', 'replication', 'log-signer'] as const;

function entryOf(service: string): string {
  return join(ROOT, 'dist/apps', service, 'apps', service, 'src/main.js');
}

function start(service: string, env: Record<string, string>): Promise<ListeningProcess> {
  return spawnListening(service, [entryOf(service)], env, { cwd: ROOT });
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve({ code: child.exitCode, ms: 0 });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running ${timeoutMs} ms after SIGTERM`));
    }, timeoutMs);
    let ms = 0;
    child.on('exit', () => {
      clearTimeout(timer);
      ms = Date.now() - started;
    });
    // 'close' comes after 'exit' once the child's output is drained: its last log line is in.
    child.on('close', (code) => resolve({ code, ms }));
  });
}

describe('built services', () => {
  let db: TestDatabase;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('services');
  });

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
  });

  it.each(SERVICES)('%s was built by nest build', (service) => {
    expect(existsSync(entryOf(service))).toBe(true);
  });

  it.each(SERVICES)(
    '%s starts, answers /health and /metrics, and stops on SIGTERM within 5 s',
    async (service) => {
      const started = await start(service, {
        ...PORTAL_ENV,
        PORT: '0',
        DATABASE_URL: db.url,
        KAFKA_BROKERS: testKafkaBrokers().join(','),
        KAFKA_GROUP_ID: `services-spec-${randomBytes(3).toString('hex')}`,
      });
      running.push(started.child);
      const health = await fetch(`${started.url}/health`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as {
        status: string;
        service: string;
        checks: Record<string, { status: string }>;
      };
      expect(body).toMatchObject({ status: 'ok', service, checks: { database: { status: 'up' } } });
      const metrics = await (await fetch(`${started.url}/metrics`)).text();
      expect(metrics).toContain(`cryptomesh_build_info{version="0.1.0",service="${service}"} 1`);

      started.child.kill('SIGTERM');
      const { code, ms } = await exitOf(started.child, 5_000);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(5_000);
      const lines = started.output().trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
      expect(lines.at(-1)).toContain('"msg":"stopped"');
    },
    45_000,
  );

  it.each([
    ['DATABASE_URL', {}, /^gateway: configuration error: DATABASE_URL: is required/],
    [
      'DATABASE_URL',
      { DATABASE_URL: 'mysql://x/y' },
      /^gateway: configuration error: DATABASE_URL: must be a URL like postgres:/,
    ],
    [
      'PORT',
      { DATABASE_URL: 'GOOD', PORT: '70000' },
      /^gateway: configuration error: PORT: must be between 0 and 65535 \(got "70000"\)$/,
    ],
    [
      'LOG_LEVEL',
      { DATABASE_URL: 'GOOD', LOG_LEVEL: 'loud' },
      /^gateway: configuration error: LOG_LEVEL: must be one of fatal, error/,
    ],
  ] as const)('a bad %s stops the service with one line (exit 78)', async (_variable, env, message) => {
    const resolved: Record<string, string> = { ...env };
    if (resolved.DATABASE_URL === 'GOOD') resolved.DATABASE_URL = db.url;
    const child = spawn(process.execPath, [entryOf('gateway')], {
      env: { PATH: process.env.PATH ?? '', ...resolved },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const { code } = await exitOf(child, 10_000);
    expect(code).toBe(78);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr.trimEnd()).toMatch(message);
  });

  it('the replication service refuses to start without KAFKA_BROKERS', async () => {
    const child = spawn(process.execPath, [entryOf('replication')], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const { code } = await exitOf(child, 10_000);
    expect(code).toBe(78);
    expect(stderr.trim()).toMatch(/^replication: configuration error: KAFKA_BROKERS: is required/);
  });
});

describe('the migrate command of a built service', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('migrate');
  });

  afterAll(async () => {
    await db?.drop();
  });

  function migrate(
    env: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [entryOf('log-signer'), 'migrate'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    return exitOf(child, 20_000).then(({ code }) => ({ code, stdout, stderr }));
  }

  it('applies the pending migrations, then finds the schema current', async () => {
    const first = await migrate({ DATABASE_URL: db.url });
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('"msg":"migration applied","migration":"ConsumerProgress1763776800000"');
    const second = await migrate({ DATABASE_URL: db.url });
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout).toContain('"msg":"schema already current","applied":0');
  });

  it('exits 78 with one line when DATABASE_URL is missing', async () => {
    const result = await migrate({});
    expect(result.code).toBe(78);
    expect(result.stderr.trim()).toMatch(
      /^log-signer migrate: configuration error: DATABASE_URL: is required/,
    );
  });
});
