import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestFederation, type Federation } from '../support/federation';
import { waitFor, type KnownPortal } from '../support/federation-oracle';
import { RoguePortal } from '../support/rogue-portal';
import { runScriptedSession } from '../support/scripted-session';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureChromium } = require('../env/chromium') as { ensureChromium: () => Promise<string> };

const ARTIFACTS = join(__dirname, '../artifacts');

/** The flags a root, offline machine needs (docs/testing.md "Browser"). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface History {
  minutes: number;
  buckets: number[];
  throughput: Record<string, number[]>;
  lag: Record<string, { mean: (number | null)[]; max: (number | null)[] }>;
  self: { head: { part: number; size: number; timeMs: number } | null };
}

interface FederationAnswer {
  portal: { id: string };
  peers: Array<{ id: string; head: { part: number; size: number } | null; openFindings: number }>;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

/** The entries the page shows in portal `id`'s row ("12 entries · part 3"), or -1 without a head. */
async function shownSize(page: Page, id: string): Promise<number> {
  const cell = page.locator(`#portals tr[data-portal="${id}"] td.head`);
  if ((await cell.count()) === 0) return -1;
  const text = await cell.textContent();
  const match = /^(\d+) entries/.exec(text ?? '');
  return match ? Number(match[1]) : -1;
}

/**
 * Issue #8's status page, end to end: a three-portal federation (separate processes, the real
 * PostgreSQL and Kafka) plus a rogue portal; portal A's query service serves the page; headless
 * Chromium (Debian's, through playwright-core) sees the three portals with numbers that move without
 * a reload, sees the rogue's equivocation appear as a finding, opens its evidence, and a screenshot
 * is kept in test/artifacts/status-page.png.
 */
describe('the status page (query service GET /)', () => {
  let federation: Federation;
  let rogue: RoguePortal;
  let browser: Browser;
  let page: Page;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  const consoleErrors: string[] = [];
  let sessions = 0;

  const traffic = (portal: KnownPortal) =>
    runScriptedSession(portal.gatewayUrl, `status${sessions++}-${portal.id}@example.com`);

  beforeAll(async () => {
    const executablePath = await ensureChromium();
    rogue = new RoguePortal(`rogue-${Date.now().toString(36)}`, process.env.KAFKA_BROKERS!.split(','));
    await rogue.connect();
    federation = await startTestFederation({
      extraPeers: [rogue.peer],
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, CATCHUP_INTERVAL_MS: 1_000, LOG_LEVEL: 'warn' },
    });
    const portals: KnownPortal[] = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
    await Promise.all([traffic(A), traffic(B), traffic(C)]);
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await rogue?.close().catch(() => undefined);
    await federation?.stop();
  }, 120_000);

  it('lists every portal of the federation with live numbers that move without a reload', async () => {
    await page.goto(`${A.queryUrl}/`);
    // The script names the tab after the portal once its first /status answer arrives.
    await waitFor('the title names the portal', async () => (await page.title()).includes(A.id), 30_000);
    for (const p of [A, B, C]) {
      await waitFor(`the page shows ${p.id}'s head`, async () => (await shownSize(page, p.id)) >= 0, 30_000);
    }
    expect(await page.locator(`#portals tr[data-portal="${A.id}"] .self-tag`).textContent()).toBe(
      '(this portal)',
    );
    expect(await page.locator('.uplot').count()).toBe(2);

    const before = await shownSize(page, B.id);
    const refreshed = Number(await page.locator('body').getAttribute('data-refreshed'));
    await traffic(B);
    await waitFor(
      `the page shows B's new entries`,
      async () => (await shownSize(page, B.id)) > before,
      30_000,
    );
    expect(Number(await page.locator('body').getAttribute('data-refreshed'))).toBeGreaterThan(refreshed);
    expect(await page.locator('#verdict-title').textContent()).toMatch(/All healthy|Degraded|Action needed/);
  }, 90_000);

  it('serves the history the charts draw: entries per minute add up to each log, lag per peer', async () => {
    const [{ body: history }, { body: fed }] = await Promise.all([
      getJson<History>(`${A.queryUrl}/status/history?minutes=60`),
      getJson<FederationAnswer>(`${A.queryUrl}/federation`),
    ]);
    expect(history.buckets).toHaveLength(60);
    const sum = (values: number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);
    // The log started during this test: every seal is in the window, so the minutes add up to the head.
    expect(sum(history.throughput['self'])).toBe(history.self.head!.size);
    for (const peer of [B, C]) {
      const mirrored = fed.peers.find((p) => p.id === peer.id)!.head!.size;
      expect(sum(history.throughput[peer.id])).toBeGreaterThanOrEqual(mirrored);
      expect(history.lag[peer.id]!.max.some((v) => v !== null && v >= 0)).toBe(true);
    }
    for (const bad of ['0', '1441', 'sixty', '-5', '1.5']) {
      const answer = await getJson<{ error: { code: string; message: string } }>(
        `${A.queryUrl}/status/history?minutes=${bad}`,
      );
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('request.invalid');
      expect(answer.body.error.message).toContain('minutes');
    }
    const res = await fetch(`${A.queryUrl}/`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('shows a rogue portal’s equivocation as a finding, with its evidence one click away', async () => {
    expect(await page.locator('tr.finding').count()).toBe(0);
    const p0 = await rogue.nextPart(1);
    const p1 = await rogue.nextPart(1);
    await rogue.publish(p0);
    await rogue.publish(p1);
    await waitFor(
      `${A.id} mirrors the rogue's part 1`,
      async () => {
        const { body } = await getJson<FederationAnswer>(`${A.queryUrl}/federation`);
        return body.peers.find((p) => p.id === rogue.id)?.head?.part === 1;
      },
      30_000,
    );
    await rogue.publish(rogue.resealed(p1, { timeMs: p1.value.timeMs + 1 }));

    const finding = page.locator('tr.finding', { hasText: 'equivocation' });
    await finding.waitFor({ timeout: 30_000 });
    expect(await finding.locator('td').nth(1).textContent()).toBe(rogue.id);
    expect(await page.locator('#verdict').getAttribute('class')).toContain('bad');
    expect(await page.locator('#verdict-reasons').textContent()).toContain(`against ${rogue.id}`);
    expect(await page.locator(`#portals tr[data-portal="${rogue.id}"] td.bad-text`).textContent()).toBe('1');

    await finding.locator('button.evidence').click();
    const evidence = page.locator('pre.evidence');
    await evidence.waitFor();
    const shown = JSON.parse((await evidence.textContent())!) as { kind: string; evidence: unknown };
    expect(shown.kind).toBe('equivocation');
    expect(JSON.stringify(shown.evidence)).toContain(rogue.origin);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 90_000);
});
