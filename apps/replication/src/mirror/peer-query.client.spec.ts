import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PeerQueryClient } from './peer-query.client';

/**
 * The catch-up client against a loopback HTTP server playing a hostile peer's query service
 * (issue #15): every answer is read with a byte limit and refused past it, a part range above
 * the entry limit is refused before any request.
 */
describe('PeerQueryClient bounds', () => {
  let server: Server;
  let url: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  let requests: string[];
  let aborted: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.on('close', () => {
        if (!res.writableFinished) aborted++;
      });
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    requests = [];
    aborted = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Streams `prefix` then 'A's until the client goes away (or 256 MiB). */
  const endless =
    (prefix: string) =>
    (_req: IncomingMessage, res: ServerResponse): void => {
      const chunk = Buffer.alloc(64 * 1024, 'A');
      let sent = 0;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(prefix);
      const pump = (): void => {
        while (!res.destroyed && sent < 256 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('"]}');
      };
      pump();
    };

  const client = (limits = { maxEntries: 100, maxBytes: 64 * 1024 }) =>
    new PeerQueryClient(url, 10_000, undefined, limits);

  it('refuses a checkpoint that never ends, and stops reading it', async () => {
    handler = endless('');
    await expect(client().checkpoint()).rejects.toThrow(/goes past the limit of 262144 bytes/);
    await waitUntil(() => aborted === 1);
  });

  it('refuses an answer whose declared length is above the limit without reading it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      res.write('x');
    };
    await expect(client().part(0)).rejects.toThrow(/an answer of 10485760 bytes is above the limit/);
  });

  it('refuses a part range above the entry limit before any request', async () => {
    handler = endless('{"entries":["');
    await expect(client().entries(0, 9e15)).rejects.toThrow(/above the limit of 100/);
    await expect(client().entries(5, 2)).rejects.toThrow(/is not a range/);
    expect(requests).toEqual([]);
  });

  it("refuses an entries page that goes past the part's byte limit, and stops reading it", async () => {
    handler = endless('{"entries":["');
    await expect(client().entries(0, 10)).rejects.toThrow(/goes past the limit/);
    await waitUntil(() => aborted === 1);
  });

  it('refuses entries that, over several pages, go past the byte limit', async () => {
    // 2000 entries of 100 bytes = 200 KB > 64 KiB in all (each page answer is then read with what is left).
    handler = (req, res) => {
      const query = new URL(req.url ?? '/', url).searchParams;
      const count = Number(query.get('end')) - Number(query.get('start'));
      const entry = Buffer.alloc(100, 1).toString('base64');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ entries: Array.from({ length: count }, () => entry) }));
    };
    await expect(client({ maxEntries: 2_000, maxBytes: 64 * 1024 }).entries(0, 2_000)).rejects.toThrow(
      /past the limit/,
    );
    // Within the limits, the same answers are taken.
    const entries = await client({ maxEntries: 2_000, maxBytes: 1024 * 1024 }).entries(0, 1_500);
    expect(entries).toHaveLength(1_500);
    expect(requests.slice(-2)).toEqual([
      '/logs/self/entries?start=0&end=1000',
      '/logs/self/entries?start=1000&end=1500',
    ]);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
