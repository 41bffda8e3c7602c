import { choiceParam, indexParam, limitParam, peerParam, textParam } from './query-params';

/** The query parameters' refusals: every one is `request.invalid`, naming the parameter. */
describe('query parameters', () => {
  const refused = (f: () => unknown, name: string) =>
    expect(f).toThrow(
      expect.objectContaining({
        code: 'request.invalid',
        message: expect.stringContaining(name) as string,
      }) as Error,
    );

  it.each([
    ['0', 0],
    ['9007199254740991', 2 ** 53 - 1],
  ])('indexParam reads %s', (text, n) => {
    expect(indexParam('start', text)).toBe(n);
  });

  it.each([undefined, '', '-1', '01', '1.5', 'x', ['1', '2'], '9007199254740992'])(
    'indexParam refuses %p',
    (value) => refused(() => indexParam('start', value), 'start'),
  );

  it.each([
    [undefined, 100],
    ['', 100],
    ['1', 1],
    ['1000', 1000],
  ])('limitParam reads %p as %i', (value, n) => {
    expect(limitParam('limit', value, 100, 1000)).toBe(n);
  });

  it.each(['0', '1001', '-5', 'ten', ['1', '2']])('limitParam refuses %p', (value) =>
    refused(() => limitParam('limit', value, 100, 1000), 'limit'),
  );

  it('choiceParam takes one of its choices, or nothing', () => {
    expect(choiceParam('kind', 'gap', ['gap', 'stale'])).toBe('gap');
    expect(choiceParam('kind', undefined, ['gap'])).toBeUndefined();
    expect(choiceParam('kind', '', ['gap'])).toBeUndefined();
    refused(() => choiceParam('kind', 'GAP', ['gap', 'stale']), 'gap, stale');
    refused(() => choiceParam('kind', ['gap', 'gap'], ['gap']), 'kind');
  });

  it('textParam takes one bounded text, or nothing', () => {
    expect(textParam('subject', 'beta', 10)).toBe('beta');
    expect(textParam('subject', '', 10)).toBeUndefined();
    refused(() => textParam('subject', 'x'.repeat(11), 10), 'subject');
    refused(() => textParam('subject', ['a', 'b'], 10), 'subject');
  });

  it.each(['self', 'beta', 'portal-b', '0', 'a'.repeat(63)])('peerParam reads %p', (name) => {
    expect(peerParam(name)).toBe(name);
  });

  it.each([
    '',
    'Beta',
    'self\u0000',
    '\u0000',
    '-a',
    'a'.repeat(64),
    'a b',
    'a\u001b[2K',
    ['a', 'b'],
    undefined,
  ])('peerParam refuses %p with peer.invalid (issue #16: a NUL reached PostgreSQL)', (value) =>
    expect(() => peerParam(value)).toThrow(expect.objectContaining({ code: 'peer.invalid' }) as Error),
  );
});
