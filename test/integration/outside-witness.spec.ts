import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import {
  MemoryClientStore,
  QueryClient,
  storeCheckpointMemory,
  verifyCheckpoint,
  type PortalTrust,
} from '@cryptomesh/client';
import { dataSourceOptions, runMigrations } from '@cryptomesh/persistence';
import { createService, type RunningService } from '@cryptomesh/service';
import { logSignerApp } from '../../apps/log-signer/src/log-signer.app';
import { queryApp } from '../../apps/query/src/query.app';
import { replicationApp } from '../../apps/replication/src/replication.app';
import { enqueueAll, eventually, testEntry, testLogKey } from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, testKafkaBrokers, type TestDatabase } from '../env/test-database';
import { scrape } from '../support/prometheus-text';
import { consistent, sha256 } from '../support/rfc9162-independent';

// ---------------------------------------------------------------------------------------------
// A C2SP tlog-witness written from the spec texts alone (tlog-witness, tlog-cosignature,
// signed-note, RFC 9162 §2.1.4.2), on node:http and node:crypto: nothing of this repository.
// ---------------------------------------------------------------------------------------------

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

class SpecWitness {
  readonly name = 'witness.example/outside';
  private readonly keys = generateKeyPairSync('ed25519');
  private readonly publicKey = this.keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  readonly keyId = sha256(Buffer.from(`${this.name}\n`), Buffer.from([0x04]), this.publicKey).subarray(0, 4);
  /** The verifier key string (signed-note): name+hex key ID+base64(0x04 ‖ key). */
  readonly verifierKey = `${this.name}+${this.keyId.toString('hex')}+${Buffer.concat([Buffer.from([0x04]), this.publicKey]).toString('base64')}`;
  /** Per origin, the latest cosigned checkpoint. */
  state = new Map<string, { size: number; root: Buffer }>();
  mode: 'ok' | 'error' = 'ok';
  readonly answers: Array<{ old: number; status: number }> = [];
  private server: Server | undefined;
  port = 0;

  constructor(private readonly logKey: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { status, body, type } = this.handle(
          req.method ?? '',
          req.url ?? '',
          Buffer.concat(chunks).toString(),
        );
        res.writeHead(status, { 'content-type': type }).end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private handle(method: string, url: string, text: string): { status: number; body: string; type: string } {
    const plain = (status: number, body: string) => ({ status, body, type: 'text/plain' });
    if (method !== 'POST' || url !== '/add-checkpoint') return plain(404, 'not found\n');
    if (this.mode === 'error') return plain(503, 'down for maintenance\n');
    // old size line, proof lines, empty line, checkpoint.
    const lines = text.split('\n');
    const old = /^old (0|[1-9][0-9]*)$/.exec(lines[0] ?? '');
    const blank = lines.indexOf('', 1);
    if (old === null || blank < 0) return plain(400, 'malformed\n');
    const oldSize = Number(old[1]);
    const proof = lines.slice(1, blank).map((l) => Buffer.from(l, 'base64'));
    const note = lines.slice(blank + 1).join('\n');
    const split = note.indexOf('\n\n');
    const body = note.slice(0, split + 1);
    const [origin, sizeText, rootText] = body.split('\n') as [string, string, string];
    const [keyName, keyHex, ...rest] = this.logKey.split('+') as [string, string, ...string[]];
    if (origin !== keyName) return plain(404, 'unknown log\n');
    const keyBytes = Buffer.from(rest.join('+'), 'base64');
    const logPublic = createPublicKey({
      key: Buffer.concat([SPKI_ED25519, keyBytes.subarray(1)]),
      format: 'der',
      type: 'spki',
    });
    const signed = note
      .slice(split + 2)
      .split('\n')
      .some((line) => {
        const m = /^\u2014 (\S+) (\S+)$/.exec(line);
        if (m === null || m[1] !== keyName) return false;
        const sig = Buffer.from(m[2]!, 'base64');
        return (
          sig.subarray(0, 4).toString('hex') === keyHex &&
          verify(null, Buffer.from(body), logPublic, sig.subarray(4))
        );
      });
    if (!signed) return plain(403, 'no trusted signature\n');
    const size = Number(sizeText);
    const root = Buffer.from(rootText, 'base64');
    if (oldSize > size) return plain(400, 'old size above size\n');
    const latest = this.state.get(origin) ?? { size: 0, root: sha256() };
    if (oldSize !== latest.size) {
      this.answers.push({ old: oldSize, status: 409 });
      return { status: 409, body: `${latest.size}\n`, type: 'text/x.tlog.size' };
    }
    if (oldSize === size && !latest.root.equals(root) && latest.size > 0) return plain(409, 'root differs\n');
    if (oldSize > 0 && oldSize < size && !consistent(oldSize, size, latest.root, root, proof))
      return plain(422, 'bad proof\n');
    this.state.set(origin, { size, root });
    this.answers.push({ old: oldSize, status: 200 });
    // tlog-cosignature v1: "cosignature/v1\ntime <t>\n" ‖ body, signed; 8-byte timestamp ‖ signature.
    const time = Math.floor(Date.now() / 1000);
    const message = Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`), Buffer.from(body)]);
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(time));
    const signature = Buffer.concat([this.keyId, ts, sign(null, message, this.keys.privateKey)]);
    return plain(200, `\u2014 ${this.name} ${signature.toString('base64')}\n`);
  }

  /** A client's check of a checkpoint: a valid cosignature of this witness over its body. */
  cosigned(checkpoint: string): boolean {
    const split = checkpoint.indexOf('\n\n');
    const body = checkpoint.slice(0, split + 1);
    const publicKey = createPublicKey({
      key: Buffer.concat([SPKI_ED25519, this.publicKey]),
      format: 'der',
      type: 'spki',
    });
    return checkpoint
      .slice(split + 2)
      .split('\n')
      .some((line) => {
        const m = /^\u2014 (\S+) (\S+)$/.exec(line);
        if (m === null || m[1] !== this.name) return false;
        const sig = Buffer.from(m[2]!, 'base64');
        if (sig.length !== 4 + 8 + 64 || !sig.subarray(0, 4).equals(this.keyId)) return false;
        const time = sig.readBigUInt64BE(4);
        const message = Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`), Buffer.from(body)]);
        return verify(null, message, publicKey, sig.subarray(12));
      });
  }
}

