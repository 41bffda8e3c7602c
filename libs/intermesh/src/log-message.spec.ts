import fc from 'fast-check';
import {
  LOG_MESSAGE_MAX_BYTES,
  PartEncoder,
  decodeLogMessage,
  encodeLogMessage,
  encodePart,
  type LogMessage,
  type LogRecord,
} from './log-message';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import { PartAssembler, type AssembledPart } from './part-assembler';

const utf8 = new TextEncoder();
const bytesOf = (n: number, seed = 1): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);
const seal = (part: number, first: number, size: number) => ({
  part,
  first,
  size,
  note: `note of part ${part}\n`,
});
const decode = (r: LogRecord): LogMessage => decodeLogMessage({ key: r.key, type: r.type, value: r.value });

function codeOf(fn: () => unknown): IntermeshErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntermeshError) return error.code;
    throw error;
  }
  return undefined;
}

function reassemble(records: Iterable<LogRecord>, portal = 'alpha'): AssembledPart[] {
  const assembler = new PartAssembler(portal);
  const parts: AssembledPart[] = [];
  for (const record of records) {
    const outcome = assembler.push(decode(record));
    if (outcome.kind === 'part') parts.push(outcome.part);
  }
  return parts;
}

describe('log messages', () => {
  it('encodes the documented JSON, keyed by portal, with the type header', () => {
    const [entries, sealRecord] = [
      ...encodePart('alpha', seal(3, 10, 12), [utf8.encode('{"a":1}'), utf8.encode('{"b":2}')]),
    ];
    expect(entries!.key).toBe('alpha');
    expect(entries!.type).toBe('entries');
    expect(new TextDecoder().decode(entries!.value)).toBe(
      '{"v":1,"type":"entries","portal":"alpha","part":3,"first":10,"entries":["eyJhIjoxfQ==","eyJiIjoyfQ=="]}',
    );
    expect(new TextDecoder().decode(sealRecord!.value)).toBe(
      '{"v":1,"type":"seal","portal":"alpha","part":3,"first":10,"size":12,"note":"note of part 3\\n"}',
    );
  });

  it('round-trips every message type', () => {
    const messages: LogMessage[] = [
      { type: 'entries', portal: 'p-1', part: 0, first: 0, entries: [bytesOf(5), bytesOf(1)] },
      { type: 'fragment', portal: 'p-1', part: 7, index: 9, offset: 3, length: 10, data: bytesOf(7) },
      { type: 'seal', portal: 'p-1', part: 7, first: 9, size: 10, note: 'é — signed\n' },
    ];
    for (const m of messages) expect(decode(encodeLogMessage(m))).toEqual(m);
  });

  it.each([1_024, 1_500, 4_096, 65_536])('keeps every message within a limit of %i bytes', (limit) => {
    const entries = Array.from({ length: 200 }, (_, i) => bytesOf(1 + ((i * 97) % 3000), i));
    const records = [...encodePart('alpha', seal(0, 0, entries.length), entries, limit)];
    for (const r of records) expect(r.value.length).toBeLessThanOrEqual(limit);
    const [part] = reassemble(records);
    expect(part!.entries).toEqual(entries);
    expect(records.some((r) => r.type === 'fragment')).toBe(limit < 4_096); // entries ≤ 3000 bytes
  });

  it('fills a chunk up to the limit exactly when entries fit', () => {
    const entries = Array.from({ length: 50 }, (_, i) => bytesOf(30, i));
    const records = [...encodePart('alpha', seal(0, 0, 50), entries, 1_024)];
    const chunks = records.filter((r) => r.type === 'entries');
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks.slice(0, -1)) expect(c.value.length).toBeGreaterThan(1_024 - 45);
  });

  it('sends a part too large for one message and a 2 MiB entry', () => {
    const big = bytesOf(2 * 1024 * 1024, 3);
    const records = [...encodePart('alpha', seal(0, 0, 2), [bytesOf(10), big])];
    expect(records.filter((r) => r.type === 'fragment').length).toBeGreaterThanOrEqual(5);
    for (const r of records) expect(r.value.length).toBeLessThanOrEqual(500_000);
    expect(reassemble(records)[0]!.entries[1]).toEqual(big);
  });

  it('refuses to seal a part with fewer or more entries than its range', () => {
    const encoder = new PartEncoder('alpha', seal(0, 0, 1));
    expect(codeOf(() => encoder.finish())).toBe('message.size');
    encoder.add(bytesOf(1));
    expect(codeOf(() => encoder.add(bytesOf(1)))).toBe('message.size');
    expect(codeOf(() => new PartEncoder('alpha', seal(0, 0, 1), 100))).toBe('message.limit');
    expect(codeOf(() => new PartEncoder('Alpha', seal(0, 0, 1)))).toBe('message.portal');
    expect(codeOf(() => new PartEncoder('alpha', seal(0, 0, 1)).add(new Uint8Array()))).toBe('message.entry');
    const longNote = { ...seal(0, 0, 0), note: 'x'.repeat(2_000) };
    expect(codeOf(() => [...encodePart('alpha', longNote, [], 1_024)])).toBe('message.too-large');
  });

  it('property: any part, cut at any limit, reassembles to the same entries and seal', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 3_000 }), { maxLength: 40 }),
        fc.integer({ min: 1_024, max: 8_192 }),
        fc.nat(1_000_000),
        fc.nat(1_000),
        (entries, limit, first, part) => {
          const s = seal(part, first, first + entries.length);
          const records = [...encodePart('alpha', s, entries, limit)];
          for (const r of records) expect(r.value.length).toBeLessThanOrEqual(limit);
          const assembler = new PartAssembler(
            'alpha',
            part === 0 ? undefined : { ...seal(part - 1, 0, first) },
          );
          if (part === 0 && first !== 0) return; // part 0 starts the log at entry 0
          const outcomes = records.map((r) => assembler.push(decode(r)));
          const last = outcomes.at(-1)!;
          expect(last.kind).toBe('part');
          expect(last.kind === 'part' && last.part).toEqual({ portal: 'alpha', ...s, entries });
          // The whole part replayed is a duplicate, message by message.
          for (const r of records) expect(assembler.push(decode(r)).kind).toBe('duplicate');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('decodeLogMessage rejects, with its code', () => {
  const entries = { v: 1, type: 'entries', portal: 'alpha', part: 1, first: 2, entries: ['AQ=='] };
  const fragment = {
    v: 1,
    type: 'fragment',
    portal: 'alpha',
    part: 1,
    index: 2,
    offset: 0,
    length: 4,
    data: 'AQI=',
  };
  const sealBody = { v: 1, type: 'seal', portal: 'alpha', part: 1, first: 2, size: 3, note: 'n' };
  const json = (
    body: unknown,
    type: string | undefined = (body as { type?: string }).type,
    key: string | undefined = 'alpha',
  ) => decodeLogMessage({ key, type, value: utf8.encode(JSON.stringify(body)) });

  it('accepts the well-formed bodies', () => {
    expect(json(entries).type).toBe('entries');
    expect(json(fragment).type).toBe('fragment');
    expect(json(sealBody).type).toBe('seal');
  });

  it.each<[string, () => unknown, IntermeshErrorCode]>([
    [
      'a value above 1 MB',
      () =>
        decodeLogMessage({ key: 'alpha', type: 'seal', value: new Uint8Array(LOG_MESSAGE_MAX_BYTES + 1) }),
      'message.too-large',
    ],
    [
      'invalid UTF-8',
      () => decodeLogMessage({ key: 'alpha', type: 'seal', value: Uint8Array.of(0x7b, 0xff, 0x7d) }),
      'message.not-json',
    ],
    [
      'not JSON',
      () => decodeLogMessage({ key: 'alpha', type: 'seal', value: utf8.encode('{"v":1,') }),
      'message.not-json',
    ],
    ['an array', () => json([1], 'seal'), 'message.not-object'],
    ['null', () => json(null, 'seal'), 'message.not-object'],
    ['version 2', () => json({ ...sealBody, v: 2 }), 'message.version'],
    ['version "1"', () => json({ ...sealBody, v: '1' }), 'message.version'],
    ['no version', () => json({ ...sealBody, v: undefined }), 'message.version'],
    ['an unknown type', () => json({ ...sealBody, type: 'cosignature' }), 'message.type'],
    ['an extra field', () => json({ ...sealBody, extra: 1 }), 'message.unknown-field'],
    ['a field of another type', () => json({ ...sealBody, entries: [] }), 'message.unknown-field'],
    ['a header type that disagrees', () => json(sealBody, 'entries'), 'message.header'],
    [
      'no type header',
      () => decodeLogMessage({ key: 'alpha', type: undefined, value: utf8.encode(JSON.stringify(sealBody)) }),
      'message.header',
    ],
    ['a key that is not the portal', () => json(sealBody, 'seal', 'beta'), 'message.key'],
    [
      'no key',
      () => decodeLogMessage({ key: undefined, type: 'seal', value: utf8.encode(JSON.stringify(sealBody)) }),
      'message.key',
    ],
    ['an invalid portal id', () => json({ ...sealBody, portal: 'Alpha' }, 'seal', 'Alpha'), 'message.portal'],
    ['no portal', () => json({ ...sealBody, portal: undefined }), 'message.portal'],
    ['a negative part', () => json({ ...sealBody, part: -1 }), 'message.part'],
    ['a fractional part', () => json({ ...sealBody, part: 1.5 }), 'message.part'],
    ['a part beyond 2^53', () => json({ ...sealBody, part: 2 ** 53 }), 'message.part'],
    ['a string part', () => json({ ...sealBody, part: '1' }), 'message.part'],
    ['a missing first', () => json({ ...entries, first: undefined }), 'message.first'],
    ['no entries', () => json({ ...entries, entries: [] }), 'message.entries'],
    ['entries not an array', () => json({ ...entries, entries: 'AQ==' }), 'message.entries'],
    ['an empty entry', () => json({ ...entries, entries: [''] }), 'message.entry'],
    ['a non-string entry', () => json({ ...entries, entries: [1] }), 'message.entry'],
    ['unpadded base64', () => json({ ...entries, entries: ['AQ'] }), 'message.entry'],
    ['non-canonical base64', () => json({ ...entries, entries: ['AR=='] }), 'message.entry'],
    ['base64url', () => json({ ...entries, entries: ['-_8='] }), 'message.entry'],
    ['a negative index', () => json({ ...fragment, index: -1 }), 'message.index'],
    ['a zero length', () => json({ ...fragment, length: 0 }), 'message.length'],
    ['a length above 64 MiB', () => json({ ...fragment, length: 64 * 1024 * 1024 + 1 }), 'message.length'],
    ['an offset at the length', () => json({ ...fragment, offset: 4 }), 'message.offset'],
    ['a negative offset', () => json({ ...fragment, offset: -1 }), 'message.offset'],
    ['empty data', () => json({ ...fragment, data: '' }), 'message.data'],
    ['data past the entry', () => json({ ...fragment, offset: 3 }), 'message.data'],
    ['bad base64 data', () => json({ ...fragment, data: 'A!I=' }), 'message.data'],
    ['a size below first', () => json({ ...sealBody, size: 1 }), 'message.size'],
    ['a missing size', () => json({ ...sealBody, size: undefined }), 'message.size'],
    ['an empty note', () => json({ ...sealBody, note: '' }), 'message.note'],
    ['a non-string note', () => json({ ...sealBody, note: 1 }), 'message.note'],
  ])('%s', (_, run, code) => {
    expect(codeOf(run)).toBe(code);
  });
});
