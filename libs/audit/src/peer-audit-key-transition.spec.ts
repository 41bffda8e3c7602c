import { nodeEd25519 } from '@cryptomesh/crypto';
import { signKeyTransition, type NoteSigner } from '@cryptomesh/log';
import type { AuditHead, AuditStep } from './audit-step';
import { PeerLog } from '../test/peer-log';
import { logSigner } from '../../log/testdata/log-fixture';
import { fixedClock } from './clock';
import { PeerAudit } from './peer-audit';

const ORIGIN = 'alpha.test/log';
const NEXT = logSigner(ORIGIN, nodeEd25519, 'next');
const ROGUE = logSigner(ORIGIN, nodeEd25519, 'rogue');

/** A mirror as the service keeps it: the stored head, reloaded into a fresh audit when asked. */
function auditOf(pinned: PeerLog['verifierKey'], head?: AuditHead): PeerAudit {
  return new PeerAudit(
    { id: 'alpha', origin: ORIGIN, verifierKey: pinned },
    head,
    {
      sealNote: () => Promise.resolve(undefined),
      accountState: () => Promise.resolve(undefined),
      accountEntries: () => Promise.resolve([]),
    },
    nodeEd25519,
    fixedClock(1_763_800_000_000 + 3 * 3_600_000),
  );
}

/** Feeds parts' topic records; commits each verified part as the service does. */
async function feed(
  audit: PeerAudit,
  log: PeerLog,
  parts: ReturnType<PeerLog['seal']>[],
): Promise<AuditStep[]> {
  const steps: AuditStep[] = [];
  let offset = 0n;
  for (const part of parts)
    for (const record of log.records(part)) {
      const step = await audit.onMessage({ ...record, offset: offset++ });
      steps.push(step);
      if (step.kind === 'part') audit.commit();
    }
  return steps.filter((s) => s.kind !== 'none');
}

/**
 * Part 0 by the old key; part 1 (two accounts and the transition) by `part1Key`; part 2 (two more
 * accounts) by `part2Key`. The transition is signed by `transitionKey` as the old key.
 */
async function rotatedLog(
  options: { transitionKey?: NoteSigner; part2Key?: NoteSigner } = {},
): Promise<{ log: PeerLog; pinned: PeerLog['verifierKey']; parts: ReturnType<PeerLog['seal']>[] }> {
  const log = new PeerLog('alpha', ORIGIN, nodeEd25519);
  const old = log.fixture.signer;
  const p0 = log.seal(await log.entries(2));
  const accounts = await log.entries(2);
  const transition = signKeyTransition({
    origin: ORIGIN,
    oldKey: options.transitionKey ?? old,
    nextKey: NEXT,
    part: 1,
    size: log.fixture.size + accounts.length + 1,
  });
  const p1 = log.seal([...accounts, transition]);
  log.fixture.signer = options.part2Key ?? NEXT;
  const p2 = log.seal(await log.entries(2));
  return { log, pinned: old.verifierKey, parts: [p0, p1, p2] };
}

describe('PeerAudit and log key transitions', () => {
  it('follows a transition: the stored head carries the new key, and a reloaded audit goes on', async () => {
    const { log, pinned, parts } = await rotatedLog();
    const audit = auditOf(pinned);
    const steps = await feed(audit, log, parts.slice(0, 2));
    expect(steps.map((s) => s.kind)).toEqual(['part', 'part']);
    expect(audit.head?.logKeys).toEqual({
      current: NEXT.verifierKey.text,
      note: pinned.text,
      retired: [pinned.text],
    });
    expect(audit.logKey.text).toBe(NEXT.verifierKey.text);
    // A restarted mirror (the stored head), pinned to the old key or to the new one (an updated
    // federation.json), verifies the new key's part.
    for (const key of [pinned, NEXT.verifierKey]) {
      const reloaded = auditOf(key, audit.head);
      const next = await reloaded.verify(parts[2]!.entries, parts[2]!.seal);
      expect(next.kind).toBe('part');
    }
  });

  it('a transition signed by a key that is not the current log key is a bad-part finding; the mirror stops there', async () => {
    const { log, pinned, parts } = await rotatedLog({ transitionKey: ROGUE });
    const audit = auditOf(pinned);
    const steps = await feed(audit, log, parts);
    expect(steps[0]!.kind).toBe('part');
    expect(steps[1]).toMatchObject({
      kind: 'finding',
      finding: { kind: 'bad-part', code: 'verify.transition', part: 1 },
    });
    // Nothing after it is mirrored: the new key is not the peer's.
    expect(steps.slice(2).every((s) => s.kind !== 'part')).toBe(true);
    expect(audit.head?.part).toBe(0);
    expect(audit.head?.logKeys).toBeUndefined();
  });

  it('a part sealed by the old key after the transition is a bad-part finding (verify.retired-key)', async () => {
    const log0 = new PeerLog('alpha', ORIGIN, nodeEd25519);
    const { log, pinned, parts } = await rotatedLog({ part2Key: log0.fixture.signer });
    const audit = auditOf(pinned);
    const steps = await feed(audit, log, parts);
    expect(steps.map((s) => s.kind)).toEqual(['part', 'part', 'finding']);
    expect(steps[2]).toMatchObject({ finding: { kind: 'bad-part', code: 'verify.retired-key', part: 2 } });
    expect(audit.head?.part).toBe(1);
  });
});
