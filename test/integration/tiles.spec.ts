import { createPublicKey, verify as edVerify } from 'node:crypto';
import { DataSource } from 'typeorm';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  CompactRange,
  GENESIS_CHAIN,
  nextChain,
  parseSignerKey,
  signSeal,
  toBase64,
  type StoredNode,
} from '@cryptomesh/log';
import {
  PostgresLogSignerStore,
  TypeOrmMirrorStore,
  dataSourceOptions,
  runMigrations,
} from '@cryptomesh/persistence';
import { TiledLog } from '@cryptomesh/client';
import { createService, type RunningService } from '@cryptomesh/service';
import { runCaptured } from '../../apps/cli/test/run-captured';
import { queryApp } from '../../apps/query/src/query.app';
import { eventually, testEntry, testLogKey, type TestLogKey } from '../../apps/log-signer/test/log-fixture';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { consistent, leafHash, nodeHash, rootFromInclusion, sha256 } from '../support/rfc9162-independent';

// ---------------------------------------------------------------------------------------------
// An independent C2SP tlog-tiles reader, written from the spec texts alone (tlog-tiles,
// tlog-checkpoint, signed-note; RFC 9162 §2.1): node:crypto only, nothing of this repository.
// ---------------------------------------------------------------------------------------------

/** tlog-tiles "<N>": zero-padded 3-digit elements, all but the last prefixed with x. */
function tileIndexPath(n: number): string {
  const groups: string[] = [];
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

interface ReaderCheckpoint {
  origin: string;
  size: number;
  root: Buffer;
}

class SpecTileReader {
  /** Every fetched path, to check which requests a reader makes. */
  readonly fetched: string[] = [];
  private readonly tiles = new Map<string, Buffer[]>();

  constructor(
    private readonly prefix: string,
    private readonly verifierKey: string,
  ) {}

  async get(
    path: string,
  ): Promise<{ status: number; body: Buffer; cache: string | null; type: string | null }> {
    this.fetched.push(path);
    const res = await fetch(`${this.prefix}/${path}`);
    return {
      status: res.status,
      body: Buffer.from(await res.arrayBuffer()),
      cache: res.headers.get('cache-control'),
      type: res.headers.get('content-type'),
    };
  }

  /** signed-note + tlog-checkpoint: verify the log's Ed25519 signature, then parse the body. */
  async checkpoint(): Promise<ReaderCheckpoint> {
    const res = await this.get('checkpoint');
    if (res.status !== 200) throw new Error(`checkpoint: ${res.status}`);
    const text = res.body.toString('utf8');
    const split = text.indexOf('\n\n');
    const body = text.slice(0, split + 1);
    // <name>+<hex key ID>+<base64 key>: the base64 may itself hold '+'.
    const [name, hexId, ...rest] = this.verifierKey.split('+') as [string, string, ...string[]];
    const keyB64 = rest.join('+');
    const keyBytes = Buffer.from(keyB64, 'base64');
    expect(keyBytes[0]).toBe(0x01); // Ed25519
    const keyId = sha256(Buffer.from(`${name}\n`), Buffer.from([0x01]), keyBytes.subarray(1)).subarray(0, 4);
    expect(keyId.toString('hex')).toBe(hexId);
    const publicKey = createPublicKey({
      key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), keyBytes.subarray(1)]),
      format: 'der',
      type: 'spki',
    });
    const lines = text
      .slice(split + 2)
      .split('\n')
      .filter((l) => l !== '');
    const verified = lines.some((line) => {
      const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
      if (m === null || m[1] !== name) return false;
      const sig = Buffer.from(m[2]!, 'base64');
      return (
        sig.subarray(0, 4).equals(keyId) && edVerify(null, Buffer.from(body), publicKey, sig.subarray(4))
      );
    });
    if (!verified) throw new Error('no valid log signature on the checkpoint');
    const [origin, size, root] = body.split('\n');
    return { origin: origin!, size: Number(size), root: Buffer.from(root!, 'base64') };
  }

  /** The hashes of tile (level, n) as wide as a tree of `size` makes it. */
  async tile(level: number, n: number, size: number): Promise<Buffer[]> {
    const width = Math.min(256, Math.floor(size / 256 ** level) - n * 256);
    const path = `tile/${level}/${tileIndexPath(n)}${width === 256 ? '' : `.p/${width}`}`;
    const cached = this.tiles.get(path);
    if (cached !== undefined) return cached;
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    expect(res.type).toBe('application/octet-stream');
    expect(res.cache).toBe(width === 256 ? 'public, max-age=31536000, immutable' : 'public, max-age=5');
    expect(res.body.length).toBe(32 * width);
    const hashes = Array.from({ length: width }, (_, i) => res.body.subarray(32 * i, 32 * i + 32));
    this.tiles.set(path, hashes);
    return hashes;
  }

  /** The entries of bundle n as wide as a tree of `size` makes it. */
  async bundle(n: number, size: number): Promise<Buffer[]> {
    const width = Math.min(256, size - n * 256);
    const path = `tile/entries/${tileIndexPath(n)}${width === 256 ? '' : `.p/${width}`}`;
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    const entries: Buffer[] = [];
    for (let at = 0; at < res.body.length;) {
      const length = res.body.readUInt16BE(at);
      entries.push(res.body.subarray(at + 2, at + 2 + length));
      at += 2 + length;
    }
    expect(entries).toHaveLength(width);
    return entries;
  }

  /**
   * The hash of the perfect subtree of 2^height leaves starting at leaf `start` (aligned), from
   * the tile whose level holds its height rounded down to a multiple of 8.
   */
  async perfect(start: number, height: number, size: number): Promise<Buffer> {
    const level = Math.floor(height / 8);
    const within = height - 8 * level;
    const first = start / 256 ** level;
    let hashes: Buffer[] = [];
    for (let i = first; i < first + 2 ** within; i++) {
      const tile = await this.tile(level, Math.floor(i / 256), size);
      hashes.push(tile[i % 256]!);
    }
    while (hashes.length > 1) {
      const next: Buffer[] = [];
      for (let i = 0; i < hashes.length; i += 2) next.push(nodeHash(hashes[i]!, hashes[i + 1]!));
      hashes = next;
    }
    return hashes[0]!;
  }

  /** RFC 9162 §2.1.1 MTH(D[lo:hi]) from tiles of a tree of `size`. */
  async mth(lo: number, hi: number, size: number): Promise<Buffer> {
    const n = hi - lo;
    if (n === 0) return sha256();
    if ((n & (n - 1)) === 0 && lo % n === 0) return this.perfect(lo, Math.log2(n), size);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(await this.mth(lo, lo + k, size), await this.mth(lo + k, hi, size));
  }

  /** RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]). */
  async inclusionPath(m: number, lo: number, hi: number, size: number): Promise<Buffer[]> {
    const n = hi - lo;
    if (n === 1) return [];
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m < k) return [...(await this.inclusionPath(m, lo, lo + k, size)), await this.mth(lo + k, hi, size)];
    return [...(await this.inclusionPath(m - k, lo + k, hi, size)), await this.mth(lo, lo + k, size)];
  }

  /** RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b). */
  async subproof(m: number, lo: number, hi: number, b: boolean, size: number): Promise<Buffer[]> {
    const n = hi - lo;
    if (m === n) return b ? [] : [await this.mth(lo, hi, size)];
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m <= k) return [...(await this.subproof(m, lo, lo + k, b, size)), await this.mth(lo + k, hi, size)];
    return [...(await this.subproof(m - k, lo + k, hi, false, size)), await this.mth(lo, lo + k, size)];
  }
}

