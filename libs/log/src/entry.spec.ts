import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { toHex, utf8 } from './bytes';
import { sampleEntry, sampleRecord } from '../testdata/log-fixture';
import { decodeEntry, encodeEntry, entryLeafHash } from './entry';
import { withCode as code } from '../testdata/with-code';

describe('entry encoding (RFC 8785 JCS, UTF-8)', () => {
  it('encodes records canonically whatever the key order', () => {
    const a = encodeEntry({ op: 'Publish', account: 'MDFB-AAAA', value: { b: 1, a: [true, null, 'é'] } });
    const b = encodeEntry({ value: { a: [true, null, 'é'], b: 1 }, account: 'MDFB-AAAA', op: 'Publish' });
    expect(a).toEqual(b);
    expect(new TextDecoder().decode(a)).toBe(
      '{"account":"MDFB-AAAA","op":"Publish","value":{"a":[true,null,"é"],"b":1}}',
    );
  });

  it('follows the RFC 8785 §3.2.2 number and string rules', () => {
    // RFC 8785 Appendix B style values: shortest round-trip numbers, minimal escapes.
    const text = new TextDecoder().decode(
      encodeEntry({ n: [1e21, 1e-7, -0, 0.1, 333333333.3333333], s: '\u20ac$\u000f\nA\'"\\/' }),
    );
    expect(text).toBe('{"n":[1e+21,1e-7,0,0.1,333333333.3333333],"s":"€$\\u000f\\nA\'\\"\\\\/"}');
  });

  it('decodes exactly what it encodes', () => {
    const record = { op: 'Publish', nested: { list: [1, 2, { z: 'x', a: 'y' }] } };
    expect(decodeEntry(encodeEntry(record))).toEqual(record);
  });

  it('hashes the entry bytes as an RFC 9162 leaf', () => {
    const expected = createHash('sha256').update(Uint8Array.of(0x00)).update('{"a":1}').digest('hex');
    expect(toHex(entryLeafHash(encodeEntry({ a: 1 })))).toBe(expected);
  });

  it.each([
    ['spacing', '{"a": 1}'],
    ['key order', '{"b":1,"a":2}'],
    ['number spelling', '{"a":1.0}'],
    ['needless escape', '{"a":"\\u0041"}'],
    ['duplicate key', '{"a":1,"a":1}'],
    ['trailing newline', '{"a":1}\n'],
  ])('rejects non-canonical JSON (%s) with entry.not-canonical', (_why, text) => {
    expect(() => decodeEntry(utf8(text))).toThrow(code('entry.not-canonical'));
  });

  it.each([
    ['invalid UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d)],
    ['not JSON', utf8('{a:1}')],
    ['an array', utf8('[1]')],
    ['a string', utf8('"x"')],
    ['a byte-order mark', Uint8Array.of(0xef, 0xbb, 0xbf, ...utf8('{}'))],
    ['a lone surrogate', utf8('{"a":"\\ud800"}')],
  ])('rejects %s with entry.malformed', (_why, bytes) => {
    expect(() => decodeEntry(bytes)).toThrow(code('entry.malformed'));
  });

  it('refuses records that are not I-JSON objects', () => {
    expect(() => encodeEntry([] as never)).toThrow(code('entry.malformed'));
    expect(() => encodeEntry({ n: Number.NaN })).toThrow(code('entry.malformed'));
    expect(() => encodeEntry({ s: '\ud800' })).toThrow(code('entry.malformed'));
    expect(() => encodeEntry({ s: '\\ud800' })).not.toThrow();
  });
});

describe('the test fixture entries', () => {
  it('are the canonical encoding of their records', () => {
    for (const i of [0, 1, 2, 16, 17, 1000, 999_999, 3_000_000]) {
      expect(new TextDecoder().decode(sampleEntry(i))).toBe(
        new TextDecoder().decode(encodeEntry(sampleRecord(i))),
      );
    }
  });
});

describe('the canonical-form check', () => {
  it.each([
    ['integer-like keys, in code-unit order', '{"10":1,"9":2}', true],
    ['integer-like keys, in numeric order', '{"9":2,"10":1}', false],
    ['mixed keys', '{"1":0,"a":{"2":[],"b":null}}', true],
    ['non-ASCII keys by UTF-16 code unit', '{"\u00e9":1,"\ud83d\ude00":2,"\uffff":3}', true],
    ['non-ASCII keys out of order', '{"\uffff":3,"\ud83d\ude00":2}', false],
    ['nested arrays of objects', '{"a":[{"b":1,"c":2},{"a":0}]}', true],
    ['nested arrays with unsorted objects', '{"a":[{"c":2,"b":1}]}', false],
  ])('decides %s exactly as canonicalize does', (_why, text, canonical) => {
    if (canonical) expect(decodeEntry(utf8(text))).toEqual(JSON.parse(text));
    else expect(() => decodeEntry(utf8(text))).toThrow(code('entry.not-canonical'));
  });

  it('agrees with canonicalize on random JSON (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const canonical = new TextDecoder().decode(encodeEntry(record as never));
        expect(decodeEntry(utf8(canonical))).toEqual(JSON.parse(canonical));
        const plain = JSON.stringify(record);
        if (plain !== canonical) expect(() => decodeEntry(utf8(plain))).toThrow(code('entry.not-canonical'));
      }),
      { numRuns: 300 },
    );
  });
});
