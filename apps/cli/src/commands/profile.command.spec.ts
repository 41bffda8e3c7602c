import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FakeGateway, testHome } from '../../test/fake-gateway';

describe('mesh profile', () => {
  const home = testHome();

  it.each([
    [['profile', 'create', '--account', 'alice@example.com'], /required option '--portal <url>'/],
    [['profile', 'create', '--portal', 'https://portal.example'], /required option '--account <address>'/],
    [['profile', 'create', '--portal', 'portal.example', '--account', 'a@b.c'], /--portal must be a URL/],
    [['profile', 'create', '--portal', 'ftp://p.example', '--account', 'a@b.c'], /--portal must be an http/],
    [
      ['profile', 'create', '--portal', 'https://p.example', '--query', 'x', '--account', 'a@b.c'],
      /--query must be a URL/,
    ],
    [['profile', 'show', 'extra'], /too many arguments/],
    [['profile', 'frobnicate'], /unknown command 'frobnicate'/],
  ])('%j is bad usage: exit 2, a clear message, nothing written', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    expect(run.out).toEqual([]);
    expect(existsSync(join(home.dir(), 'profile.json'))).toBe(false);
  });

  it('refuses an account that is not an address before contacting the portal (usage.invalid)', async () => {
    const run = await home.mesh([
      '--json',
      'profile',
      'create',
      '--portal',
      'https://p.example',
      '--account',
      'not an address',
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/^mesh: not an account address: .*\[usage\.invalid\]$/m);
    expect(JSON.parse(run.out[0]!)).toMatchObject({ error: { code: 'usage.invalid', check: 'account' } });
  });

  it('names the portal and the check when the portal cannot be reached (exit 1)', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const run = await home.mesh(
      ['profile', 'create', '--portal', 'https://p.example/', '--account', 'alice@example.com'],
      { fetchImpl: () => Promise.reject(refused) },
    );
    expect(run.code).toBe(1);
    expect(run.err).toContain('contacting portal https://p.example …');
    expect(run.err).toMatch(
      /^mesh: POST https:\/\/p\.example\/\.well-known\/mmm\/ failed: fetch failed: connect ECONNREFUSED \(check: reach the portal\) \[portal\.unreachable\]$/m,
    );
  });

  it('show on an empty home says what to do (state.missing, exit 1), as JSON too', async () => {
    const human = await home.mesh(['profile', 'show']);
    expect(human.code).toBe(1);
    expect(human.err).toMatch(
      /holds no profile: mesh profile create, mesh device connect or mesh escrow recover/,
    );
    const json = await home.mesh(['profile', 'show', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out[0]!)).toMatchObject({ error: { code: 'state.missing' } });
  });

  it('takes --home over MESH_HOME, and reports a refusal with the portal and the transaction', async () => {
    const portal = new FakeGateway();
    portal.transactions.set('CreateAccount', () => ({
      status: 403,
      fields: { Error: 'account.forbidden', StatusDescription: 'not here' },
    }));
    const other = join(home.dir(), 'other');
    const run = await home.mesh(
      ['profile', 'create', '--home', other, '--portal', portal.url, '--account', 'alice@example.com'],
      { fetchImpl: portal.fetch },
    );
    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /^mesh: fake refused CreateAccount: 403 account\.forbidden — not here \(check: CreateAccount answer\) \[portal\.refused\]$/m,
    );
    expect(portal.calls.at(-1)).toBe('CreateAccount');
    expect(existsSync(join(other, 'trust.json'))).toBe(true);
    expect(existsSync(join(other, 'keys', 'master.json'))).toBe(true);
    expect(existsSync(join(home.dir(), 'trust.json'))).toBe(false);
  });

  it('leaves the home usable after 409 account.exists (issue #16): another address then succeeds', async () => {
    const portal = new FakeGateway();
    portal.transactions.set('CreateAccount', (body) =>
      body.Account === 'alice@example.com'
        ? { status: 409, fields: { Error: 'account.exists', StatusDescription: 'the address is taken' } }
        : {},
    );
    // The taken address is not this home's account: its Status is refused.
    portal.transactions.set('Status', () => ({ status: 404, fields: { Error: 'account.unknown' } }));
    const create = (account: string) =>
      home.mesh(['profile', 'create', '--portal', portal.url, '--account', account], {
        fetchImpl: portal.fetch,
      });
    const taken = await create('Alice@Example.com');
    expect(taken.code).toBe(1);
    expect(taken.err).toMatch(/alice@example\.com is taken on this portal .*another --account/);
    expect(existsSync(join(home.dir(), 'profile.json'))).toBe(false);
    expect(existsSync(join(home.dir(), 'keys', 'master.json'))).toBe(false);
    const other = await create('alice2@example.com');
    expect(other.err).not.toMatch(/is registering/);
    expect(other.code).toBe(0);
  });

  it('names a --portal given with a wrong path as given, path included (issue #16)', async () => {
    const portal = new FakeGateway();
    const run = await home.mesh(
      ['profile', 'create', '--portal', 'https://portal.example/wrong/', '--account', 'alice@example.com'],
      { fetchImpl: portal.fetch },
    );
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^mesh: https:\/\/portal\.example\/wrong refused Hello/m);
  });
});
