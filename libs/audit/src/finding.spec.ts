import { FINDING_KINDS } from '@cryptomesh/intermesh';
import { isSealedViolation, SEALED_VIOLATION_CODES, type Finding, type FindingCodes } from './finding';

const base = { part: 0, detail: 'd', evidence: {} };

describe('Finding', () => {
  it("takes each kind's codes, and an unknown code or a code of another kind does not type-check", () => {
    const ok: Finding[] = [
      { ...base, kind: 'equivocation', code: 'seal.conflict' },
      { ...base, kind: 'bad-part', code: 'verify.chain' },
      { ...base, kind: 'stale', code: 'mirror.stale' },
      { ...base, kind: 'rule', code: 'request.replayed' },
      { ...base, kind: 'gap', code: 'assembler.gap' },
    ];
    // @ts-expect-error an unknown code
    const unknown: Finding = { ...base, kind: 'rule', code: 'rule.made-up' };
    // @ts-expect-error a code of another kind
    const misplaced: Finding = { ...base, kind: 'stale', code: 'seal.conflict' };
    expect([...ok, unknown, misplaced].map((f) => f.kind)).toHaveLength(7);
  });

  it('has codes for exactly the kinds of FINDING_KINDS', () => {
    const table: Record<keyof FindingCodes, true> = {
      equivocation: true,
      'bad-part': true,
      gap: true,
      stale: true,
      rule: true,
      'escrow-conflict': true,
    };
    expect(Object.keys(table).sort()).toEqual([...FINDING_KINDS].sort());
  });

  it('tells the violations a valid seal proves from the others', () => {
    for (const code of SEALED_VIOLATION_CODES) expect(isSealedViolation(code)).toBe(true);
    for (const code of ['verify.size', 'verify.part-digest', 'note.signature', ''])
      expect(isSealedViolation(code)).toBe(false);
  });
});
