import { escapeControls } from './text';

describe('escapeControls', () => {
  it.each([
    ['a NUL', 'a\u0000b', 'a\\u0000b'],
    ['ESC and CR', '\u001b[2K\rx', '\\u001b[2K\\u000dx'],
    ['DEL and a C1 control', '\u007f\u0085', '\\u007f\\u0085'],
    ['a bidirectional override', 'a\u202eb', 'a\\u202eb'],
    ['an unpaired high surrogate', 'a\ud800b', 'a\\ud800b'],
    ['an unpaired low surrogate', 'a\udc00', 'a\\udc00'],
    ['a high surrogate at the end', '\ud83d', '\\ud83d'],
  ])('writes %s as \\uXXXX', (_what, text, escaped) => {
    expect(escapeControls(text)).toBe(escaped);
    // One printable line that PostgreSQL stores and JSON reads back as the escape itself.
    expect(escapeControls(escaped)).toBe(escaped);
    expect(Buffer.from(escapeControls(text), 'utf8').toString('utf8')).toBe(escaped);
  });

  it('keeps printable text and a surrogate pair as they are', () => {
    const text = 'müller@example.com 😀 — “quoted”';
    expect(escapeControls(text)).toBe(text);
  });
});