/**
 * Issue #18, outside witnesses: a witness written in this test cosigns a running portal's seals
 * through the replication service; its cosignatures appear in /logs/self/checkpoint; a witness that
 * fails, then comes back with its state lost (409), is reported, resynced and cosigns again; and
 * sealing never waits for it.
 */
describe('outside witnesses: the replication service submits seals to a C2SP tlog-witness', () => {
  const key = testLogKey('outside.test/log');
  const witness = new SpecWitness(key.verifierKey);
  let db: TestDatabase;
  let dataSource: DataSource;
  const services: RunningService[] = [];
  let query: RunningService;
  let replication: RunningService;

  beforeAll(async () => {
    await witness.start();
    db = await createTestDatabase('outsidewitness');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 2 })).initialize();
    await runMigrations(dataSource);
    const common = { PORT: '0', LOG_LEVEL: 'error', DATABASE_URL: db.url };
    services.push(
      await createService(logSignerApp, {
        ...common,
        LOG_KEY: key.signerKey,
        // Arbitrary JSON entries, not Mesh records: the log and its witnesses are under test here.
        LOG_SIGNER_RULES: 'none',
        SEAL_INTERVAL_MS: '100',
        HEARTBEAT_MS: '300',
        QUEUE_POLL_MS: '10',
      }),
    );
    query = await createService(queryApp, common);
    services.push(query);
    replication = await createService(replicationApp, {
      ...common,
      KAFKA_BROKERS: testKafkaBrokers().join(','),
      KAFKA_GROUP_ID: `outside-${randomBytes(4).toString('hex')}`,
      PORTAL_ID: 'alpha',
      PUBLISH_LOG: 'false',
      OUTSIDE_WITNESSES: JSON.stringify([
        { url: `http://127.0.0.1:${witness.port}/`, key: witness.verifierKey },
      ]),
      OUTSIDE_WITNESS_POLL_MS: '50',
      OUTSIDE_WITNESS_RETRY_MAX_MS: '200',
      OUTSIDE_WITNESS_TIMEOUT_MS: '1000',
    });
    services.push(replication);
  }, 60_000);

  afterAll(async () => {
    for (const s of services.reverse()) await s.app.close();
    await witness.stop();
    await dataSource?.destroy();
    await db?.drop();
  });

  const checkpoint = async () => (await fetch(`${query.url}/logs/self/checkpoint`)).text();
  const sizeOf = (note: string) => Number(note.split('\n')[1]);
  const federation = async () =>
    (await (await fetch(`${query.url}/federation`)).json()) as {
      outsideWitnesses: Array<{ name: string; size: number; failures: number; lastError: string | null }>;
    };
  const requests = async (outcome: string) =>
    (await scrape(replication.url)).sum('tlog_outside_witness_requests_total', {
      witness: witness.name,
      outcome,
    });

  /** Waits for a checkpoint of at least `size` entries that carries the witness's valid cosignature. */
  async function cosignedAt(size: number): Promise<string> {
    return eventually(
      `a checkpoint of ≥ ${size} entries cosigned by the outside witness`,
      async () => {
        const note = await checkpoint();
        return sizeOf(note) >= size && witness.cosigned(note) ? note : undefined;
      },
      20_000,
    );
  }

  it("cosigns the portal's seals; the cosignatures appear in /logs/self/checkpoint", async () => {
    await enqueueAll(
      dataSource,
      [0, 1, 2, 3, 4].map((i) => testEntry('outside', i)),
    );
    const note = await cosignedAt(5);
    expect(note.startsWith('outside.test/log\n')).toBe(true);
    const [state] = (await federation()).outsideWitnesses;
    expect(state).toMatchObject({ name: witness.name, failures: 0, lastError: null });
    expect(state!.size).toBeGreaterThanOrEqual(5);
    expect(await requests('cosigned')).toBeGreaterThanOrEqual(1);

    // The SDK, with this witness pinned as required, accepts the checkpoint; requiring another
    // witness, it refuses it.
    const home = { id: 'alpha', origin: key.origin, verifierKey: key.verifierKey, queryUrl: query.url };
    const clientCheck = (requiredWitnesses: string[]) => {
      const trust: PortalTrust = { home, peers: [], quorum: 0, requiredWitnesses };
      return verifyCheckpoint(note, {
        owner: home,
        trust,
        query: new QueryClient(query.url, fetch, { portal: 'alpha' }),
        logName: 'self',
        memory: storeCheckpointMemory(new MemoryClientStore()),
      });
    };
    await expect(clientCheck([witness.verifierKey])).resolves.toMatchObject({ size: sizeOf(note) });
    await expect(clientCheck([new SpecWitness(key.verifierKey).verifierKey])).rejects.toMatchObject({
      code: 'verify.quorum',
    });
  });

  it('a witness that fails is retried and reported, and sealing goes on without it', async () => {
    witness.mode = 'error';
    const failedBefore = await requests('failed');
    await enqueueAll(
      dataSource,
      [5, 6, 7].map((i) => testEntry('outside', i)),
    );
    // Sealing never waits for the witness: the checkpoint reaches 8 entries while it fails.
    await eventually(
      '8 entries sealed',
      async () => (sizeOf(await checkpoint()) >= 8 ? true : undefined),
      20_000,
    );
    await eventually(
      'the failure reported',
      async () => {
        const [state] = (await federation()).outsideWitnesses;
        return state!.failures >= 2 && (await requests('failed')) >= failedBefore + 2 ? state : undefined;
      },
      20_000,
    );
    const [state] = (await federation()).outsideWitnesses;
    expect(state!.lastError).toMatch(/HTTP 503/);
    const status = await (await fetch(`${query.url}/`)).text();
    expect(status).toContain('outside-witnesses');
  });

  it('a witness that is down, then back with its state lost, answers 409 and is resynced', async () => {
    await witness.stop();
    witness.mode = 'ok';
    await enqueueAll(
      dataSource,
      [8, 9].map((i) => testEntry('outside', i)),
    );
    await eventually(
      '10 entries sealed',
      async () => (sizeOf(await checkpoint()) >= 10 ? true : undefined),
      20_000,
    );
    await eventually(
      'the connection failure reported',
      async () =>
        (await federation()).outsideWitnesses[0]!.lastError?.includes('HTTP') === false ? true : undefined,
      20_000,
    );
    witness.state = new Map();
    witness.answers.length = 0;
    await witness.start();
    const note = await cosignedAt(10);
    expect(sizeOf(note)).toBeGreaterThanOrEqual(10);
    // The first request after the restart carried the old size; the witness said 0; the retry
    // from 0 was cosigned.
    expect(witness.answers[0]).toEqual({ old: expect.any(Number) as number, status: 409 });
    expect(witness.answers[0]!.old).toBeGreaterThan(0);
    expect(witness.answers).toContainEqual({ old: 0, status: 200 });
    expect(await requests('resync')).toBeGreaterThanOrEqual(1);
    const [state] = (await federation()).outsideWitnesses;
    expect(state).toMatchObject({ failures: 0, lastError: null });
  });
});
