import type { IncomingMessage } from 'node:http';
import { REQUEST_ID_MAX_LENGTH, acceptRequestId, requestIdFor } from './request-id';

describe('acceptRequestId', () => {
  it.each([
    ['a UUID', '0f8fad5b-d9cb-469f-a165-70867728950e'],
    ['one character', 'x'],
    ['the maximum length', 'r'.repeat(REQUEST_ID_MAX_LENGTH)],
    ['printable punctuation', 'req:42/a_b.c~!'],
  ])('takes %s', (_, id) => {
    expect(acceptRequestId(id)).toBe(id);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['one character too long', 'r'.repeat(REQUEST_ID_MAX_LENGTH + 1)],
    ['a space', 'a b'],
    ['a newline (log injection)', 'a\nb'],
    ['a control character', 'a\u0000b'],
    ['non-ASCII', 'réq'],
    ['a repeated header', ['a', 'b']],
  ])('refuses %s', (_, header) => {
    expect(acceptRequestId(header)).toBeUndefined();
  });
});

describe('requestIdFor', () => {
  const call = (header?: string) =>
    requestIdFor({ headers: header === undefined ? {} : { 'x-request-id': header } } as IncomingMessage);

  it("keeps the client's acceptable id", () => {
    expect(call('client-42')).toBe('client-42');
  });

  it('generates a fresh UUID for a missing or unacceptable header', () => {
    for (const header of [undefined, 'bad id', 'x'.repeat(500)]) {
      expect(call(header)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(call()).not.toBe(call());
  });
});
