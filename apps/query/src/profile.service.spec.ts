import {
  entryLeafHash,
  fromBase64,
  hashChildren,
  verifyInclusion,
  type Hash,
  type NodeId,
} from '@cryptomesh/log';
import {
  authoriseRecord,
  buildPersonalProfile,
  encodeRecord,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import {
  ACCOUNT,
  ADDRESS,
  ADMIN,
  countingRandom,
  makeAccount,
  NOW,
  ORIGIN,
  type Account,
} from '../../../libs/mesh/test/fixtures';
import { Registry } from 'prom-client';
import { nodeEd25519 } from '@cryptomesh/crypto';
import type { FederationReader } from './federation-reader';
import { LogHeads } from './log-heads';
import { logHeadsLoader } from './log-heads-loader';
import { LogsService } from './logs.service';
import { ProfileService } from './profile.service';
import { ProofTrees } from './proof-trees';
import type { ProfileIndexRow, PublishedLog, PublishedSeal } from './published-log';

/** A federation with no portal row and no peer: only the own log is searched, quorum 0. */
const noFederation: FederationReader = {
  portal: () => Promise.resolve(undefined),
  outsideWitnesses: () => Promise.resolve([]),
  peers: () => Promise.resolve([]),
  heads: () =>
    Promise.resolve({
      portal: undefined,
      peers: [],
      logs: [{ peer: undefined, latest: undefined, candidate: undefined }],
    }),
  peer: () => Promise.resolve(undefined),
  cosignatures: () => Promise.resolve([]),
  cosignedParts: () => Promise.resolve([]),
  cosignatureCounts: () => Promise.resolve(new Map()),
  openFindings: () => Promise.resolve(new Map()),
  unverifiedClaims: () => Promise.resolve(new Map()),
  mirrorHeads: () => Promise.resolve(new Map()),
  findings: () => Promise.resolve([]),
};

/**
 * The decisions of ProfileService over logs of two entries held in memory (fakes of the consumer's
 * own ports, not of TypeORM): which row is current, what is "deleted", what is ambiguous, which log
 * serves. The SQL of the adapters is covered by test/integration/query-profiles.spec.ts and
 * query-mirrors.spec.ts.
 */
async function setup(
  rows: ProfileIndexRow[],
  sealed = true,
  mirrorRows?: ProfileIndexRow[],
  second?: (account: Account) => Promise<TransactionRecord>,
) {
  const account = await makeAccount(countingRandom(3000));
  const entries = [
    encodeRecord(account.create),
    encodeRecord(second === undefined ? account.create : await second(account)),
  ];
  const asked: Array<{ prefix: string; size: number; account: string | undefined }> = [];
  const fakeLog = (indexRows: ProfileIndexRow[], note: string): PublishedLog => {
    const seal: PublishedSeal = { part: 0, first: 0, size: 2, timeMs: 1, note };
    return {
      latestSeal: () => Promise.resolve(sealed ? seal : undefined),
      sealOfPart: () => Promise.resolve(seal),
      sealWithSize: () => Promise.resolve(seal),
      firstSealCovering: () => Promise.resolve(seal),
      entries: (start, end) => Promise.resolve(entries.slice(start, end)),
      keyTransitions: () => Promise.resolve([]),
      readNodes: (ids: readonly NodeId[]): Promise<Hash[]> =>
        Promise.resolve(ids.map((id) => entryLeafHash(entries[id.index]!))),
      entryWithNodes: (index, ids) =>
        Promise.resolve({
          entry: entries[index],
          hashes: ids.map((id) => entryLeafHash(entries[id.index]!)),
        }),
      hashTile: () => Promise.resolve(undefined),
      levelNodes: () => Promise.reject(new Error('no proof tree here')),
      latestProfileRows: (prefix, size, account) => {
        asked.push({ prefix, size, account });
        return Promise.resolve(indexRows.filter((r) => r.index < size));
      },
    };
  };
  const mirror = fakeLog(mirrorRows ?? [], 'the mirror note\n');
  const peer = {
    id: 'beta',
    origin: 'beta',
    verifierKey: '',
    witnessKey: '',
    queryUrl: '',
    configured: true,
  };
  const own = fakeLog(rows, 'the note\n');
  const peers = mirrorRows === undefined ? [] : [peer];
  const headOf = async (log: PublishedLog, id: string | undefined) => {
    const seal = await log.latestSeal();
    return { peer: id, latest: seal && { seal, cosignatures: [] }, candidate: undefined };
  };
  const federation: FederationReader = {
    ...noFederation,
    peers: () => Promise.resolve(peers),
    heads: async () => ({
      portal: undefined,
      peers,
      logs: [await headOf(own, undefined), ...(await Promise.all(peers.map((p) => headOf(mirror, p.id))))],
    }),
  };
  const mirrors = () => mirror;
  const heads = new LogHeads(logHeadsLoader({ own, mirrors, federation, ed25519: nodeEd25519 }), 0, () =>
    performance.now(),
  );
  // Proof trees off (0 bytes): these fakes' notes are not checkpoints (proof-tree.spec.ts tests the trees).
  const trees = new ProofTrees(0, new Registry());
  const service = new ProfileService(new LogsService(own, mirrors, federation, heads, trees));
  return { account, entries, service, asked };
}

const A = 'MA2G-25YY-HEYO-ZNH2-PKPY-PJQ3-HY67';
const B = 'MDEB-MWB7-JPLA-EAIU-4TXN-YJ43-QSKH';

describe('ProfileService', () => {
  it('serves the latest set value among the accounts that still have the profile, proven', async () => {
    const id = (await makeAccount(countingRandom(3000))).adminDevice.profile.id;
    const { account, entries, service, asked } = await setup([
      { id, account: A, index: 0, state: 'set' },
      { id, account: B, index: 1, state: 'set' },
    ]);
    const answer = await service.profile(id.toLowerCase());
    expect(answer).toMatchObject({ log: 'self', id, account: B, index: 1, checkpoint: 'the note\n' });
    expect(answer.profile).toEqual(account.adminDevice.jws);
    expect(asked).toEqual([{ prefix: id, size: 2, account: undefined }]);
    const root = hashChildren(entryLeafHash(entries[0]!), entryLeafHash(entries[1]!));
    verifyInclusion(
      1,
      2,
      entryLeafHash(fromBase64(answer.entry)),
      answer.proof.path.map((p) => fromBase64(p)),
      root,
    );
  });

  it('a profile deleted by one account and set by another is served from the other', async () => {
    const id = (await makeAccount(countingRandom(3000))).master.profile.id;
    const s = await setup([
      { id, account: A, index: 0, state: 'set' },
      { id, account: B, index: 1, state: 'deleted' },
    ]);
    expect(await s.service.profile(id)).toMatchObject({ account: A, index: 0 });
  });

  it('scopes to the account of an mmm: URI', async () => {
    const id = (await makeAccount(countingRandom(3000))).master.profile.id;
    const s = await setup([{ id, account: ACCOUNT, index: 0, state: 'set' }]);
    await s.service.profile(`mmm:${id}:${ADDRESS.toUpperCase()}`);
    expect(s.asked[0]?.account).toBe(ACCOUNT);
  });

  it.each<[string, ProfileIndexRow['state'][], string]>([
    ['deleted by every account: the latest deletion', ['deleted', 'deleted'], 'deleted by entry 1'],
    ['never set', [], 'no sealed entry sets profile'],
  ])('404 profile.not-found when %s', async (_what, states, message) => {
    const id = A;
    const s = await setup(states.map((state, i) => ({ id, account: i === 0 ? A : B, index: i, state })));
    await expect(s.service.profile(id)).rejects.toMatchObject({ code: 'profile.not-found' });
    await expect(s.service.profile(id)).rejects.toThrow(message);
  });

  it('404 profile.not-found before the first seal', async () => {
    const s = await setup([], false);
    await expect(s.service.profile(A)).rejects.toMatchObject({ code: 'profile.not-found' });
  });

  it('400 profile.bad-id for a short UDF that matches two profiles', async () => {
    const other = `${A.slice(0, 25)}AAA`;
    const s = await setup([
      { id: A, account: A, index: 0, state: 'set' },
      { id: other, account: A, index: 1, state: 'set' },
    ]);
    await expect(s.service.profile(A.slice(0, 24))).rejects.toMatchObject({ code: 'profile.bad-id' });
  });

  it('serves from a mirror what the own log does not have, and from the own log first', async () => {
    const id = (await makeAccount(countingRandom(3000))).master.profile.id;
    const set: ProfileIndexRow = { id, account: A, index: 0, state: 'set' };
    const fromMirror = await setup([], true, [set]);
    expect(await fromMirror.service.profile(id)).toMatchObject({
      log: 'beta',
      checkpoint: 'the mirror note\n',
    });
    const fromBoth = await setup([{ ...set, index: 1 }], true, [set]);
    expect(await fromBoth.service.profile(id)).toMatchObject({ log: 'self', index: 1 });
  });

  it('a profile deleted in the own log is served from a mirror that still has it', async () => {
    const id = (await makeAccount(countingRandom(3000))).master.profile.id;
    const s = await setup([{ id, account: A, index: 1, state: 'deleted' }], true, [
      { id, account: A, index: 0, state: 'set' },
    ]);
    expect(await s.service.profile(id)).toMatchObject({ log: 'beta', index: 0 });
  });

  it('400 profile.bad-id for a short UDF that matches one profile in the own log and another in a mirror', async () => {
    const other = `${A.slice(0, 25)}AAA`;
    const s = await setup([{ id: A, account: A, index: 0, state: 'set' }], true, [
      { id: other, account: A, index: 1, state: 'set' },
    ]);
    await expect(s.service.profile(A.slice(0, 24))).rejects.toMatchObject({ code: 'profile.bad-id' });
  });

  describe('which value is current across logs (issue #14, hole 6)', () => {
    /** Entry 1: the Personal Profile updated to Sequence 1 (the account's new home would log it). */
    const nextPersonal = async (account: Account) =>
      authoriseRecord(
        {
          operation: 'Publish',
          account: ACCOUNT,
          action: 'update',
          id: account.personal.profile.id,
          value: await buildPersonalProfile(
            { master: account.master.profile.id, sequence: 1, devices: [ADMIN] },
            ADMIN.signature,
          ),
        },
        ADMIN.signature,
        { portal: ORIGIN, time: NOW, random: countingRandom(4000) },
      );
    const moved = () =>
      authoriseRecord(
        { operation: 'MoveAccount', account: ACCOUNT, to: 'beta.example/log' },
        ADMIN.signature,
        { portal: ORIGIN, time: NOW, random: countingRandom(5000) },
      );

    it('a Personal Profile is served from the log with the highest Sequence, even a mirror', async () => {
      const id = (await makeAccount(countingRandom(3000))).personal.profile.id;
      const old: ProfileIndexRow = { id, account: ACCOUNT, index: 0, state: 'set' };
      const newer: ProfileIndexRow = { id, account: ACCOUNT, index: 1, state: 'set' };
      const fromMirror = await setup([old], true, [newer], nextPersonal);
      expect(await fromMirror.service.profile(id)).toMatchObject({ log: 'beta', index: 1 });
      const fromSelf = await setup([newer], true, [old], nextPersonal);
      expect(await fromSelf.service.profile(id)).toMatchObject({ log: 'self', index: 1 });
    });

    it('an equal Sequence, or a kind without one, goes to the first log in order (self)', async () => {
      const account = await makeAccount(countingRandom(3000));
      for (const id of [account.personal.profile.id, account.adminDevice.profile.id]) {
        const row: ProfileIndexRow = { id, account: ACCOUNT, index: 0, state: 'set' };
        expect(await (await setup([row], true, [row])).service.profile(id)).toMatchObject({ log: 'self' });
      }
    });

    it('a log where a MoveAccount ended the account offers no value; alone, the 404 says it moved', async () => {
      const id = (await makeAccount(countingRandom(3000))).personal.profile.id;
      const ended: ProfileIndexRow = { id, account: ACCOUNT, index: 1, state: 'deleted' };
      const set: ProfileIndexRow = { id, account: ACCOUNT, index: 0, state: 'set' };
      const elsewhere = await setup([ended], true, [set], moved);
      expect(await elsewhere.service.profile(id)).toMatchObject({ log: 'beta', index: 0 });
      const alone = await setup([ended], true, undefined, moved);
      await expect(alone.service.profile(id)).rejects.toMatchObject({ code: 'profile.not-found' });
      await expect(alone.service.profile(id)).rejects.toThrow(
        'ended by a move to beta.example/log by entry 1',
      );
    });
  });
});
