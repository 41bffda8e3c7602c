import { nobleEd25519 } from '@cryptomesh/crypto/portable';
import {
  CompactRange,
  HASH_SIZE,
  MAX_BUNDLED_ENTRY,
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

/** A checkpoint is a signed note: C2SP signed-note bounds one at 1 MiB. */
const MAX_CHECKPOINT_BYTES = 1 << 20;
/** Hash tiles kept per TiledLog (8 KiB each at most): a proof needs a few per level. */
const MAX_CACHED_TILES = 64;
/** A body past its bound (readAtMost): turned into `verify.answer` by the caller. */
class TooLarge extends Error {}

/** The body of `res`, read as a stream and abandoned past `maxBytes` (rejects with TooLarge). */
async function readAtMost(res: Response, maxBytes: number): Promise<Uint8Array> {
  if (res.body === null) return new Uint8Array(0);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.length;
    if (length > maxBytes) {
      await reader.cancel();
      throw new TooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

/**
 * A log served as C2SP tlog-tiles under `prefix` (`<query URL>/logs/self`, or any tiled log):
 * its checkpoint, tiles and entry bundles, read over HTTP. Tiles are immutable, so proofs built
 * from them need no trust in the server beyond the checkpoint they are checked against.
 */
export class TiledLog {
  /** Hash tiles already read, by path (the path names the width, so a size's view): shared by every proof. */
  private readonly tiles = new Map<string, Promise<Hash[]>>();

  constructor(
    readonly prefix: string,
    private readonly fetchImpl: FetchLike = globalFetch,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
    /** The name errors give the serving portal (its id), else the prefix. */
    private readonly portal = prefix,
  ) {}

  /**
   * GET `path` below the prefix: the body of a 200, read only up to `maxBytes` (what the resource
   * can hold at most), else `verify.answer` — a server cannot make the client buffer more than a
   * resource's worth. `portal.unreachable` on a network failure or timeout, `portal.refused` (with
   * the status in `evidence.status`) on any other status.
   */
  private async get(path: string, maxBytes: number): Promise<Uint8Array> {
    const url = `${this.prefix}/${path}`;
    const tooLarge = () =>
      new ClientError('verify.answer', `${url} is larger than the ${maxBytes} bytes it can hold`, {
        portal: this.portal,
        check: 'answer shape',
        evidence: { url, maxBytes },
      });
    let res: Response;
    let body: Uint8Array;
    try {
      res = await this.fetchImpl(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new ClientError('portal.refused', `${url} answered ${res.status}`, {
          portal: this.portal,
          evidence: { url, status: res.status },
        });
      }
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > maxBytes) {
        await res.body?.cancel();
        throw tooLarge();
      }
      body = await readAtMost(res, maxBytes);
    } catch (error) {
      if (error instanceof ClientError) throw error;
      if (error instanceof TooLarge) throw tooLarge();
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
    const note = new TextDecoder().decode(await this.get('checkpoint', MAX_CHECKPOINT_BYTES));
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
    let hit = this.tiles.get(path);
    if (hit === undefined) {
      hit = this.get(path, width * HASH_SIZE).then((bytes) =>
        this.decoded(path, () => splitHashTile(bytes, width)),
      );
      if (this.tiles.size >= MAX_CACHED_TILES) this.tiles.delete(this.tiles.keys().next().value!);
      this.tiles.set(path, hit);
      hit.catch(() => this.tiles.delete(path));
    }
    return hit;
  }

  /** The entries of bundle `index` as wide as a tree of `size` makes it. */
  async bundle(index: number, size: number): Promise<Uint8Array[]> {
    const width = tileWidthAt('entries', index, size);
    const path = formatTilePath({ level: 'entries', index, width });
    const bytes = await this.get(path, width * (2 + MAX_BUNDLED_ENTRY));
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
   * library's `inclusionProof` and `consistencyProof` are built from tiles. Tiles already read by
   * this TiledLog are not read again (`tiles`, bounded).
   */
  reader(size: number): HashReader {
    const tile = (level: number, index: number) => this.tile(level, index, size);
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
                {
                  portal: this.portal,
                  check: 'answer shape',
                  evidence: { prefix: this.prefix, level, index, size },
                },
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
