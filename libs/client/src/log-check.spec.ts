import { buildMasterProfile, profileView, type SignedProfile } from '@cryptomesh/mesh';
import { ClientError, isClientError } from './client-error';
import { MemoryClientStore } from './client-store';
import { generateDeviceKeys, generateMasterKey } from './device-keys';
import { verifiedLogCheck } from './log-check';
import type { PortalTrust } from './trust';
import { fetchVerifiedProfile } from './verified-profile';

jest.mock('./verified-profile', () => ({ fetchVerifiedProfile: jest.fn() }));
const fetchVerified = fetchVerifiedProfile as jest.MockedFunction<typeof fetchVerifiedProfile>;

const trust: PortalTrust = {
  home: { id: 'alpha', origin: 'alpha.example/log', verifierKey: 'k', queryUrl: 'https://alpha.example' },
  peers: [],
  quorum: 0,
};

const notSealed = () =>
  new ClientError('portal.refused', 'not found', {
    portal: 'alpha',
    evidence: { status: 404, code: 'profile.not-found' },
  });

async function masters(): Promise<[SignedProfile, SignedProfile]> {
  const key = generateMasterKey();
  const admin = generateDeviceKeys().signature;
  return [
    await buildMasterProfile({ administrators: [admin], created: 1, sequence: 0 }, key),
    await buildMasterProfile({ administrators: [admin], created: 1, sequence: 1 }, key),
  ];
}

/** A clock that `sleep` advances: no real waiting. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    sleeps,
  };
}

const answer = (signed: SignedProfile) => ({ signed }) as Awaited<ReturnType<typeof fetchVerifiedProfile>>;

describe('verifiedLogCheck', () => {
  beforeEach(() => fetchVerified.mockReset());

  it('asks the home query service for mmm:<id>:<account> and accepts exactly the served value', async () => {
    const [master] = await masters();
    fetchVerified.mockResolvedValue(answer(master));
    const store = new MemoryClientStore();
    const check = verifiedLogCheck({ trust, store, account: 'alice@example.com' });
    await check(master, profileView([], []));
    expect(fetchVerified).toHaveBeenCalledWith(
      `mmm:${master.profile.id}:alice@example.com`,
      expect.objectContaining({ trust, via: trust.home, store, kind: 'master' }),
    );
  });

  it('waits for the log to catch up with the gateway: not sealed yet, then an older value, then the same', async () => {
    const [older, served] = await masters();
    fetchVerified
      .mockRejectedValueOnce(notSealed())
      .mockResolvedValueOnce(answer(older))
      .mockResolvedValueOnce(answer(served));
    const time = fakeTime();
    await verifiedLogCheck({ trust, store: new MemoryClientStore(), account: 'a@b', ...time })(
      served,
      profileView([], []),
    );
    expect(time.sleeps).toHaveLength(2);
  });

  it('waits while the log is behind (log.behind) and passes it on expected: the served value', async () => {
    const [older, served] = await masters();
    const behind = new ClientError('log.behind', 'older value', {
      portal: 'alpha',
      evidence: { id: older.profile.id, logged: older.jws },
    });
    fetchVerified.mockRejectedValueOnce(behind).mockResolvedValueOnce(answer(served));
    const time = fakeTime();
    await verifiedLogCheck({ trust, store: new MemoryClientStore(), account: 'a@b', ...time })(
      served,
      profileView([], []),
    );
    expect(time.sleeps).toHaveLength(1);
    expect(fetchVerified.mock.calls[0]![1]).toMatchObject({ expected: served.jws });
    fetchVerified.mockReset().mockRejectedValue(behind);
    const error: unknown = await verifiedLogCheck({
      trust,
      store: new MemoryClientStore(),
      account: 'a@b',
      waitMs: 1000,
      ...fakeTime(),
    })(served, profileView([], [])).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'verify.profile',
      evidence: { served: served.jws, logged: older.jws },
    });
  });

  it('refuses (verify.profile, with both values) a value the log still does not show after the wait', async () => {
    const [older, served] = await masters();
    fetchVerified.mockResolvedValue(answer(older));
    const time = fakeTime();
    const check = verifiedLogCheck({
      trust,
      store: new MemoryClientStore(),
      account: 'a@b',
      waitMs: 1000,
      ...time,
    });
    const error: unknown = await check(served, profileView([], [])).catch((e: unknown) => e);
    expect(isClientError(error) && error.code).toBe('verify.profile');
    expect((error as ClientError).evidence).toMatchObject({ served: served.jws, logged: older.jws });
    expect((error as ClientError).portal).toBe('alpha');
  });

  it('passes on a failed check of the log itself at once', async () => {
    const [master] = await masters();
    fetchVerified.mockRejectedValue(
      new ClientError('verify.inclusion', 'the proof does not lead to the root', { portal: 'alpha' }),
    );
    const time = fakeTime();
    const check = verifiedLogCheck({ trust, store: new MemoryClientStore(), account: 'a@b', ...time });
    await expect(check(master, profileView([], []))).rejects.toMatchObject({ code: 'verify.inclusion' });
    expect(time.sleeps).toEqual([]);
  });

  it('waits for the peers to cosign a fresh seal, and reports the missing quorum at the deadline', async () => {
    const [master] = await masters();
    fetchVerified.mockRejectedValue(
      new ClientError('verify.quorum', 'two cosignatures short', { portal: 'alpha' }),
    );
    const time = fakeTime();
    const check = verifiedLogCheck({ trust, store: new MemoryClientStore(), account: 'a@b', ...time });
    await expect(check(master, profileView([], []))).rejects.toMatchObject({ code: 'verify.quorum' });
    expect(time.sleeps.length).toBeGreaterThan(0);
  });
});
