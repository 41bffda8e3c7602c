import { fromBase64 } from '@cryptomesh/log';
import type { FetchFunction } from '@cryptomesh/service';

/** The most entries one `/entries` request returns (DESIGN.md "HTTP"). */
const ENTRIES_PAGE = 1000;

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
 * it exactly as parts from the topic. Every request is bounded by `timeoutMs`; a failure rejects
 * with an Error naming the URL and the status.
 */
export class PeerQueryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    /** The platform's fetch, or one that trusts a private CA (PEER_CA_FILE, docs/tls.md). */
    private readonly fetchImpl: FetchFunction = (input, init) => fetch(input, init),
  ) {}

  /** The peer's checkpoint text (its latest seal with cosignatures), or undefined while its log is empty. */
  async checkpoint(): Promise<string | undefined> {
    const response = await this.get('/logs/self/checkpoint');
    if (response.status === 404) return undefined;
    await this.ok(response);
    return response.text();
  }

  async part(n: number): Promise<PeerPart> {
    const response = await this.get(`/logs/self/parts/${n}`);
    await this.ok(response);
    const body = (await response.json()) as Record<string, unknown>;
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

  /** The entries [first, size), fetched in pages. */
  async entries(first: number, size: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let start = first; start < size; start += ENTRIES_PAGE) {
      const end = Math.min(size, start + ENTRIES_PAGE);
      const path = `/logs/self/entries?start=${start}&end=${end}`;
      const response = await this.get(path);
      await this.ok(response);
      const body = (await response.json()) as { entries?: unknown };
      if (!Array.isArray(body.entries) || body.entries.length !== end - start) {
        throw new Error(`${this.baseUrl}${path}: expected ${end - start} entries`);
      }
      for (const entry of body.entries) {
        if (typeof entry !== 'string') throw new Error(`${this.baseUrl}${path}: an entry is not base64`);
        out.push(fromBase64(entry, 'entry'));
      }
    }
    return out;
  }

  private get(path: string): Promise<Response> {
    return this.fetchImpl(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
  }

  private async ok(response: Response): Promise<void> {
    if (response.ok) return;
    const text = await response.text().catch(() => '');
    throw new Error(`${response.url}: HTTP ${response.status} ${text.slice(0, 200)}`);
  }
}
