import { accountUdf, nodeEd25519 } from '@cryptomesh/crypto';
import {
  authoriseRecord,
  decodeAuditedAccount,
  DEFAULT_MAX_SEAL_DELAY_MS,
  DEFAULT_MAX_SKEW_MS,
  encodeRecord,
} from '@cryptomesh/mesh';
import type { LogRecord, PartLimits } from '@cryptomesh/intermesh';
import { signSeal, verifyEquivocation, type Seal } from '@cryptomesh/log';
import type { AuditHead } from './audit-step';
import { PeerLog } from '../test/peer-log';
import { logSigner } from '../../log/testdata/log-fixture';
import { createAccountEntry, device, forgedDeviceProfile } from '../../mesh/test/fixtures';
import type { AuditStep } from './audit-step';
import { fixedClock } from './clock';
import { PeerAudit } from './peer-audit';

const ORIGIN = 'alpha.test/log';

/** An in-memory mirror: what the service's store would hold. */
class MemoryMirror {
  readonly seals = new Map<number, string>();
  readonly entries: Uint8Array[] = [];
  head: AuditHead | undefined;
}

function audit(
  log: PeerLog,
  mirror = new MemoryMirror(),
  partLimits?: PartLimits,
): { audit: PeerAudit; mirror: MemoryMirror } {
  const a = new PeerAudit(
    { id: 'alpha', origin: ORIGIN, verifierKey: log.verifierKey },
    mirror.head,
    {
      sealNote: (part) => Promise.resolve(mirror.seals.get(part)),
      accountState: () => Promise.resolve(undefined),
      accountEntries: () => Promise.resolve([]),
    },
    nodeEd25519,
    // Late enough that every seal of these tests, sealing delays included, is in the past.
    fixedClock(1_763_800_000_000 + 3 * 3_600_000),
    partLimits === undefined ? {} : { partLimits },
  );
  return { audit: a, mirror };
}

/** Feeds records from `offset` on; stores and commits each part, as the service does. */
async function feed(
  a: PeerAudit,
  mirror: MemoryMirror,
  records: LogRecord[],
  offset = 0n,
): Promise<AuditStep[]> {
  const steps: AuditStep[] = [];
  for (const [i, r] of records.entries()) {
    const step = await a.onMessage({ ...r, offset: offset + BigInt(i) });
    steps.push(step);
    if (step.kind === 'part') {
      mirror.seals.set(step.part.seal.part.index, step.part.note);
      mirror.entries.push(...step.part.entries);
      a.commit();
      mirror.head = a.head;
    }
  }
  return steps;
}

const findings = (steps: AuditStep[]) => steps.flatMap((s) => (s.kind === 'finding' ? [s.finding] : []));
const transports = (steps: AuditStep[]) =>
  steps.flatMap((s) => (s.kind === 'transport' ? [[s.error.code, s.error.part]] : []));
const parts = (steps: AuditStep[]) =>
  steps.flatMap((s) => (s.kind === 'part' ? [s.part.seal.part.index] : []));

function reseal(log: PeerLog, value: Seal, change: Partial<Seal>, signer = log.fixture.signer): string {
  return signSeal({ ...value, ...change }, signer);
}

