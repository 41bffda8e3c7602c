import type { RunningService } from '@cryptomesh/service';
import { createTestDatabase, type TestDatabase } from '../env/test-database';
import { startGateway } from '../support/test-gateway';

/** `Hello` from the loopback socket, as a proxy forwarding for `forwardedFor` would send it. */
async function hello(gateway: RunningService, forwardedFor?: string): Promise<number> {
  const res = await fetch(`${gateway.url}/.well-known/mmm/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
    },
    body: JSON.stringify({ HelloRequest: {} }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** How many of `count` Hellos were answered 200 before the first 429. */
async function acceptedBeforeLimit(gateway: RunningService, count: number, forwardedFor?: string) {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push(await hello(gateway, forwardedFor));
  const first429 = statuses.indexOf(429);
  expect(first429).toBeGreaterThan(0);
  expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
  return first429;
}

/**
 * Issue #15, rate limits behind a proxy: the per-address limit counts the socket's address unless
 * the socket is a configured proxy (TRUSTED_PROXIES); only then is X-Forwarded-For believed, and
 * only as far as the last address that is not itself a trusted proxy. The bucket holds 10 requests
 * (RATE_LIMIT_ADDRESS_PER_MINUTE 6: the burst is at least 10) and refills one every 10 s.
 */
describe('gateway: client addresses behind a proxy', () => {
  let db: TestDatabase;
  const gateways: RunningService[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('gwproxy');
  });

  afterAll(async () => {
    for (const g of gateways) await g.app.close();
    await db?.drop();
  });

  async function gateway(env: Record<string, string>): Promise<RunningService> {
    const g = await startGateway(db.url, { RATE_LIMIT_ADDRESS_PER_MINUTE: '6', ...env });
    gateways.push(g);
    return g;
  }

  it('ignores X-Forwarded-For from a socket that is not a trusted proxy: a client cannot pose as many', async () => {
    const g = await gateway({});
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await hello(g, `203.0.113.${i + 1}`));
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('counts each client behind a trusted proxy on its own, and a forged leftmost address changes nothing', async () => {
    const g = await gateway({ TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' });
    expect(await acceptedBeforeLimit(g, 12, '203.0.113.5')).toBe(10);
    // Another client behind the same proxy has its own budget…
    expect(await hello(g, '203.0.113.6')).toBe(200);
    // …but the first cannot get a new one by prepending an address: the proxy appends what it saw.
    expect(await hello(g, '198.51.100.7, 203.0.113.5')).toBe(429);
    // An inner proxy of a trusted range is skipped: the client is the address before it.
    expect(await hello(g, '203.0.113.5, 10.1.2.3')).toBe(429);
    expect(await hello(g, '203.0.113.9, 10.1.2.3')).toBe(200);
  });

  it('refuses a TRUSTED_PROXIES value that is not addresses or ranges, naming the variable', async () => {
    await expect(gateway({ TRUSTED_PROXIES: '10.0.0.0/33' })).rejects.toThrow(/TRUSTED_PROXIES/);
    await expect(gateway({ TRUSTED_PROXIES: 'proxy.example' })).rejects.toThrow(/TRUSTED_PROXIES/);
  });
});
