import { accountUdf } from '@cryptomesh/crypto/portable';
import { toBase64 } from '@cryptomesh/log';
import { buildPersonalProfile, decodeRecord, profilesSetBy, profileView } from '@cryptomesh/mesh';
import { ADMIN, STRANGER } from '../../mesh/test/fixtures';
import {
  ALICE,
  aliceLog,
  FakeLog,
  fakeFetch,
  federation,
  otherAccounts,
  trustAt,
  type AliceLog,
  type FakeAnswer,
  type FakePortal,
} from '../test/fake-portal';
import { storeCheckpointMemory } from './checkpoint-verifier';
import { isClientError, type ClientErrorCode } from './client-error';
import { MemoryClientStore } from './client-store';
import { refusalCode } from './portal-http';
import { fetchVerifiedProfile, type FetchProfileOptions } from './verified-profile';

let alice: AliceLog;
let padding: Uint8Array[];
beforeAll(async () => {
  alice = await aliceLog();
  padding = await otherAccounts(1, 3);
});

/** alpha, beta, gamma (quorum 2); alpha's log: two other accounts, then alice's life, cosigned by beta and gamma. */
function setUp() {
  const [alpha, beta, gamma] = federation(['alpha', 'beta', 'gamma'], 2) as [
    FakePortal,
    FakePortal,
    FakePortal,
  ];
  alpha.log.seal([...padding.slice(0, 2), ...alice.entries], [beta.witness, gamma.witness]);
  beta.mirrors.set('alpha', alpha.log);
  const fetchImpl = fakeFetch([alpha, beta, gamma]);
  const store = new MemoryClientStore();
  const trust = trustAt(alpha);
  const options: FetchProfileOptions = { trust, via: trust.home, store, fetchImpl };
  return { alpha, beta, gamma, fetchImpl, store, trust, options };
}

/** Rewrites the `/profiles/…` answer of a portal. */
function tamperProfile(portal: FakePortal, edit: (body: Record<string, unknown>) => void): void {
  portal.tamper = (path: string, answer: FakeAnswer) => {
    const { body } = answer;
    if (path.startsWith('/profiles/') && typeof body !== 'string' && !(body instanceof Uint8Array))
      edit(body);
    return answer;
  };
}

async function failure(read: Promise<unknown>): Promise<{
  code: ClientErrorCode;
  portal?: string;
  check?: string;
  evidence?: Record<string, unknown>;
  message: string;
}> {
  try {
    await read;
  } catch (error) {
    if (isClientError(error)) return error;
    throw error;
  }
  throw new Error('the read was accepted');
}