describe('PeerAudit', () => {
  let log: PeerLog;
  let good: Awaited<ReturnType<typeof build>>;

  async function build() {
    const l = new PeerLog('alpha', ORIGIN, nodeEd25519);
    const p0 = l.seal(await l.entries(3));
    const p1 = l.seal(await l.entries(2));
    const p2 = l.seal([]);
    const p3 = l.seal(await l.entries(2));
    return { l, p0, p1, p2, p3 };
  }

  beforeAll(async () => {
    good = await build();
    log = good.l;
  });

  it('verifies and yields each part of an honest log, with its tree nodes and profiles', async () => {
    const { audit: a, mirror } = audit(log);
    const records = [good.p0, good.p1, good.p2, good.p3].flatMap((p) => log.records(p));
    const steps = await feed(a, mirror, records);
    expect(findings(steps)).toEqual([]);
    expect(parts(steps)).toEqual([0, 1, 2, 3]);
    expect(a.head).toMatchObject({ part: 3, size: 7 });
    const first = steps.find((s) => s.kind === 'part');
    if (first?.kind !== 'part') throw new Error('no part');
    expect(first.part.leafHashes).toHaveLength(3);
    expect(first.part.nodes.map((n) => n.level)).toEqual([1]); // entries 0..1 close one subtree
    expect(first.part.profiles.every((p) => p !== undefined && p.changes.length > 0)).toBe(true);
    // Each account the part changed, with its state after its last entry, to be stored with the part.
    expect(first.part.accountStates.map((s) => s.through)).toEqual([0, 1, 2]);
    const accounts = first.part.profiles.map((p) => p!.account);
    expect(first.part.accountStates.map((s) => s.account)).toEqual(accounts);
    expect(first.part.accountStates.map((s) => decodeAuditedAccount(s.state).state.account)).toEqual(
      accounts,
    );
  });

  it('ignores a replay of the last part and of older parts, after a restart too', async () => {
    const { audit: a, mirror } = audit(log);
    const records = [good.p0, good.p1].flatMap((p) => log.records(p));
    await feed(a, mirror, records);
    const again = await feed(a, mirror, records);
    expect(again.every((s) => s.kind === 'none')).toBe(true);
    const restarted = audit(log, mirror).audit;
    expect((await feed(restarted, mirror, records)).every((s) => s.kind === 'none')).toBe(true);
  });

  it('calls a tampered entry a transport error, not a finding, and still takes the genuine part after it', async () => {
    const { audit: a, mirror } = audit(log);
    await feed(a, mirror, log.records(good.p0));
    const tampered = { ...good.p1, entries: [good.p1.entries[1]!, good.p1.entries[0]!] };
    const steps = await feed(a, mirror, log.records(tampered));
    expect(findings(steps)).toEqual([]);
    expect(transports(steps)).toEqual([['verify.part-digest', 1]]);
    expect(a.head?.part).toBe(0);
    expect(parts(await feed(a, mirror, log.records(good.p1)))).toEqual([1]);
  });

  it('calls a broken chain under a valid seal a finding; a wrong key or a reordered part a transport error', async () => {
    const cases: Array<[string, (p: typeof good.p1) => LogRecord[], string, string]> = [
      [
        'broken chain',
        (p) => recordsWithSeal(p, reseal(log, p.value, { chain: new Uint8Array(32) })),
        'finding',
        'bad-part/verify.chain',
      ],
      [
        'wrong key',
        (p) => recordsWithSeal(p, reseal(log, p.value, {}, logSigner(ORIGIN, nodeEd25519, 'other'))),
        'transport',
        'note.unknown-key',
      ],
      ['reordered part', () => log.records(good.p2), 'transport', 'assembler.gap'],
    ];
    for (const [what, records, outcome, code] of cases) {
      const { audit: a, mirror } = audit(log);
      await feed(a, mirror, log.records(good.p0));
      const steps = await feed(a, mirror, records(good.p1));
      const seen = steps.flatMap((s) =>
        s.kind === 'finding'
          ? [['finding', `${s.finding.kind}/${s.finding.code}`]]
          : s.kind === 'transport'
            ? [['transport', s.error.code]]
            : [],
      );
      expect({ what, seen }).toEqual({ what, seen: [[outcome, code]] });
      expect(mirror.seals.size).toBe(1);
      expect(a.head?.part).toBe(0);
    }
  });

  it('judges no entry before the seal: rule-breaking entries under a forged seal are a transport error only', async () => {
    const { audit: a, mirror } = audit(log);
    await feed(a, mirror, log.records(good.p0));
    // The same account created again (a rule breach) under a seal by a key that is not the peer's.
    const l2 = new PeerLog('alpha', ORIGIN, nodeEd25519);
    l2.seal(good.p0.entries);
    const dup = l2.seal([good.p0.entries[0]!]);
    const forged = reseal(log, dup.value, {}, logSigner(ORIGIN, nodeEd25519, 'other'));
    const steps = await feed(a, mirror, recordsWithSeal(dup, forged));
    expect(findings(steps)).toEqual([]);
    expect(transports(steps)).toEqual([['note.unknown-key', 1]]);
    expect(a.head?.part).toBe(0);
  });

  it('calls a request sealed later than the clock window and the sealing delay allow a rule finding (request.stale)', async () => {
    const l = new PeerLog('alpha', ORIGIN, nodeEd25519);
    const entries = await l.entries(1);
    l.fixture.timeMs += DEFAULT_MAX_SKEW_MS + DEFAULT_MAX_SEAL_DELAY_MS + 1;
    const late = l.seal(entries);
    const { audit: a, mirror } = audit(l);
    const [finding] = findings(await feed(a, mirror, l.records(late)));
    expect(finding).toMatchObject({ kind: 'rule', code: 'request.stale', part: 0 });
    expect(finding!.evidence).toMatchObject({ index: 0, seal: late.seal });
    expect(a.head).toBeUndefined();
  });

  it('accepts an entry its log-signer sealed 30 minutes after the request (a late seal is not an accusation)', async () => {
    const l = new PeerLog('alpha', ORIGIN, nodeEd25519);
    const entries = await l.entries(1);
    l.fixture.timeMs += 30 * 60_000;
    const late = l.seal(entries);
    const { audit: a, mirror } = audit(l);
    const steps = await feed(a, mirror, l.records(late));
    expect(findings(steps)).toEqual([]);
    expect(parts(steps)).toEqual([0]);
  });

  it('calls a request dated further ahead of its seal than the clock window a rule finding (request.future)', async () => {
    const l = new PeerLog('alpha', ORIGIN, nodeEd25519);
    // The request is dated after its seal: the sealing delay gives no slack that way.
    const early = l.seal([
      await createAccountEntry(1, {
        time: l.fixture.timeMs + 1000 + DEFAULT_MAX_SKEW_MS + 1,
        portal: ORIGIN,
      }),
    ]);
    const { audit: a, mirror } = audit(l);
    const [finding] = findings(await feed(a, mirror, l.records(early)));
    expect(finding).toMatchObject({ kind: 'rule', code: 'request.future', part: 0 });
  });

  it('records equivocation, with evidence anyone can verify, when a stored part is sealed differently', async () => {
    const { audit: a, mirror } = audit(log);
    await feed(
      a,
      mirror,
      [good.p0, good.p1, good.p2].flatMap((p) => log.records(p)),
    );
    for (const target of [good.p2, good.p0]) {
      const other = reseal(log, target.value, { timeMs: target.value.timeMs + 1 });
      const steps = await feed(a, mirror, recordsWithSeal(target, other), 100n);
      const [finding] = findings(steps).filter((f) => f.kind === 'equivocation');
      expect(finding).toMatchObject({ kind: 'equivocation', part: target.value.part.index });
      const [s1, s2] = verifyEquivocation(finding!.evidence, nodeEd25519, log.verifierKey);
      expect(s1.part.index).toBe(s2.part.index);
    }
    expect(a.head?.part).toBe(2);
  });

  it('calls an entry that breaks the profile rules a rule finding', async () => {
    const { audit: a, mirror } = audit(log);
    await feed(a, mirror, log.records(good.p0));
    // The same account created twice: the persistence model refuses the second.
    const l2 = new PeerLog('alpha', ORIGIN, nodeEd25519);
    l2.seal(good.p0.entries);
    const dup = l2.seal([good.p0.entries[0]!]);
    const [finding] = findings(await feed(a, mirror, l2.records(dup)));
    expect(finding).toMatchObject({ kind: 'rule', code: 'account.exists', part: 1 });
    expect(finding!.evidence).toMatchObject({ index: 3, seal: dup.seal, previousSeal: good.p0.seal });
    expect(a.head?.part).toBe(0);
  });

  it('accepts an administrator granting and withdrawing rights; a forged promotion is a rule finding (issue #19)', async () => {
    const honest = new PeerLog('alpha', ORIGIN, nodeEd25519);
    const n = honest.nextAccountNumber;
    const life = honest.seal([
      ...(await honest.entries(1)),
      await honest.accountRequest(n, { kind: 'connect' }, 1),
      await honest.accountRequest(
        n,
        { kind: 'set-administrators', administrators: ['admin', 'second'], sequence: 1, by: 'admin' },
        2,
      ),
      await honest.accountRequest(
        n,
        { kind: 'set-administrators', administrators: ['admin'], sequence: 2, by: 'admin' },
        3,
      ),
    ]);
    const first = audit(honest);
    const steps = await feed(first.audit, first.mirror, honest.records(life));
    expect(findings(steps)).toEqual([]);
    expect(parts(steps)).toEqual([0]);

    // The second device, no administrator, publishes a Master Profile the master key signed.
    const rogue = new PeerLog('alpha', ORIGIN, nodeEd25519);
    const forged = rogue.seal([
      ...(await rogue.entries(1)),
      await rogue.accountRequest(n, { kind: 'connect' }, 1),
      await rogue.accountRequest(
        n,
        { kind: 'set-administrators', administrators: ['admin', 'second'], sequence: 1, by: 'second' },
        2,
      ),
    ]);
    const second = audit(rogue);
    const [finding] = findings(await feed(second.audit, second.mirror, rogue.records(forged)));
    expect(finding).toMatchObject({ kind: 'rule', part: 0, code: 'request.not-administrator' });
    expect(finding!.evidence).toMatchObject({ index: 2 });
    expect(second.audit.head).toBeUndefined();
  });

  it('calls a logged request bound to another portal a rule finding (issue #14, hole 2)', async () => {
    const { audit: a, mirror } = audit(log);
    await feed(a, mirror, log.records(good.p0));
    // A CreateAccount its device signed for beta, logged by alpha: a cross-portal replay.
    const l2 = new PeerLog('alpha', ORIGIN, nodeEd25519);
    l2.seal(good.p0.entries);
    const time = l2.fixture.timeMs;
    const replay = l2.seal([await createAccountEntry(60, { time, portal: 'beta.test/log' })]);
    const [finding] = findings(await feed(a, mirror, l2.records(replay)));
    expect(finding).toMatchObject({ kind: 'rule', part: 1, code: 'request.wrong-portal' });
    expect(a.head?.part).toBe(0);
    // The same entry bound to alpha is honest.
    const l3 = new PeerLog('alpha', ORIGIN, nodeEd25519);
    l3.seal(good.p0.entries);
    const honest = l3.seal([await createAccountEntry(60, { time, portal: ORIGIN })]);
    expect(parts(await feed(a, mirror, l3.records(honest)))).toEqual([1]);
  });

  it('calls a logged request whose signed Nonce no store can keep (a NUL, 10,000 characters) a rule finding, and stores nothing of it', async () => {
    const { audit: a, mirror } = audit(log);
    await feed(a, mirror, log.records(good.p0));
    const time = log.fixture.timeMs;
    for (const nonce of ['AAAAAAAAAAAAAAAAAAAAA\u0000', 'A'.repeat(10_000)]) {
      // A device (the account's own administrator) signed it and the portal logged and sealed it.
      const l2 = new PeerLog('alpha', ORIGIN, nodeEd25519);
      l2.seal(good.p0.entries);
      const bad = l2.seal([await createAccountEntry(61, { time, nonce })]);
      const steps = await feed(a, mirror, l2.records(bad));
      expect(findings(steps)).toEqual([
        expect.objectContaining({ kind: 'rule', part: 1, code: 'request.malformed' }),
      ]);
      expect(parts(steps)).toEqual([]);
      expect(a.head?.part).toBe(0);
    }
    expect(mirror.entries).toHaveLength(good.p0.entries.length);
  });

  it('calls a Device Profile with the identity point as key, forged signature, a rule finding (issue #14, hole 5)', async () => {
    const { audit: a, mirror } = audit(log);
    await feed(a, mirror, log.records(good.p0));
    const forged = forgedDeviceProfile();
    const l2 = new PeerLog('alpha', ORIGIN, nodeEd25519);
    l2.seal(good.p0.entries);
    // user1's own administrator device (fixtures: seed 2 + 1) publishes the attacker's profile.
    const record = await authoriseRecord(
      {
        operation: 'Publish',
        account: accountUdf('user1@example.com'),
        action: 'create',
        id: forged.profile.id,
        value: forged,
      },
      device(3).signature,
      { portal: ORIGIN, time: l2.fixture.timeMs },
    );
    const part = l2.seal([encodeRecord(record)]);
    const [finding] = findings(await feed(a, mirror, l2.records(part)));
    expect(finding).toMatchObject({ kind: 'rule', part: 1, code: 'profile.malformed' });
    expect(a.head?.part).toBe(0);
  });

  it('holds no more of an unsealed part than its limits: beyond, a transport error (issue #15)', async () => {
    // One entry per message, so that the third entry of part 0 crosses a limit of 2 entries.
    const records = log.records(good.p0, 1_024);
    const { audit: a, mirror } = audit(log, new MemoryMirror(), { maxEntries: 2, maxBytes: 1 << 20 });
    const steps = await feed(a, mirror, records);
    expect(transports(steps)).toContainEqual(['assembler.too-large', 0]);
    expect(parts(steps)).toEqual([]);
    expect(findings(steps)).toEqual([]);
    // The same part under the default limits verifies.
    const fine = audit(log);
    expect(parts(await feed(fine.audit, fine.mirror, records))).toEqual([0]);
  });

  it('calls an undecodable message a transport error and changes nothing', async () => {
    const { audit: a, mirror } = audit(log);
    const bad: LogRecord = {
      key: 'alpha',
      type: 'seal',
      value: new TextEncoder().encode('{"v":1,"type":"seal"'),
    };
    const steps = await feed(a, mirror, [bad]);
    expect(findings(steps)).toEqual([]);
    expect(transports(steps)).toEqual([['message.not-json', null]]);
    expect(a.head).toBeUndefined();
  });

  it('is deterministic: the same messages from the same head give the same findings', async () => {
    const records = [
      ...log.records(good.p0),
      ...recordsWithSeal(good.p1, reseal(log, good.p1.value, { chain: new Uint8Array(32) })),
      ...log.records(good.p2),
    ];
    const run = async () => {
      const { audit: a, mirror } = audit(log);
      return findings(await feed(a, mirror, records));
    };
    expect(await run()).toEqual(await run());
  });
});

function recordsWithSeal(part: { entries: Uint8Array[]; value: Seal }, note: string): LogRecord[] {
  const log = new PeerLog('alpha', ORIGIN, nodeEd25519);
  return log.records({ entries: part.entries, value: part.value, seal: note });
}
