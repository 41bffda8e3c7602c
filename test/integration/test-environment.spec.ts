import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { processAlive } from '../support/listening-process';

/**
 * The test runner itself (`npm test` = test/env/run-tests.js): interrupted like a Ctrl-C in a
 * terminal — SIGINT to its whole process group — while a test holds a database and the runner's
 * own Kafka broker is up, it stops, and leaves no broker process and no test database behind.
 */
const ROOT = join(__dirname, '../..');

async function databaseExists(name: string): Promise<boolean> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_ADMIN_URL });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

function portAnswers(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = createConnection({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the test runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmp-runner-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('cleans up its broker and databases when interrupted with Ctrl-C', async () => {
    const marker = join(dir, 'marker.json');
    // Build and static checks are the outer run's; the nested run goes straight to its environment.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEST_SKIP_BUILD: '1',
      TEST_SKIP_STATIC: '1',
      MARKER_FILE: marker,
    };
    delete env.KAFKA_BROKERS; // the runner must start (and then stop) a broker of its own
    delete env.CMP_TEST_RUN_TAG;
    const runner = spawn(
      process.execPath,
      ['test/env/run-tests.js', '--config', 'test/harness/jest.fixture.config.js'],
      {
        cwd: ROOT,
        env,
        detached: true, // its own process group, like a shell job
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    runner.stdout.on('data', (c: Buffer) => (output += c.toString()));
    runner.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => runner.on('exit', (code) => resolve(code)));

    const deadline = Date.now() + 90_000;
    while (!existsSync(marker)) {
      if (Date.now() > deadline || runner.exitCode !== null)
        throw new Error(`the fixture never started:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 250)); // let the marker's write complete
    const { database, brokers } = JSON.parse(readFileSync(marker, 'utf8')) as {
      database: string;
      brokers: string;
    };
    const brokerPid = Number(/broker ready at \S+ \(pid (\d+)/.exec(output)?.[1]);
    expect(await databaseExists(database)).toBe(true);
    expect(await portAnswers(brokers)).toBe(true);
    expect(brokers).not.toBe(process.env.KAFKA_BROKERS);
    expect(processAlive(brokerPid)).toBe(true);

    process.kill(-runner.pid!, 'SIGINT');
    const code = await exited;

    expect(code).not.toBe(0);
    expect(output).toContain('SIGINT: stopping the tests and cleaning up');
    expect(processAlive(brokerPid)).toBe(false);
    expect(await portAnswers(brokers)).toBe(false);
    expect(await databaseExists(database)).toBe(false);
  }, 150_000);
});