// ---------------------------------------------------------------------------------------------
// The portal side: a log grown through the log-signer's store (own log) and the mirror store
// (a peer's log), so that the tiles come from the real code path, then read as above.
// ---------------------------------------------------------------------------------------------

/** One part of a generated log: its entries and what sealing them stores. */
interface GeneratedPart {
  part: number;
  first: number;
  size: number;
  entries: Uint8Array[];
  leafHashes: Uint8Array[];
  nodes: StoredNode[];
  partDigest: Uint8Array;
  chain: Uint8Array;
  root: Uint8Array;
  timeMs: number;
  note: string;
  frontier: string[];
}

class LogGenerator {
  private readonly tree = CompactRange.empty();
  private chain: Uint8Array = GENESIS_CHAIN;
  private part = 0;
  private readonly signer;

  constructor(
    readonly key: TestLogKey,
    private readonly tag: string,
  ) {
    this.signer = parseSignerKey(key.signerKey, nodeEd25519);
  }

  /** The next part, taking the log to `size` entries. */
  grow(size: number): GeneratedPart {
    const first = this.tree.size;
    const entries = Array.from({ length: size - first }, (_, i) => testEntry(this.tag, first + i));
    const nodes: StoredNode[] = [];
    const leafHashes: Uint8Array[] = [];
    const partTree = CompactRange.empty();
    for (const entry of entries) {
      leafHashes.push(
        this.tree.appendEntry(entry, (node) => {
          if (node.level > 0) nodes.push(node);
        }),
      );
      partTree.appendEntry(entry);
    }
    const partDigest = partTree.root();
    this.chain = nextChain(this.chain, partDigest);
    const timeMs = 1_764_000_000_000 + this.part;
    const root = this.tree.root();
    const note = signSeal(
      {
        origin: this.key.origin,
        size,
        root,
        part: { index: this.part, first, digest: partDigest },
        chain: this.chain,
        timeMs,
      },
      this.signer,
    );
    return {
      part: this.part++,
      first,
      size,
      entries,
      leafHashes,
      nodes,
      partDigest,
      chain: this.chain,
      root,
      timeMs,
      note,
      frontier: this.tree.hashes().map(toBase64),
    };
  }
}

