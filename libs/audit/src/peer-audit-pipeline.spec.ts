import { nodeEd25519 } from '@cryptomesh/crypto';
import type { LogRecord } from '@cryptomesh/intermesh';
import { signSeal, verifyEquivocation } from '@cryptomesh/log';
import { PeerLog } from '../test/peer-log';
import type { AuditStep } from './audit-step';
import { fixedClock } from './clock';
import { PeerAudit } from './peer-audit';

/**
 * A part stored while the next one is verified on top of it (issue #17): `advance`, then `confirm`
 * or `reset`. The store here holds nothing but the seals of confirmed parts: an account read from
 * it is unknown, so a part that did not see the part being stored would fail its re-check.
 */
const ORIGIN = 'alpha.test/log';

class Pipeline {
  readonly stored = new Map<number, string>();
  readonly audit: PeerAudit;
  private offset = 0n;
  private verified: { part: number; note: string } | undefined;
  private storing: { part: number; note: string } | undefined;

  constructor(log: PeerLog) {
    this.audit = new PeerAudit(
      { id: 'alpha', origin: ORIGIN, verifierKey: log.verifierKey },
      undefined,
      {
        sealNote: (part) => Promise.resolve(this.stored.get(part)),
        accountState: () => Promise.resolve(undefined),
        accountEntries: () => Promise.resolve([]),
      },
      nodeEd25519,
      fixedClock(1_763_800_000_000 + 3 * 3_600_000),
    );
  }

  /** Feeds records; returns the steps other than `none`. */
  async feed(records: LogRecord[]): Promise<AuditStep[]> {
    const steps: AuditStep[] = [];
    for (const record of records) {
      const step = await this.audit.onMessage({ ...record, offset: this.offset++ });
      if (step.kind === 'part') this.verified = { part: step.part.seal.part.index, note: step.part.note };
      if (step.kind !== 'none') steps.push(step);
    }
    return steps;
  }

  /** The last verified part goes to the store. */
  advance(): void {
    this.audit.advance();
    this.storing = this.verified;
  }

  /** The store of the part being stored committed. */
  confirm(): void {
    this.audit.confirm();
    this.stored.set(this.storing!.part, this.storing!.note);
  }
}

const kinds = (steps: AuditStep[]) =>
  steps.map((s) =>
    s.kind === 'part'
      ? `part ${s.part.seal.part.index}`
      : s.kind === 'finding'
        ? `${s.finding.kind} ${s.finding.code}`
        : s.kind === 'transport'
          ? `transport ${s.error.code}`
          : s.kind,
  );

describe('PeerAudit, a part verified while the one before it is stored', () => {
  let log: PeerLog;
  let p0: ReturnType<PeerLog['seal']>;
  let p1: ReturnType<PeerLog['seal']>;

  beforeAll(async () => {
    log = new PeerLog('alpha', ORIGIN, nodeEd25519);
    const n = log.nextAccountNumber;
    p0 = log.seal(await log.entries(2));
    // Part 1 changes the accounts part 0 created: it re-checks only on top of part 0's states.
    p1 = log.seal([
      await log.accountRequest(n, { kind: 'connect' }, 1),
      await log.accountRequest(n + 1, { kind: 'update-device', description: 'v2' }, 1),
    ]);
  });

  it("verifies the next part on top of the part being stored, with that part's account states", async () => {
    const pipe = new Pipeline(log);
    expect(kinds(await pipe.feed(log.records(p0)))).toEqual(['part 0']);
    pipe.advance();
    expect(pipe.audit.head).toBeUndefined(); // not stored yet
    expect(kinds(await pipe.feed(log.records(p1)))).toEqual(['part 1']);
    pipe.confirm();
    expect(pipe.audit.head?.part).toBe(0);
    pipe.advance();
    pipe.confirm();
    expect(pipe.audit.head).toMatchObject({ part: 1, size: 4 });
  });

  it('a store that failed: reset to the stored head forgets the part being stored and the part verified on it', async () => {
    const pipe = new Pipeline(log);
    await pipe.feed(log.records(p0));
    pipe.advance();
    expect(kinds(await pipe.feed(log.records(p1)))).toEqual(['part 1']);
    pipe.audit.reset(undefined);
    // Part 1 alone no longer follows anything the audit holds; part 0 is verified again, not a replay.
    const alone = kinds(await pipe.feed(log.records(p1)));
    expect(alone.length).toBeGreaterThan(0);
    expect(new Set(alone)).toEqual(new Set(['transport assembler.gap']));
    expect(kinds(await pipe.feed(log.records(p0)))).toEqual(['part 0']);
    pipe.advance();
    pipe.confirm();
    expect(kinds(await pipe.feed(log.records(p1)))).toEqual(['part 1']);
  });

  it('a finding on the next part keeps the part being stored, and names it as the previous seal', async () => {
    const pipe = new Pipeline(log);
    await pipe.feed(log.records(p0));
    pipe.advance();
    // The same account created again: only part 0's states (being stored) know it exists.
    const rogue = new PeerLog('alpha', ORIGIN, nodeEd25519);
    rogue.seal(p0.entries);
    const again = rogue.seal([p0.entries[0]!]);
    const [finding] = await pipe.feed(rogue.records(again));
    expect(finding).toMatchObject({
      kind: 'finding',
      finding: { kind: 'rule', code: 'account.exists', part: 1 },
    });
    if (finding?.kind !== 'finding') throw new Error('no finding');
    expect(finding.finding.evidence).toMatchObject({ previousSeal: p0.seal, index: 2 });
    pipe.confirm();
    expect(pipe.audit.head?.part).toBe(0);
    // The genuine part 1 follows the stored part 0.
    expect(kinds(await pipe.feed(log.records(p1)))).toEqual(['part 1']);
  });

  it("compares a seal message of the part being stored with that part's seal", async () => {
    const pipe = new Pipeline(log);
    await pipe.feed(log.records(p0));
    pipe.advance();
    const records = log.records(p0);
    // Its own seal again (a publisher's duplicate): nothing.
    expect(await pipe.feed(records.slice(-1))).toEqual([]);
    // Another seal the peer signed for the same part: equivocation, with verifiable evidence.
    const other = signSeal({ ...p0.value, timeMs: p0.value.timeMs + 1 }, log.fixture.signer);
    const conflicting = new PeerLog('alpha', ORIGIN, nodeEd25519).records({ ...p0, seal: other });
    const [step] = await pipe.feed(conflicting.slice(-1));
    if (step?.kind !== 'finding') throw new Error(`expected a finding, got ${step?.kind}`);
    expect(step.finding).toMatchObject({ kind: 'equivocation', part: 0 });
    const [a, b] = verifyEquivocation(step.finding.evidence, nodeEd25519, log.verifierKey);
    expect(a.part.index).toBe(b.part.index);
  });

  it('stores one part at a time, and confirms only a part being stored', async () => {
    const pipe = new Pipeline(log);
    expect(() => pipe.audit.advance()).toThrow('no verified part to store');
    expect(() => pipe.audit.confirm()).toThrow('no part is being stored');
    await pipe.feed(log.records(p0));
    pipe.advance();
    await pipe.feed(log.records(p1));
    expect(() => pipe.audit.advance()).toThrow('part 0 is being stored already');
    expect(() => pipe.audit.commit()).toThrow('part 0 is being stored already');
  });
});
