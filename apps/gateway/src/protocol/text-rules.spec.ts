import { checkCharset } from './envelope';
import { checkPlainText, controlCharacterIn, REQUEST_ID } from './text-rules';

/** Issue #16: what a stranger sends is refused when a terminal would act on it. */
describe('gateway text rules', () => {
  it.each([
    ['\u001b[2K\rfake', 'U+001B'],
    ['a\rb', 'U+000D'],
    ['a\nb', 'U+000A'],
    ['tab\there', 'U+0009'],
    ['nul\u0000', 'U+0000'],
    ['del\u007f', 'U+007F'],
    ['csi\u009b2K', 'U+009B'],
    ['bidi\u202eexe.txt', 'U+202E'],
    ['isolate\u2066x', 'U+2066'],
    ['line\u2028sep', 'U+2028'],
  ])('finds the control character in %j', (text, found) => {
    expect(controlCharacterIn(text)).toBe(found);
    expect(() => checkPlainText(text, 'the Description')).toThrow(
      expect.objectContaining({
        code: 'request.control-character',
        message: expect.stringContaining(found) as string,
      }) as Error,
    );
  });

  it.each(["Alice's phone", 'téléphone de Zoé', '電話', 'laptop 🙂', ''])('accepts %j', (text) => {
    expect(checkPlainText(text, 'the Description')).toBe(text);
  });

  it.each([
    ['AAAAAAAAAAAAAAAAAAAAAA', true],
    ['abc-_0123456789ABCDEFG', true],
    ['\u0000', false],
    ['AAAAAAAAAAAAAAAAAAAAA', false],
    ['AAAAAAAAAAAAAAAAAAAAAAA', false],
    ['AAAAAAAAAAAAAAAAAAAAA=', false],
  ])('REQUEST_ID %j: %s', (text, ok) => {
    expect(REQUEST_ID.test(text)).toBe(ok);
  });

  it.each([
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/json;charset="UTF8"',
  ])('checkCharset accepts %p', (type) => expect(() => checkCharset(type)).not.toThrow());

  it.each([
    'application/json; charset=iso-8859-1',
    'application/json; charset=utf-16',
    'application/json; charset=',
  ])('checkCharset refuses %p with request.unsupported-media-type', (type) =>
    expect(() => checkCharset(type)).toThrow(
      expect.objectContaining({ code: 'request.unsupported-media-type' }) as Error,
    ),
  );
});