/** Tree sizes of the acceptance (issue #18), in order, with a few random ones between. */
function sizes(): number[] {
  const random = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));
  return [0, 1, 255, 256, 257, random(258, 4096), random(4096, 40_000), random(40_000, 65_536), 65_536];
}

describe('tlog-tiles: an independent reader verifies the own log and a mirror (issue #18)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let query: RunningService;
  const PEER = 'tile-peer';

  beforeAll(async () => {
    db = await createTestDatabase('tiles');
    dataSource = await new DataSource(dataSourceOptions({ url: db.url, poolSize: 4 })).initialize();
    await runMigrations(dataSource);
    query = await createService(queryApp, { PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: db.url });
  });

  afterAll(async () => {
    await query?.app.close();
    await dataSource?.destroy();
    await db?.drop();
  });

  /**
   * After each seal of tree size `sealed`: the reader verifies the checkpoint, root, entries, and
   * proofs from tiles — once the query service serves that seal (it keeps the latest checkpoint in
   * memory for at most CHECKPOINT_MAX_AGE_MS: query.md "Log heads").
   */
  async function readAndCheck(
    reader: SpecTileReader,
    seen: ReaderCheckpoint[],
    expectedEntries: (index: number) => Uint8Array,
    sealed: number,
  ): Promise<void> {
    const cp = await eventually(
      `the checkpoint of size ${sealed} served`,
      async () => {
        const served = await reader.checkpoint();
        return served.size === sealed ? served : undefined;
      },
      5_000,
      10,
    );
    const size = cp.size;
    expect((await reader.mth(0, size, size)).equals(cp.root)).toBe(true);
    // Every entry of the bundles hashes to its level-0 tile hash, and is the entry logged.
    for (let n = 0; n * 256 < size; n++) {
      const bundle = await reader.bundle(n, size);
      const tile = await reader.tile(0, n, size);
      bundle.forEach((entry, i) => {
        expect(leafHash(entry).equals(tile[i]!)).toBe(true);
        expect(entry.equals(Buffer.from(expectedEntries(n * 256 + i)))).toBe(true);
      });
    }
    // Inclusion proofs for the edges and random indices.
    const indices = new Set([0, size - 1, Math.floor(size / 2), Math.floor(Math.random() * size)]);
    for (const index of [...indices].filter((i) => i >= 0 && i < size)) {
      const path = await reader.inclusionPath(index, 0, size, size);
      const leaf = (await reader.tile(0, Math.floor(index / 256), size))[index % 256]!;
      expect(rootFromInclusion(index, size, leaf, path).equals(cp.root)).toBe(true);
    }
    // Consistency with every earlier checkpoint the reader saw.
    for (const old of seen) {
      const proof =
        old.size === 0 || old.size === size ? [] : await reader.subproof(old.size, 0, size, true, size);
      expect(consistent(old.size, size, old.root, cp.root, proof)).toBe(true);
    }
    // Nothing beyond the checkpoint: the next tile, bundle and wider partial are 404.
    const next = Math.floor(size / 256);
    const width = size % 256;
    const wider = width === 255 ? '' : `.p/${width + 1}`;
    const beyond = [
      `tile/0/${tileIndexPath(next)}${wider}`,
      `tile/entries/${tileIndexPath(next)}${wider}`,
      `tile/0/${tileIndexPath(next + 1)}`,
      `tile/1/${tileIndexPath(Math.floor(size / 65_536))}`,
    ];
    for (const path of beyond) {
      const res = await reader.get(path);
      expect({ path, status: res.status, body: res.body.toString() }).toMatchObject({ path, status: 404 });
    }
    seen.push(cp);
  }

  const selfKey = testLogKey('tiles.test/self');

  it('the own log at sizes 0, 1, 255, 256, 257, 65,536 and random ones, sealed by the log-signer store', async () => {
    const key = selfKey;
    const log = new LogGenerator(key, 'self');
    const reader = new SpecTileReader(`${query.url}/logs/self`, key.verifierKey);
    const store = new PostgresLogSignerStore({ url: db.url });
    const session = await store.tryLead();
    if (session === undefined) throw new Error('no leadership');
    const seen: ReaderCheckpoint[] = [];
    try {
      for (const size of sizes()) {
        const part = log.grow(size);
        if (part.entries.length > 0) {
          await dataSource.query(`INSERT INTO log_queue (entry) SELECT unnest($1::bytea[])`, [
            part.entries.map((e) => Buffer.from(e)),
          ]);
          let offset = 0;
          while (offset < part.entries.length) {
            const taken = await session.sequence(10_000, (rows) => {
              const at = offset;
              offset += rows.length;
              const leafHashes = part.leafHashes.slice(at, at + rows.length);
              const end = part.first + at + rows.length;
              return {
                first: part.first + at,
                leafHashes,
                nodes: part.nodes.filter(
                  (n) =>
                    (n.index + 1) * 2 ** n.level <= end && (n.index + 1) * 2 ** n.level > part.first + at,
                ),
                profiles: rows.map(() => undefined),
              };
            });
            expect(taken).toBeGreaterThan(0);
          }
        }
        await session.appendSeal(part);
        await readAndCheck(reader, seen, (i) => testEntry('self', i), size);
      }
    } finally {
      await session.close();
    }
    const tiles = await dataSource.query<Array<{ n: string }>>(`SELECT count(*) AS n FROM log_tiles`);
    // 256 full level-0 tiles, 1 full level-1 tile, and the level-2 partial of width 1.
    expect(Number(tiles[0]!.n)).toBe(258);
  }, 300_000);

  it('mesh log verify --url verifies the log through its tiles; the SDK builds proofs from tiles', async () => {
    const prefix = `${query.url}/logs/self`;
    const ok = await runCaptured(['log', 'verify', '--url', prefix, '--key', selfKey.verifierKey]);
    expect(ok.code).toBe(0);
    expect(ok.out.join('\n')).toContain('OK verified 65536 entries of tiles.test/self through its tiles');
    expect(ok.err.join('\n')).toContain('verified 65536 / 65536 entries');
    const wrongKey = await runCaptured([
      'log',
      'verify',
      '--url',
      prefix,
      '--key',
      testLogKey('tiles.test/self').verifierKey,
    ]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err.join('\n')).toMatch(/verify\.checkpoint-signature/);
    expect((await runCaptured(['log', 'verify', '--url', prefix])).code).toBe(2);

    // The SDK's proofs from tiles are the query service's proofs, and verify.
    const tiled = new TiledLog(prefix);
    const json = async (path: string) =>
      ((await (await fetch(`${prefix}/${path}`)).json()) as { path: string[] }).path;
    for (const [index, size] of [
      [0, 1],
      [254, 255],
      [255, 256],
      [256, 257],
      [12_345, 65_536],
      [65_535, 65_536],
    ] as const) {
      const proof = await tiled.inclusionProof(index, size);
      expect(proof.map(toBase64)).toEqual(await json(`proofs/inclusion?index=${index}&size=${size}`));
    }
    for (const [from, to] of [
      [1, 255],
      [255, 256],
      [256, 257],
      [257, 65_536],
      [1, 65_536],
    ] as const) {
      const proof = await tiled.consistencyProof(from, to);
      expect(proof.map(toBase64)).toEqual(await json(`proofs/consistency?from=${from}&to=${to}`));
    }
  }, 120_000);

  it('a mirror at the same sizes, stored by the mirror store', async () => {
    const key = testLogKey('tiles.test/peer');
    await dataSource.query(
      `INSERT INTO federation_peers (peer, origin, verifier_key, witness_key, query_url)
       VALUES ($1, $2, $3, '', 'http://127.0.0.1:1')`,
      [PEER, key.origin, key.verifierKey],
    );
    const log = new LogGenerator(key, 'peer');
    const reader = new SpecTileReader(`${query.url}/logs/${PEER}`, key.verifierKey);
    const store = new TypeOrmMirrorStore(dataSource);
    const seen: ReaderCheckpoint[] = [];
    for (const size of sizes()) {
      const part = log.grow(size);
      await store.storePart({
        ...part,
        peer: PEER,
        source: 'catch-up',
        profiles: part.entries.map(() => undefined),
        accountStates: [],
      });
      await readAndCheck(reader, seen, (i) => testEntry('peer', i), size);
    }
  }, 300_000);

  it.each([
    ['tile/0/1', 400, 'tile.invalid'],
    ['tile/0/x000/000', 400, 'tile.invalid'],
    ['tile/0/000.p/256', 400, 'tile.invalid'],
    ['tile/0/000.p/0', 400, 'tile.invalid'],
    ['tile/64/000', 400, 'tile.invalid'],
    ['tile/entries/000.p/01', 400, 'tile.invalid'],
    ['tile/0/x999/999', 404, 'tile.not-found'],
  ])('GET /logs/self/%s → %i %s', async (path, status, code) => {
    const res = await fetch(`${query.url}/logs/self/${path}`);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) as string } });
  });

  it('an unknown log is 404 peer.unknown', async () => {
    const res = await fetch(`${query.url}/logs/nobody/tile/0/000`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'peer.unknown' } });
  });
});
