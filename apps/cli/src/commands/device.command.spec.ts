import { accountUdf, generateKeyPair } from '@cryptomesh/crypto';
import { buildDeviceProfile, connectNonce, connectWitness } from '@cryptomesh/mesh';
import { bodyText, FakeGateway, testHome } from '../../test/fake-gateway';
import { CONNECT_POLL_MS } from './device.command';

/** A clock that only moves when the command sleeps. */
function fakeClock() {
  let now = 1_800_000_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms: number) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

const connect = (portal: FakeGateway, ...more: string[]) => [
  'device',
  'connect',
  '--portal',
  portal.url,
  '--account',
  'alice@example.com',
  ...more,
];

describe('mesh device', () => {
  const home = testHome();

  it.each([
    [['device', 'connect', '--portal', 'https://p.example'], /--portal and --account go together/],
    [['device', 'connect', '--account', 'alice@example.com'], /--portal and --account go together/],
    [
      ['device', 'connect'],
      /this home has no connection request to wait for: give --portal URL and --account/,
    ],
    [['device', 'connect', '--wait', 'soon'], /--wait must be a whole number, got "soon"/],
    [['device', 'connect', '--wait', '-1'], /--wait must be a whole number, got "-1"/],
    [['device', 'connect', '--wait', '86401'], /--wait must be from 0 to 86400, got 86401/],
    [['device', 'connect', '--portal', 'nowhere', '--account', 'a@b.c'], /--portal must be a URL/],
    [['device', 'accept', '--witness', 'W'], /missing required argument 'request-id'/],
    [['device', 'accept', 'r1'], /required option '--witness <witness>' not specified/],
    [['device', 'reject'], /missing required argument 'request-id'/],
    [['device', 'remove'], /missing required argument 'device-id'/],
    [['device', 'accept', 'r1', 'r2', '--witness', 'W'], /too many arguments/],
    [['device', 'list', 'all'], /too many arguments/],
    [['device', 'pending', '--all'], /unknown option '--all'/],
    [['device', 'clear', 'r1'], /too many arguments/],
    [['device', 'promote'], /missing required argument 'device-id'/],
    [['device', 'demote'], /missing required argument 'device-id'/],
    [['device', 'promote', 'MA', 'MB'], /too many arguments/],
  ])('%j is bad usage: exit 2 and a clear message', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run).toMatchObject({ code: 2, out: [] });
    expect(run.err).toMatch(message);
  });

  it.each([
    ['pending'],
    ['list'],
    ['accept', 'r1', '--witness', 'W'],
    ['reject', 'r1'],
    ['clear'],
    ['remove', 'MXXX'],
    ['promote', 'MXXX'],
    ['demote', 'MXXX'],
    ['accept', 'r1', '--witness', 'W', '--admin'],
  ])('device %s on a home without a profile: state.missing, exit 1', async (...argv) => {
    const run = await home.mesh(['device', ...argv]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^mesh: no profile\.json: .*\[state\.missing\]$/m);
  });

  it('connect prints the witness, polls ConnectStatus, and gives up after --wait seconds (exit 1)', async () => {
    const portal = new FakeGateway();
    portal.acceptConnectStart('req-7');
    portal.transactions.set('ConnectStatus', () => ({ Result: 'pending' }));
    const clock = fakeClock();
    const run = await home.mesh(connect(portal, '--wait', '3'), { fetchImpl: portal.fetch, ...clock });
    expect(run.code).toBe(1);
    expect(run.err).toContain('contacting portal https://portal.example …');
    // The witness the device computed itself (issue #14), the one the fake portal computes too.
    expect(run.err).toContain(`compare the witness ${portal.lastWitness!}`);
    expect(run.err).toContain('waiting for an administrator to accept (request req-7) …');
    expect(run.err).toMatch(
      /^mesh: no administrator accepted request req-7 within 3 s; run `mesh device connect` again/m,
    );
    expect(portal.calls.filter((c) => c === 'ConnectStatus').length).toBe(3000 / CONNECT_POLL_MS + 1);
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(3000);

    // Without --portal and --account it waits again for the same request; --json reports the error.
    portal.calls.length = 0;
    const again = await home.mesh(['--json', 'device', 'connect', '--wait', '1'], {
      fetchImpl: portal.fetch,
      ...clock,
    });
    expect(again.code).toBe(1);
    expect(portal.calls).not.toContain('ConnectStart');
    expect(JSON.parse(again.out[0]!)).toEqual({
      error: { code: 'connect.timeout', message: expect.stringContaining('req-7') as string },
    });
  });

  it('connect --wait 0 reports the pending request and exits 0 (JSON: one object)', async () => {
    const portal = new FakeGateway();
    portal.acceptConnectStart('req-8');
    const run = await home.mesh(['--json', ...connect(portal, '--wait', '0')], {
      fetchImpl: portal.fetch,
      ...fakeClock(),
    });
    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(1);
    expect(JSON.parse(run.out[0]!)).toMatchObject({
      requestId: 'req-8',
      witness: portal.lastWitness,
      account: 'alice@example.com',
      result: 'pending',
      deviceId: expect.stringMatching(/^M[A-Z2-7]{3}(-[A-Z2-7]{4})+$/) as string,
    });
    expect(portal.calls).not.toContain('ConnectStatus');
  });

  it('connect reports a rejection as a failure (exit 1)', async () => {
    const portal = new FakeGateway();
    portal.acceptConnectStart('req-9');
    let asked = 0;
    portal.transactions.set('ConnectStatus', () => ({ Result: ++asked < 3 ? 'pending' : 'rejected' }));
    const run = await home.mesh(connect(portal, '--wait', '60'), { fetchImpl: portal.fetch, ...fakeClock() });
    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /^mesh: an administrator rejected this device \(request req-9 for alice@example\.com\)$/m,
    );
    expect(asked).toBe(3);
  });

  it('connect keeps asking while the portal is unreachable, until the deadline', async () => {
    const portal = new FakeGateway();
    portal.acceptConnectStart('req-10');
    let down = 2;
    const flaky: typeof portal.fetch = (url, init) => {
      const body = bodyText(init);
      if (body.includes('ConnectStatusRequest') && down-- > 0)
        return Promise.reject(new TypeError('fetch failed'));
      return portal.fetch(url, init);
    };
    portal.transactions.set('ConnectStatus', () => ({ Result: 'rejected' }));
    const run = await home.mesh(connect(portal, '--wait', '10'), { fetchImpl: flaky, ...fakeClock() });
    expect(run.code).toBe(1);
    expect(run.err.match(/the portal did not answer/g)).toHaveLength(2);
    expect(run.err).toMatch(/rejected this device/);
  });

  it("pending shows a stranger's description with its control characters escaped (issue #16)", async () => {
    const portal = new FakeGateway();
    portal.transactions.set('CreateAccount', () => ({}));
    const created = await home.mesh(
      ['profile', 'create', '--portal', portal.url, '--account', 'alice@example.com'],
      { fetchImpl: portal.fetch },
    );
    expect(created.code).toBe(0);
    // What the attack printed: erase the line, go back to its start, print a fake request and witness.
    const attack = '\u001b[2K\rrequest-0  device MFAKE  witness FAKE-WITN\u009b2K\u202e';
    const stranger = await buildDeviceProfile(
      { encryption: generateKeyPair('X25519'), description: attack },
      generateKeyPair('Ed25519'),
    );
    const device = {
      protected: stranger.jws.protected,
      payload: stranger.jws.payload,
      signature: stranger.jws.signature,
    };
    // The witness is computed by the administrator's device from the request's own nonce and keys.
    const nonce = connectNonce((n) => new Uint8Array(n).fill(7));
    const witness = connectWitness(accountUdf('alice@example.com'), stranger.profile, nonce);
    portal.transactions.set('ConnectPending', () => ({
      Requests: [{ RequestId: 'req\u001b[1A-1', Nonce: nonce, Device: device }],
    }));
    for (const json of [false, true]) {
      const run = await home.mesh([...(json ? ['--json'] : []), 'device', 'pending'], {
        fetchImpl: portal.fetch,
      });
      expect(run.code).toBe(0);
      const printed = [...run.out, run.err].join('\n');
      // eslint-disable-next-line no-control-regex
      expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/u);
      if (json) {
        // Still valid JSON that means the same text.
        const value = JSON.parse(run.out[0]!) as { requests: { description: string; requestId: string }[] };
        expect(value.requests[0]).toMatchObject({ description: attack, requestId: 'req\u001b[1A-1' });
      } else {
        expect(run.out).toEqual([
          `req\\u001b[1A-1  device ${stranger.profile.id}  witness ${witness}  \\u001b[2K\\u000drequest-0  device MFAKE  witness FAKE-WITN\\u009b2K\\u202e`,
        ]);
      }
    }
  });

  it('clear rejects every pending request with one ConnectClear and says how many (issue #15)', async () => {
    const portal = new FakeGateway();
    portal.transactions.set('CreateAccount', () => ({}));
    const created = await home.mesh(
      ['profile', 'create', '--portal', portal.url, '--account', 'alice@example.com'],
      { fetchImpl: portal.fetch },
    );
    expect(created.code).toBe(0);
    let asked = 0;
    portal.transactions.set('ConnectClear', () => ({ Rejected: ++asked === 1 ? 3 : 1 }));
    const run = await home.mesh(['device', 'clear'], { fetchImpl: portal.fetch });
    expect(run).toMatchObject({ code: 0, out: ['rejected 3 connection requests'] });
    const json = await home.mesh(['--json', 'device', 'clear'], { fetchImpl: portal.fetch });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out[0]!)).toEqual({ rejected: 1 });
    portal.transactions.set('ConnectClear', () => ({ Rejected: 'all' }));
    const bad = await home.mesh(['device', 'clear'], { fetchImpl: portal.fetch });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/ConnectClear answered no count.*\[verify\.answer\]/);
  });

  it("a portal's error message reaches the terminal with its control characters escaped (issue #16)", async () => {
    const portal = new FakeGateway();
    portal.transactions.set('ConnectStart', () => ({
      status: 400,
      fields: { Error: 'request.invalid', StatusDescription: 'bad\u001b]0;pwned\u0007\rmesh: accepted' },
    }));
    const run = await home.mesh(connect(portal, '--wait', '0'), { fetchImpl: portal.fetch });
    expect(run.code).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(run.err).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u);
    expect(run.err).toContain('bad\\u001b]0;pwned\\u0007\\u000dmesh: accepted');
  });
});
