import { nobleEd25519 } from '@cryptomesh/crypto/portable';
import {
  CompactRange,
  TILE_HEIGHT,
  TILE_WIDTH,
  consistencyProof,
  decodeEntryBundle,
  formatTilePath,
  hashChildren,
  inclusionProof,
  isLogError,
  openNote,
  parseCheckpoint,
  splitHashTile,
  tileWidthAt,
  toBase64,
  type Checkpoint,
  type Ed25519,
  type Hash,
  type HashReader,
  type NodeId,
  type VerifierKey,
} from '@cryptomesh/log';
import { ClientError } from './client-error';
import { DEFAULT_TIMEOUT_MS, globalFetch, unreachableReason, type FetchLike } from './portal-http';

/**
 * A log served as C2SP tlog-tiles under `prefix` (`<query URL>/logs/self`, or any tiled log):
 * its checkpoint, tiles and entry bundles, read over HTTP. Tiles are immutable, so proofs built
 * from them need no trust in the server beyond the checkpoint they are checked against.
 */
export class TiledLog {
  constructor(
    readonly prefix: string,
    private readonly fetchImpl: FetchLike = globalFetch,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
    /** The name errors give the serving portal (its id), else the prefix. */
    private readonly portal = prefix,
  ) {}

  private async get(path: string): Promise<Uint8Array> {
    const url = `${this.prefix}/${path}`;
    let status: number;
    let body: Uint8Array;
    try {
      const res = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      body = new Uint8Array(await res.arrayBuffer());
    } catch (error) {
      throw new ClientError(
        'portal.unreachable',
        `GET ${url} failed: ${unreachableReason(error, this.timeoutMs)}`,
        {
          portal: this.portal,
          check: 'reach the portal',
          evidence: { url, method: 'GET' },
          cause: error,
        },
      );
    }
    if (status !== 200)
      throw new ClientError('portal.refused', `${url} answered ${status}`, {
        portal: this.portal,
        evidence: { url, status },
      });
    return body;
  }

  /**
   * The checkpoint, opened with the log's key (C2SP signed-note) and parsed; `verify.checkpoint-signature`
   * when it does not open.
   */
  async checkpoint(
    key: VerifierKey,
    ed25519: Ed25519 = nobleEd25519,
  ): Promise<{ checkpoint: Checkpoint; note: string }> {
    const note = new TextDecoder().decode(await this.get('checkpoint'));
    try {
      return { checkpoint: parseCheckpoint(openNote(note, key, ed25519).text, key.name), note };
    } catch (error) {
      throw new ClientError(
        'verify.checkpoint-signature',
        `${this.prefix}/checkpoint does not open with ${key.text}`,
        {
          portal: this.portal,
          check: 'checkpoint signature',
          cause: error,
        },
      );
    }
  }

  /** The hashes of tile (level, index) as wide as a tree of `size` makes it. */
  async tile(level: number, index: number, size: number): Promise<Hash[]> {
    const width = tileWidthAt(level, index, size);
    const path = formatTilePath({ level, index, width });
    const bytes = await this.get(path);
    return this.decoded(path, () => splitHashTile(bytes, width));
  }

  /** The entries of bundle `index` as wide as a tree of `size` makes it. */
  async bundle(index: number, size: number): Promise<Uint8Array[]> {
    const width = tileWidthAt('entries', index, size);
    const path = formatTilePath({ level: 'entries', index, width });
    const bytes = await this.get(path);
    return this.decoded(path, () => decodeEntryBundle(bytes, width));
  }

  /** `decode()`, with a tile or bundle that does not decode as `verify.answer` naming it. */
  private decoded<T>(path: string, decode: () => T): T {
    try {
      return decode();
    } catch (error) {
      if (!isLogError(error)) throw error;
      throw new ClientError('verify.answer', `${this.prefix}/${path} is malformed: ${error.message}`, {
        portal: this.portal,
        check: 'answer shape',
        evidence: { url: `${this.prefix}/${path}` },
        cause: error,
      });
    }
  }

  /**
   * The `HashReader` of `@cryptomesh/log` over the tiles of a tree of `size`: a stored node of
   * level ℓ = 8·L + h is the root of 2^h consecutive hashes of one tile of level L. With it, the
   * library's `inclusionProof` and `consistencyProof` are built from tiles (`proofsFromTiles`).
   */
  reader(size: number): HashReader {
    const cache = new Map<string, Promise<Hash[]>>();
    const tile = (level: number, index: number) => {
      const key = `${level}/${index}`;
      let hit = cache.get(key);
      if (hit === undefined) {
        hit = this.tile(level, index, size);
        cache.set(key, hit);
      }
      return hit;
    };
    return {
      readNodes: (ids: readonly NodeId[]) =>
        Promise.all(
          ids.map(async ({ level, index }) => {
            const tileLevel = Math.floor(level / TILE_HEIGHT);
            const height = level - TILE_HEIGHT * tileLevel;
            const first = index * 2 ** height;
            const hashes = await tile(tileLevel, Math.floor(first / TILE_WIDTH));
            let layer = hashes.slice(first % TILE_WIDTH, (first % TILE_WIDTH) + 2 ** height);
            if (layer.length !== 2 ** height)
              throw new ClientError(
                'verify.answer',
                `node (${level}, ${index}) is not in the tiles of size ${size}`,
                { portal: this.portal },
              );
            while (layer.length > 1) {
              const next: Hash[] = [];
              for (let i = 0; i < layer.length; i += 2) next.push(hashChildren(layer[i]!, layer[i + 1]!));
              layer = next;
            }
            return layer[0]!;
          }),
        ),
    };
  }

  /** RFC 9162 inclusion proof of entry `index` in the tree of `size`, from tiles. */
  inclusionProof(index: number, size: number): Promise<Hash[]> {
    return inclusionProof(this.reader(size), index, size);
  }

  /** RFC 9162 consistency proof from `from` to `to`, from the tiles of the tree of `to`. */
  consistencyProof(from: number, to: number): Promise<Hash[]> {
    return consistencyProof(this.reader(to), from, to);
  }
}

/**
 * Verifies a whole tiled log against its checkpoint (`mesh log verify --url`): every entry of every
 * bundle is hashed into a compact range — constant memory, whatever the size — and the root MUST
 * be the checkpoint's. `onProgress(entries, size)` is called after each bundle. Resolves to the
 * checkpoint; rejects `verify.inclusion` (with both roots) when the entries do not make its root.
 */
export async function verifyTiledLog(
  log: TiledLog,
  key: VerifierKey,
  onProgress: (entries: number, size: number) => void = () => undefined,
  ed25519: Ed25519 = nobleEd25519,
): Promise<Checkpoint> {
  const { checkpoint } = await log.checkpoint(key, ed25519);
  const range = CompactRange.empty();
  for (let n = 0; n * TILE_WIDTH < checkpoint.size; n++) {
    for (const entry of await log.bundle(n, checkpoint.size)) range.appendEntry(entry);
    onProgress(range.size, checkpoint.size);
  }
  const root = range.root();
  if (toBase64(root) !== toBase64(checkpoint.root))
    throw new ClientError(
      'verify.inclusion',
      `the entries of ${log.prefix} do not make the checkpoint's root`,
      {
        portal: log.prefix,
        check: 'root',
        evidence: { expected: toBase64(checkpoint.root), computed: toBase64(root), size: checkpoint.size },
      },
    );
  return checkpoint;
}
