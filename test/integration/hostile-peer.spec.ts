import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOG_MESSAGE_MAX_BYTES, encodeLogMessage, type LogRecord } from '@cryptomesh/intermesh';
import { startTestFederation, type Federation } from '../support/federation';
import { waitFor, type KnownPortal } from '../support/federation-oracle';
import { TestAccount, post } from '../support/mesh-client';
import { getOk } from '../support/mirror-client';
import { scrape } from '../support/prometheus-text';
import { RoguePortal, type RoguePart } from '../support/rogue-portal';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startBroker } = require('../../deploy/kafka/kafka-broker.js') as {
  startBroker: (o?: { log?: (m: string) => void }) => Promise<{ brokers: string; stop: () => Promise<void> }>;
};

/**
 * Issue #15, "Bounded work and memory against a hostile peer", against the real services (two
 * honest portals, real PostgreSQL, real Kafka): for a minute, a hostile peer streams entries of a
 * part it never seals onto its log topic — far more than its part limit, 400 MB in all — while its
 * query service answers every catch-up with a checkpoint or an entries page that never ends, or a
 * part described as `size: 9e15` under a seal that signs 5 entries. The honest replication services'
 * RSS stays bounded (without the limits they would hold the whole stream), each cap shows up as a
 * transport error or a counted catch-up failure (never a finding: nothing the peer sealed is
 * wrong), and the honest portals' mirrors of each other keep up with a steady write load.
 */
const HOSTILE_MS = 60_000;
/** The part limits of the honest replication services (PEER_PART_MAX_ENTRIES / _BYTES). */
const MAX_ENTRIES = Number(process.env.HOSTILE_MAX_ENTRIES ?? 2_000);
const MAX_BYTES = Number(process.env.HOSTILE_MAX_BYTES ?? 4 * 1024 * 1024);
/** What the rogue streams in all: without the limits, the assembler would hold it all. */
const STREAMED_BYTES = 400 * 1024 * 1024;
/** How much an honest replication service's RSS may grow over its level before the attack. */
const RSS_GROWTH_LIMIT = 150 * 1024 * 1024;

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** Writes `{"entries":["AAAA…` until the client goes away or `limit` bytes were sent. */
function endless(res: ServerResponse, prefix: string, limit = 1024 * 1024 * 1024): void {
  const chunk = Buffer.alloc(64 * 1024, 'A');
  let sent = 0;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(prefix);
  const pump = (): void => {
    while (!res.destroyed && sent < limit) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end('"]}');
  };
  pump();
}

/** The rogue's query service: every answer is a trap a bounded client survives. */
class HostileQuery {
  readonly counts = {
    checkpoint: 0,
    endlessCheckpoint: 0,
    inflated: 0,
    honestDescription: 0,
    endlessEntries: 0,
  };
  private server: Server | undefined;

  constructor(private readonly part: RoguePart) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url.startsWith('/logs/self/checkpoint')) {
        this.counts.checkpoint++;
        if (this.counts.checkpoint % 3 === 0) {
          this.counts.endlessCheckpoint++;
          endless(res, '');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' }).end(this.part.seal);
        return;
      }
      if (url.startsWith('/logs/self/parts/')) {
        const inflated = (this.counts.inflated + this.counts.honestDescription) % 2 === 0;
        if (inflated) this.counts.inflated++;
        else this.counts.honestDescription++;
        const { value } = this.part;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            part: value.part.index,
            first: value.part.first,
            size: inflated ? 9e15 : value.size,
            seal: this.part.seal,
          }),
        );
        return;
      }
      if (url.startsWith('/logs/self/entries')) {
        this.counts.endlessEntries++;
        endless(res, '{"entries":["');
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) =>
      this.server === undefined ? resolve(undefined) : this.server.close(resolve),
    );
  }
}

/** The size of a log by a query service's checkpoint of it (`self` or a peer id), 0 while it has none. */
async function sizeOf(queryUrl: string, log: string): Promise<number> {
  const response = await fetch(`${queryUrl.replace(/\/$/, '')}/logs/${log}/checkpoint`);
  if (response.status === 404) return 0;
  if (!response.ok) throw new Error(`${queryUrl} /logs/${log}/checkpoint: ${response.status}`);
  return Number((await response.text()).split('\n')[1]);
}