describe('fetchVerifiedProfile, an honest portal', () => {
  it('verifies every kind of profile and remembers the checkpoint of the owner log', async () => {
    const { options, store } = setUp();
    for (const signed of [alice.master, alice.personal, alice.admin, alice.phone, alice.mail]) {
      const verified = await fetchVerifiedProfile(signed.profile.id, options);
      expect(verified).toMatchObject({ id: signed.profile.id, log: 'alpha', account: accountUdf(ALICE) });
      expect(verified.signed.jws).toEqual(signed.jws);
      expect(verified.checkpoint.size).toBe(6);
    }
    expect(await storeCheckpointMemory(store).get('alpha')).toMatchObject({ size: 6 });
  });

  it('accepts a short UDF and an mmm: URI with the account, and refuses another account', async () => {
    const { alpha, options } = setUp();
    const id = alice.personal.profile.id;
    expect((await fetchVerifiedProfile(id.slice(0, 24), options)).id).toBe(id);
    expect((await fetchVerifiedProfile(`mmm:${id}:${ALICE}`, options)).id).toBe(id);
    // A portal that answers for bob with alice's profile:
    alpha.tamper = (path, answer) => (path.includes('bob') ? alpha.answer('GET', `/profiles/${id}`) : answer);
    const wrong = await failure(fetchVerifiedProfile(`mmm:${id}:bob@example.com`, options));
    expect(wrong).toMatchObject({ code: 'verify.profile', portal: 'alpha' });
    await expect(fetchVerifiedProfile('not a udf', options)).rejects.toMatchObject({ code: 'usage.invalid' });
  });

  it('resolves the signers of an Application Profile by verified reads, or from what the caller knows', async () => {
    const { options, fetchImpl } = setUp();
    await fetchVerifiedProfile(alice.mail.profile.id, options);
    expect(fetchImpl.calls.filter((c) => c.includes('/profiles/'))).toEqual(
      [alice.mail, alice.personal, alice.master].map(
        (s) => `GET https://alpha.example/profiles/${s.profile.id}`,
      ),
    );
    fetchImpl.calls.length = 0;
    const known = profileView([alice.master.profile], [alice.personal.profile]);
    await fetchVerifiedProfile(alice.mail.profile.id, { ...options, known });
    expect(fetchImpl.calls.filter((c) => c.includes('/profiles/'))).toHaveLength(1);
  });

  it('reads a profile of the home log from a peer mirror, verified with the home keys', async () => {
    const { options, trust, store, fetchImpl } = setUp();
    const verified = await fetchVerifiedProfile(alice.personal.profile.id, {
      ...options,
      via: trust.peers[0]!,
    });
    expect(verified.log).toBe('alpha');
    expect(fetchImpl.calls).toContain(`GET https://beta.example/profiles/${alice.personal.profile.id}`);
    expect(await storeCheckpointMemory(store).get('alpha')).toMatchObject({ size: 6 });
  });

  it('answers log.behind, before any check and without storing, when the log shows another value than expected', async () => {
    const { options, store, fetchImpl } = setUp();
    // The caller expects a newer value (here: another profile's JWS) and knows a Personal Profile
    // that does not authorise the logged one: the older value is not judged by it.
    const known = profileView([alice.master.profile], []);
    const behind = await failure(
      fetchVerifiedProfile(alice.mail.profile.id, { ...options, known, expected: alice.phone.jws }),
    );
    expect(behind).toMatchObject({ code: 'log.behind', portal: 'alpha', check: 'profile in the log' });
    expect(behind.evidence).toEqual({ id: alice.mail.profile.id, logged: alice.mail.jws });
    expect(fetchImpl.calls.filter((c) => c.includes('/profiles/'))).toHaveLength(1);
    expect(store.documents.size).toBe(0);
    const verified = await fetchVerifiedProfile(alice.mail.profile.id, {
      ...options,
      expected: alice.mail.jws,
    });
    expect(verified.signed.jws).toEqual(alice.mail.jws);
  });

  it("reads a profile of a peer's own log ('self' there) with that peer's keys", async () => {
    const { alpha, beta, gamma, options, trust, store } = setUp();
    beta.log.seal([padding[2]!], [alpha.witness, gamma.witness]);
    const [master] = profilesSetBy(decodeRecord(padding[2]!));
    const verified = await fetchVerifiedProfile(master!.id, { ...options, via: trust.peers[0]! });
    expect(verified.log).toBe('beta');
    expect(await storeCheckpointMemory(store).get('beta')).toMatchObject({ size: 1 });
  });
});

