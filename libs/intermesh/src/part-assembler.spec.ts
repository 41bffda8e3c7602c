import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import { decodeLogMessage, encodePart, type LogMessage } from './log-message';
import { PartAssembler } from './part-assembler';

const bytesOf = (n: number, seed: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i + seed) & 255);
const seal = (part: number, first: number, size: number, note = `note ${part}`) => ({
  part,
  first,
  size,
  note,
});

/** The decoded messages of part `part` = entries [first, size), cut at 1 KiB so that parts span several. */
function messages(part: number, first: number, size: number, entryBytes = 300, note?: string): LogMessage[] {
  const entries = Array.from({ length: size - first }, (_, i) => bytesOf(entryBytes, first + i));
  return [...encodePart('alpha', seal(part, first, size, note), entries, 1_024)].map((r) =>
    decodeLogMessage({ key: r.key, type: r.type, value: r.value }),
  );
}

function feed(assembler: PartAssembler, list: readonly LogMessage[]): string[] {
  return list.map((m) => {
    const outcome = assembler.push(m);
    return outcome.kind === 'part' ? `part ${outcome.part.part}` : outcome.kind;
  });
}

function errorOf(fn: () => unknown): IntermeshError {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntermeshError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

function expectCode(fn: () => unknown, code: IntermeshErrorCode): IntermeshError {
  const error = errorOf(fn);
  expect(error.code).toBe(code);
  return error;
}

describe('PartAssembler', () => {
  const part0 = messages(0, 0, 10);
  const part1 = messages(1, 10, 25);
  const empty2 = messages(2, 25, 25);

  it('emits each part at its seal, empty parts included', () => {
    const a = new PartAssembler('alpha');
    expect(part0.length).toBeGreaterThan(3);
    expect(feed(a, [...part0, ...part1, ...empty2]).filter((o) => o.startsWith('part'))).toEqual([
      'part 0',
      'part 1',
      'part 2',
    ]);
    expect(a.position).toEqual({ part: 3, first: 25 });
  });

  it('treats a replayed part — whole, partial, then whole again — as duplicates', () => {
    const a = new PartAssembler('alpha');
    feed(a, part0);
    // The publisher crashed after producing part 0 and before advancing its cursor, twice.
    expect(feed(a, [...part0, part0[0]!, part0[1]!, ...part0])).toEqual(
      Array<string>(part0.length * 2 + 2).fill('duplicate'),
    );
    expect(feed(a, part1).at(-1)).toBe('part 1');
  });

  it('treats a message repeated inside the current part as a duplicate', () => {
    const a = new PartAssembler('alpha');
    expect(feed(a, [part0[0]!, part0[0]!, part0[1]!, part0[0]!])).toEqual([
      'pending',
      'duplicate',
      'pending',
      'duplicate',
    ]);
    expect(feed(a, part0.slice(2)).at(-1)).toBe('part 0');
  });

  it('accepts a part re-cut in other chunks (the limit changed across a restart)', () => {
    const a = new PartAssembler('alpha');
    const entries = Array.from({ length: 10 }, (_, i) => bytesOf(300, i));
    const coarse = [...encodePart('alpha', seal(0, 0, 10), entries, 4_096)].map((r) =>
      decodeLogMessage({ key: r.key, type: r.type, value: r.value }),
    );
    feed(a, part0.slice(0, 2)); // first attempt: a few fine chunks
    expect(feed(a, coarse).at(-1)).toBe('part 0');
    expect(feed(a, part0).every((o) => o === 'duplicate')).toBe(true);
  });

  it('reassembles and replays fragmented entries', () => {
    const frag = messages(0, 0, 3, 2_500);
    expect(frag.filter((m) => m.type === 'fragment').length).toBeGreaterThan(3);
    const a = new PartAssembler('alpha');
    const [f0, f1] = [frag[0]!, frag[1]!];
    expect(feed(a, [f0, f0, f1, f0])).toEqual(['pending', 'duplicate', 'pending', 'duplicate']);
    const out = feed(a, frag.slice(2));
    expect(out.at(-1)).toBe('part 0');
    expect(feed(a, frag).every((o) => o === 'duplicate')).toBe(true);
  });

  it('resumes after a stored part and still recognises its replayed seal', () => {
    const a = new PartAssembler('alpha', seal(0, 0, 10));
    expect(feed(a, part0).every((o) => o === 'duplicate')).toBe(true);
    expect(feed(a, part1).at(-1)).toBe('part 1');
  });

  describe('rejects with evidence', () => {
    it('a gap: a part skipped, an entry skipped, a fragment skipped', () => {
      const a = new PartAssembler('alpha');
      expect(expectCode(() => a.push(part1[0]!), 'assembler.gap').evidence).toMatchObject({
        expectedPart: 0,
        seenPart: 1,
      });
      expectCode(() => a.push(part0[1]!), 'assembler.gap');
      const frag = messages(0, 0, 1, 2_500);
      expectCode(() => a.push(frag[1]!), 'assembler.gap');
      expect(a.position).toEqual({ part: 0, first: 0 }); // nothing changed
    });

    it('a seal before all its entries', () => {
      const a = new PartAssembler('alpha');
      feed(a, part0.slice(0, 1));
      expect(expectCode(() => a.push(part0.at(-1)!), 'assembler.incomplete').evidence).toMatchObject({
        size: 10,
      });
    });

    it('a part that does not start where the previous one ended', () => {
      const a = new PartAssembler('alpha');
      feed(a, part0);
      expectCode(() => a.push(messages(1, 11, 12)[0]!), 'assembler.gap');
      expectCode(() => a.push(messages(1, 11, 12).at(-1)!), 'assembler.gap');
      expectCode(() => a.push(messages(1, 9, 12).at(-1)!), 'assembler.conflict');
    });

    it('reordered parts: an older part after a newer one began', () => {
      const a = new PartAssembler('alpha');
      feed(a, [...part0, ...part1]);
      expectCode(() => a.push(part0[0]!), 'assembler.reorder');
      feed(a, empty2.slice(0, 0));
      a.push(messages(2, 25, 26)[0]!);
      expectCode(() => a.push(part1[0]!), 'assembler.reorder');
    });

    it('a replay with other bytes or another seal (equivocation candidate)', () => {
      const a = new PartAssembler('alpha');
      feed(a, part0);
      expectCode(() => a.push(messages(0, 0, 10, 301)[0]!), 'assembler.conflict');
      const other = messages(0, 0, 10, 300, 'another note');
      const error = expectCode(() => a.push(other.at(-1)!), 'assembler.conflict');
      expect(error.evidence).toMatchObject({ accepted: { note: 'note 0' }, seen: { note: 'another note' } });
      const longer = messages(0, 0, 11).filter((m) => m.type === 'entries');
      expectCode(() => a.push(longer.at(-1)!), 'assembler.conflict'); // beyond the part's size
    });

    it('a repeated entry with other bytes inside the current part', () => {
      const a = new PartAssembler('alpha');
      feed(a, part0.slice(0, 2));
      expectCode(() => a.push(messages(0, 0, 10, 301)[0]!), 'assembler.conflict');
    });

    it('a message of another portal', () => {
      const a = new PartAssembler('beta');
      expectCode(() => a.push(part0[0]!), 'assembler.portal');
    });
  });

  describe('limits of an unsealed part', () => {
    it('accepts a part exactly at its limits', () => {
      const a = new PartAssembler('alpha', undefined, { maxEntries: 10, maxBytes: 3_000 });
      expect(feed(a, part0).at(-1)).toBe('part 0');
    });

    it('cuts off a part that streams more entries than maxEntries, dropping what it held', () => {
      const a = new PartAssembler('alpha', undefined, { maxEntries: 9, maxBytes: 1e9 });
      const entryMessages = part0.slice(0, -1);
      let error: IntermeshError | undefined;
      for (const m of entryMessages) {
        try {
          a.push(m);
        } catch (e) {
          error = e as IntermeshError;
          break;
        }
      }
      expect(error?.code).toBe('assembler.too-large');
      expect(error?.evidence).toMatchObject({ part: 0, maxEntries: 9 });
      // Dropped: the part starts again from its first entry, and the rest of the stream is a gap.
      expect(a.position).toEqual({ part: 0, first: 0 });
      expectCode(() => a.push(part0.at(-1)!), 'assembler.incomplete');
    });

    it('cuts off a part whose bytes pass maxBytes, counting a fragmented entry by its announced length', () => {
      const whole = new PartAssembler('alpha', undefined, { maxEntries: 1_000, maxBytes: 2_000 });
      expectCode(() => feed(whole, part0), 'assembler.too-large');
      // One 5 KB entry, cut into fragments of about 1 KiB: refused at its first fragment.
      const big = messages(0, 0, 1, 5_000);
      expect(big[0]!.type).toBe('fragment');
      const a = new PartAssembler('alpha', undefined, { maxEntries: 1_000, maxBytes: 4_000 });
      const error = expectCode(() => a.push(big[0]!), 'assembler.too-large');
      expect(error.evidence).toMatchObject({ bytes: 5_000, maxBytes: 4_000 });
    });

    it('holds memory to the limits against a peer that never seals (a long stream of entries)', () => {
      const a = new PartAssembler('alpha', undefined, { maxEntries: 50, maxBytes: 1e9 });
      const endless = messages(0, 0, 2_000).filter((m) => m.type !== 'seal');
      const codes = new Set<string>();
      for (const m of endless) {
        try {
          a.push(m);
        } catch (e) {
          codes.add((e as IntermeshError).code);
        }
      }
      // Cut off once, then every later message of the part is a gap: nothing more is held.
      expect([...codes].sort()).toEqual(['assembler.gap', 'assembler.too-large']);
      expect(a.position).toEqual({ part: 0, first: 0 });
    });
  });
});