describe('a hostile peer cannot exhaust the replication service (issue #15)', () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  let federation: Federation;
  let rogue: RoguePortal;
  let hostile: HostileQuery;
  let portals: KnownPortal[];

  beforeAll(async () => {
    broker = await startBroker({ log: () => undefined });
    rogue = new RoguePortal(`hostile-${Date.now().toString(36)}`, broker.brokers.split(','));
    await rogue.connect();
    // A genuine seal of the rogue's part 0 (5 entries): its checkpoint, and what its catch-up
    // descriptions claim to describe. The part itself is never served.
    hostile = new HostileQuery(await rogue.nextPart(5));
    const queryUrl = await hostile.start();
    federation = await startTestFederation({
      portals: ['alpha', 'beta'],
      kafkaBrokers: broker.brokers,
      extraPeers: [{ ...rogue.peer, queryUrl }],
      env: {
        LOG_LEVEL: 'warn',
        SEAL_INTERVAL_MS: 300,
        HEARTBEAT_MS: 2_000,
        CATCHUP_INTERVAL_MS: 500,
        CATCHUP_TIMEOUT_MS: 5_000,
        PEER_PART_MAX_ENTRIES: MAX_ENTRIES,
        PEER_PART_MAX_BYTES: MAX_BYTES,
        // The honest load below writes as fast as the portals answer, from one address: it is not
        // a test of the per-address limit, which a fast enough gateway reaches within the minute.
        RATE_LIMIT_ADDRESS_PER_MINUTE: 0,
      },
    });
    portals = federation.portals.map((p) => ({ ...p }));
  }, 240_000);

  afterAll(async () => {
    await hostile?.stop();
    await rogue?.close().catch(() => undefined);
    await federation?.stop();
    await broker?.stop();
  }, 120_000);

  it('for a minute: RSS stays bounded, every cap is a counted transport error, honest mirrors keep up', async () => {
    const pids = federation.portals.map((p) => p.pids.replication!);
    // The level before the attack.
    const before = pids.map(rssOf);
    const peak = [...before];
    const counters = async () =>
      Promise.all(
        federation.portals.map(async (p) => {
          const m = await scrape(p.urls.replication);
          return {
            tooLarge: m.sum('intermesh_mirror_transport_errors_total', {
              peer: rogue.id,
              code: 'assembler.too-large',
            }),
            described: m.sum('intermesh_mirror_transport_errors_total', {
              peer: rogue.id,
              code: 'catch-up.description',
            }),
            catchUpFailures: m.sum('intermesh_mirror_errors_total', { peer: rogue.id, stage: 'catch-up' }),
          };
        }),
      );
    const atStart = await counters();

    const deadline = Date.now() + HOSTILE_MS;
    let stop = false;
    // The flood: entries of the rogue's part 0, in order, never sealed, 8 KiB each, a message ~640 KB
    // of JSON. Past the limits the part is dropped and every later message is a gap.
    const flood = (async () => {
      const perMessage = 60;
      const entryBytes = 8 * 1024;
      const messages = Math.ceil(STREAMED_BYTES / (perMessage * entryBytes));
      for (let i = 0; i < messages && !stop; i++) {
        const first = i * perMessage;
        const entries = Array.from({ length: perMessage }, () => randomBytes(entryBytes));
        const record: LogRecord = encodeLogMessage(
          { type: 'entries', portal: rogue.id, part: 0, first, entries },
          LOG_MESSAGE_MAX_BYTES,
        );
        await rogue.send([record]);
        // Spread over the minute.
        const due = deadline - HOSTILE_MS + ((i + 1) * HOSTILE_MS) / messages;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      }
      return messages;
    })();
    // The honest write load, and the RSS samples, until the minute is over.
    let written = 0;
    const load = (async () => {
      while (Date.now() < deadline) {
        const portal = portals[written % portals.length]!;
        const account = await TestAccount.create(`load${written}@example.com`, undefined, portal.origin);
        const answer = await post(portal.gatewayUrl, 'CreateAccount', await account.createAccount());
        expect(answer.status).toBe(200);
        written++;
      }
    })();
    const sampler = (async () => {
      while (Date.now() < deadline) {
        pids.forEach((pid, i) => (peak[i] = Math.max(peak[i]!, rssOf(pid))));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      await Promise.all([load, sampler]);
    } finally {
      stop = true;
    }
    const streamed = await flood;
    expect(streamed * 60 * 8 * 1024).toBeGreaterThanOrEqual(STREAMED_BYTES * 0.9);
    expect(written).toBeGreaterThan(10);

    // Memory: bounded by the limits, not by what the rogue sent.
    const growth = Object.fromEntries(federation.portals.map((p, i) => [p.id, peak[i]! - before[i]!]));
    for (const [id, grown] of Object.entries(growth))
      expect({ id, grown, bounded: grown <= RSS_GROWTH_LIMIT }).toMatchObject({ id, bounded: true });

    // Every cap was hit and counted as a transport error or a catch-up/lag failure, at each portal.
    await waitFor('each portal counts every kind of refusal of the hostile peer', async () => {
      const now = await counters();
      return now.every(
        (c, i) =>
          c.tooLarge > atStart[i]!.tooLarge &&
          c.described > atStart[i]!.described &&
          c.catchUpFailures > atStart[i]!.catchUpFailures,
      );
    });
    expect(hostile.counts.endlessEntries).toBeGreaterThan(0);
    expect(hostile.counts.endlessCheckpoint).toBeGreaterThan(0);
    expect(hostile.counts.honestDescription).toBeGreaterThan(0);

    // Nothing the peer sealed is wrong: no finding against it, and nothing of it mirrored.
    for (const portal of portals) {
      const { findings } = await getOk<{ findings: unknown[] }>(
        portal.queryUrl,
        `/findings?subject=${rogue.id}&limit=10`,
      );
      expect(findings).toEqual([]);
      expect(await sizeOf(portal.queryUrl, rogue.id)).toBe(0);
    }

    // The honest portals kept mirroring each other: each mirror reaches the other's log promptly.
    for (const owner of portals) {
      const size = await sizeOf(owner.queryUrl, 'self');
      expect(size).toBeGreaterThan(0);
      for (const holder of portals.filter((p) => p.id !== owner.id)) {
        await waitFor(
          `${holder.id} mirrors ${owner.id} up to ${size}`,
          async () => (await sizeOf(holder.queryUrl, owner.id)) >= size,
          20_000,
        );
      }
    }
  }, 240_000);
});
