import { fromBase64 } from '@cryptomesh/log';
import type { FetchFunction } from '@cryptomesh/service';

/** The most entries one `/entries` request returns (DESIGN.md "HTTP"). */
const ENTRIES_PAGE = 1000;

/** The largest checkpoint or part description read (a note with every witness's cosignature fits). */
const SMALL_ANSWER_BYTES = 256 * 1024;

/** What one catch-up may hold of a peer's part: the limits of an unsealed part on the topic. */
export interface CatchUpLimits {
  readonly maxEntries: number;
  /** Decoded entry bytes of one part. */
  readonly maxBytes: number;
}

/** A part as a peer's query service describes it (unverified). */
export interface PeerPart {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly seal: string;
}

/**
 * Reads a peer's own log from its query service (`/logs/self/…`), for the catch-up path
 * (docs/design/federation.md "Catch-up"). Everything it returns is untrusted: the caller verifies
 * it exactly as parts from the topic. Every request is bounded in time (`timeoutMs`) and every
 * answer in size (a checkpoint or part description 256 KiB; the entries of one part `limits`, read
 * page by page and refused as soon as a page goes past them), so a hostile peer cannot make this
 * service hold more than one part's worth. A failure rejects with an Error naming the URL.
 */
export class PeerQueryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    /** The platform's fetch, or one that trusts a private CA (PEER_CA_FILE, docs/tls.md). */
    private readonly fetchImpl: FetchFunction = (input, init) => fetch(input, init),
    private readonly limits: CatchUpLimits = { maxEntries: 20_000, maxBytes: 64 * 1024 * 1024 },
  ) {}

  /** The peer's checkpoint text (its latest seal with cosignatures), or undefined while its log is empty. */
  async checkpoint(): Promise<string | undefined> {
    const response = await this.get('/logs/self/checkpoint');
    if (response.status === 404) return undefined;
    await this.ok(response);
    return new TextDecoder().decode(await this.body(response, SMALL_ANSWER_BYTES));
  }

  async part(n: number): Promise<PeerPart> {
    const response = await this.get(`/logs/self/parts/${n}`);
    await this.ok(response);
    const body = this.json(response, await this.body(response, SMALL_ANSWER_BYTES)) as Record<
      string,
      unknown
    >;
    const { part, first, size, seal } = body;
    if (
      !Number.isSafeInteger(part) ||
      !Number.isSafeInteger(first) ||
      !Number.isSafeInteger(size) ||
      typeof seal !== 'string'
    ) {
      throw new Error(`${this.baseUrl}/logs/self/parts/${n}: not a part description`);
    }
    return { part: part as number, first: first as number, size: size as number, seal };
  }

  /**
   * The entries [first, size) of one part, fetched in pages. A range of more than `limits.maxEntries`
   * is refused before any request; the pages are refused as soon as the part's decoded bytes go
   * past `limits.maxBytes` (a page's answer may hold base64 of the bytes still allowed, plus JSON).
   */
  async entries(first: number, size: number): Promise<Uint8Array[]> {
    if (!(Number.isSafeInteger(first) && Number.isSafeInteger(size) && first >= 0 && size >= first))
      throw new Error(`${this.baseUrl}: entries [${first}, ${size}) is not a range`);
    if (size - first > this.limits.maxEntries)
      throw new Error(
        `${this.baseUrl}: a part of ${size - first} entries is above the limit of ${this.limits.maxEntries}`,
      );
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (let start = first; start < size; start += ENTRIES_PAGE) {
      const end = Math.min(size, start + ENTRIES_PAGE);
      const path = `/logs/self/entries?start=${start}&end=${end}`;
      const response = await this.get(path);
      await this.ok(response);
      const left = this.limits.maxBytes - bytes;
      const body = this.json(
        response,
        await this.body(response, Math.ceil(left / 3) * 4 + (end - start) * 4 + 1024),
      ) as { entries?: unknown };
      if (!Array.isArray(body.entries) || body.entries.length !== end - start) {
        throw new Error(`${this.baseUrl}${path}: expected ${end - start} entries`);
      }
      for (const entry of body.entries) {
        if (typeof entry !== 'string') throw new Error(`${this.baseUrl}${path}: an entry is not base64`);
        const decoded = fromBase64(entry, 'entry');
        bytes += decoded.length;
        if (bytes > this.limits.maxBytes)
          throw new Error(
            `${this.baseUrl}${path}: the part's entries go past the limit of ${this.limits.maxBytes} bytes`,
          );
        out.push(decoded);
      }
    }
    return out;
  }

  private get(path: string): Promise<Response> {
    return this.fetchImpl(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
  }

  /** The answer's body, refused (and its stream cancelled) as soon as it is longer than `max` bytes. */
  private async body(response: Response, max: number): Promise<Uint8Array> {
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > max) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`${response.url}: an answer of ${declared} bytes is above the limit of ${max}`);
    }
    const chunks: Uint8Array[] = [];
    let length = 0;
    if (response.body !== null) {
      // Leaving the loop early (the throw) cancels the stream: nothing more is read.
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        length += chunk.length;
        if (length > max) throw new Error(`${response.url}: the answer goes past the limit of ${max} bytes`);
        chunks.push(chunk);
      }
    }
    return Buffer.concat(chunks, length);
  }

  private json(response: Response, body: Uint8Array): unknown {
    try {
      return JSON.parse(new TextDecoder().decode(body)) as unknown;
    } catch {
      throw new Error(`${response.url}: the answer is not JSON`);
    }
  }

  private async ok(response: Response): Promise<void> {
    if (response.ok) return;
    const text = new TextDecoder().decode(
      await this.body(response, 64 * 1024).catch(() => new Uint8Array(0)),
    );
    throw new Error(`${response.url}: HTTP ${response.status} ${text.slice(0, 200)}`);
  }
}