describe('fetchVerifiedProfile, a portal that lies', () => {
  it('catches a forged profile (payload changed): verify.profile', async () => {
    const { alpha, options } = setUp();
    tamperProfile(alpha, (body) => {
      const profile = body['profile'] as { payload: string };
      profile.payload = profile.payload.slice(0, -4) + (profile.payload.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    });
    const error = await failure(fetchVerifiedProfile(alice.personal.profile.id, options));
    expect(error).toMatchObject({ code: 'verify.profile', portal: 'alpha', check: 'profile' });
    expect(error.message).toContain('not the one the entry carries');
  });

  it('catches a forged profile whose entry is forged to match: verify.inclusion', async () => {
    const { alpha, options } = setUp();
    const forged = await alice.entry({
      operation: 'Publish',
      account: accountUdf(ALICE),
      action: 'update',
      id: alice.personal.profile.id,
      value: await buildPersonalProfile(
        { master: alice.master.profile.id, sequence: 9, devices: [ADMIN, STRANGER] },
        ADMIN.signature,
      ),
    });
    tamperProfile(alpha, (body) => {
      body['entry'] = toBase64(forged);
      const [change] = profilesSetBy(decodeRecord(forged));
      body['profile'] = change?.state === 'set' ? { ...change.value.jws } : {};
    });
    expect(await failure(fetchVerifiedProfile(alice.personal.profile.id, options))).toMatchObject({
      code: 'verify.inclusion',
      portal: 'alpha',
    });
  });

  it('catches an entry that does not set the profile (another, included entry): verify.profile', async () => {
    const { alpha, options } = setUp();
    tamperProfile(alpha, (body) => {
      body['index'] = 0;
      body['entry'] = toBase64(alpha.log.entries[0]!);
      body['account'] = decodeRecord(alpha.log.entries[0]!).account;
      body['proof'] = { index: 0, size: 6, path: alpha.log.tree.inclusionProof(0, 6).map(toBase64) };
    });
    const error = await failure(fetchVerifiedProfile(alice.personal.profile.id, options));
    expect(error).toMatchObject({ code: 'verify.profile', portal: 'alpha' });
    expect(error.message).toContain('does not set this profile');
  });

  it('catches an answer about another profile than the one asked: verify.profile', async () => {
    const { alpha, options } = setUp();
    tamperProfile(alpha, (body) => {
      body['id'] = alice.admin.profile.id;
      body['profile'] = { ...alice.admin.jws };
    });
    expect(await failure(fetchVerifiedProfile(alice.master.profile.id, options))).toMatchObject({
      code: 'verify.profile',
    });
  });

  it.each<[string, (body: Record<string, unknown>) => void]>([
    [
      'a changed proof hash',
      (body) => {
        const proof = body['proof'] as { path: string[] };
        proof.path[0] = toBase64(new Uint8Array(32).fill(7));
      },
    ],
    [
      'a proof for another size',
      (body) => {
        (body['proof'] as { size: number }).size = 5;
      },
    ],
    [
      'a proof for another index',
      (body) => {
        (body['proof'] as { index: number }).index = 2;
      },
    ],
    [
      'a proof hash that is not 32 bytes',
      (body) => {
        (body['proof'] as { path: string[] }).path[0] = 'AAAA';
      },
    ],
  ])('catches a bad inclusion proof (%s): verify.inclusion', async (_name, edit) => {
    const { alpha, options } = setUp();
    tamperProfile(alpha, edit);
    expect(await failure(fetchVerifiedProfile(alice.personal.profile.id, options))).toMatchObject({
      code: 'verify.inclusion',
      portal: 'alpha',
      check: 'inclusion proof',
    });
  });

  it('catches a checkpoint signed by another key than the pinned one: verify.checkpoint-signature', async () => {
    const { alpha, beta, gamma, options } = setUp();
    const forger = new FakeLog(alpha.origin, 'forger');
    const note = forger.seal([...padding.slice(0, 2), ...alice.entries], [beta.witness, gamma.witness]);
    tamperProfile(alpha, (body) => {
      body['checkpoint'] = note;
    });
    expect(await failure(fetchVerifiedProfile(alice.personal.profile.id, options))).toMatchObject({
      code: 'verify.checkpoint-signature',
      portal: 'alpha',
    });
  });

  it('catches an unsigned checkpoint (the log signature line removed): verify.checkpoint-signature', async () => {
    const { alpha, options } = setUp();
    tamperProfile(alpha, (body) => {
      const lines = (body['checkpoint'] as string).split('\n');
      const own = lines.findIndex((line) => line.startsWith(`— ${alpha.origin} `));
      body['checkpoint'] = lines.filter((_, i) => i !== own).join('\n');
    });
    expect(await failure(fetchVerifiedProfile(alice.personal.profile.id, options))).toMatchObject({
      code: 'verify.checkpoint-signature',
      portal: 'alpha',
    });
  });

  it('catches an under-cosigned checkpoint: verify.quorum', async () => {
    const { alpha, beta, options } = setUp();
    alpha.log.seal(padding.slice(2), [beta.witness, alpha.witness]);
    const error = await failure(fetchVerifiedProfile(alice.personal.profile.id, options));
    expect(error).toMatchObject({ code: 'verify.quorum', portal: 'alpha', evidence: { quorum: 2 } });
    expect(error.evidence?.['cosigners']).toEqual([beta.witness.verifierKey.text]);
  });

  it('catches a Personal Profile whose signer is no administrator (a logged entry): verify.profile', async () => {
    const { alpha, beta, gamma, options } = setUp();
    const rogue = await buildPersonalProfile(
      { master: alice.master.profile.id, sequence: 3, devices: [ADMIN, STRANGER] },
      STRANGER.signature,
    );
    const entry = await alice.entry(
      {
        operation: 'Publish',
        account: accountUdf(ALICE),
        action: 'update',
        id: rogue.profile.id,
        value: rogue,
      },
      STRANGER,
    );
    alpha.log.seal([entry], [beta.witness, gamma.witness]);
    const error = await failure(fetchVerifiedProfile(alice.personal.profile.id, options));
    expect(error).toMatchObject({
      code: 'verify.profile',
      portal: 'alpha',
      evidence: { rule: 'rule.personal-signer' },
    });
  });

  it('refuses an answer naming a log of no pinned portal: verify.answer', async () => {
    const { alpha, options } = setUp();
    tamperProfile(alpha, (body) => {
      body['log'] = 'mallory';
    });
    expect(await failure(fetchVerifiedProfile(alice.personal.profile.id, options))).toMatchObject({
      code: 'verify.answer',
      portal: 'alpha',
    });
  });

  it('reports a refusal and an unreachable portal by name', async () => {
    const { options, trust } = setUp();
    const missing = await failure(
      fetchVerifiedProfile(
        alice.personal.profile.id.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        options,
      ),
    );
    expect(missing).toMatchObject({ code: 'portal.refused', portal: 'alpha' });
    expect(refusalCode(missing as never)).toBe('profile.not-found');
    const via = { ...trust.home, queryUrl: 'https://nowhere.example' };
    const unreachable = await failure(fetchVerifiedProfile(alice.personal.profile.id, { ...options, via }));
    expect(unreachable).toMatchObject({ code: 'portal.unreachable', portal: 'alpha' });
    expect(unreachable.message).toContain('https://nowhere.example/profiles/');
  });

  it('changes no stored state when a check fails, even after a valid newer checkpoint', async () => {
    const { alpha, beta, gamma, options, store } = setUp();
    await fetchVerifiedProfile(alice.personal.profile.id, options);
    const before = new Map(store.documents);
    alpha.log.seal(padding.slice(2), [beta.witness, gamma.witness]); // a valid checkpoint of size 7
    tamperProfile(alpha, (body) => {
      (body['proof'] as { path: string[] }).path.reverse();
    });
    await expect(fetchVerifiedProfile(alice.personal.profile.id, options)).rejects.toMatchObject({
      code: 'verify.inclusion',
    });
    expect(store.documents).toEqual(before);
    alpha.tamper = undefined;
    await fetchVerifiedProfile(alice.personal.profile.id, options);
    expect(await storeCheckpointMemory(store).get('alpha')).toMatchObject({ size: 7 });
  });
});

describe('fetchVerifiedProfile, current values (client.md "Verified reads" 6)', () => {
  it('remembers the Sequence of every Master and Personal Profile it verified, and the log', async () => {
    const { options, store } = setUp();
    await fetchVerifiedProfile(alice.personal.profile.id, options);
    const remembered = store.documents.get(`profiles/${alice.personal.profile.id}.json`)?.text;
    expect(JSON.parse(remembered ?? '{}')).toEqual({
      id: alice.personal.profile.id,
      sequence: alice.personal.profile.sequence,
      home: 'alpha',
      left: [],
    });
    expect(store.documents.has(`profiles/${alice.master.profile.id}.json`)).toBe(true);
  });

  it('refuses a genuine value below the Sequence it saw: verify.stale, naming the portal, storing nothing', async () => {
    const { options, store } = setUp();
    const id = alice.personal.profile.id;
    const seen = { id, sequence: alice.personal.profile.sequence + 1, home: 'alpha', left: [] };
    await store.write(`profiles/${id}.json`, JSON.stringify(seen));
    const error = await failure(fetchVerifiedProfile(id, options));
    expect(error).toMatchObject({ code: 'verify.stale', portal: 'alpha', check: 'profile sequence' });
    expect(JSON.parse(store.documents.get(`profiles/${id}.json`)!.text)).toEqual(seen);
    expect(store.documents.has('checkpoints/alpha.json')).toBe(false);
  });

  it('refuses a value from the log of a portal the account moved away from, even via a peer', async () => {
    const { options, store, beta, trust } = setUp();
    const id = alice.personal.profile.id;
    await store.write(
      `profiles/${id}.json`,
      JSON.stringify({ id, sequence: alice.personal.profile.sequence, home: 'gamma', left: ['alpha'] }),
    );
    const viaBeta = trust.peers.find((p) => p.id === beta.id)!;
    const error = await failure(fetchVerifiedProfile(id, { ...options, via: viaBeta }));
    expect(error).toMatchObject({ code: 'verify.stale', portal: 'beta', check: 'current home' });
  });
});
