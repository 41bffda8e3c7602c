import { codeOf } from '../test/error-code';
import vectors from '../testdata/account.json';
import { ACCOUNT_CONTENT_ID, accountUdf, normaliseAccountAddress, parseAccountAddress } from './account';
import { utf8 } from './bytes';
import { contentDigestUdf } from './content-digest';

describe('account addresses', () => {
  for (const v of vectors.vectors) {
    it(`${v.address} normalises to ${v.normalised} with UDF ${v.accountUdf}`, () => {
      expect(normaliseAccountAddress(v.address)).toBe(v.normalised);
      expect(accountUdf(v.address)).toBe(v.accountUdf);
      expect(accountUdf(parseAccountAddress(v.address))).toBe(v.accountUdf);
    });
  }

  it('is the MeshAccount content digest of the normal form', () => {
    expect(accountUdf('Alice@Example.com', { bits: 200 })).toBe(
      contentDigestUdf(utf8('alice@example.com'), ACCOUNT_CONTENT_ID, { bits: 200 }),
    );
  });

  it('splits user and domain', () => {
    expect(parseAccountAddress('Alice.B_c+d-e@XN--BCHER-KVA.Example')).toEqual({
      user: 'alice.b_c+d-e',
      domain: 'xn--bcher-kva.example',
      address: 'alice.b_c+d-e@xn--bcher-kva.example',
    });
    expect(parseAccountAddress('a@localhost').domain).toBe('localhost');
  });

  it.each([
    '',
    'alice',
    '@example.com',
    'alice@',
    'alice@@example.com',
    'a@b@example.com',
    '.alice@example.com',
    'alice.@example.com',
    'al..ice@example.com',
    'al ice@example.com',
    'alice@exa mple.com',
    'alice@-example.com',
    'alice@example-.com',
    'alice@example..com',
    'alice@example.com.',
    'alice@ex_ample.com',
    'alice:x@example.com',
    'ålice@example.com',
    'alice@bücher.example',
    `${'a'.repeat(65)}@example.com`,
    `alice@${'a'.repeat(64)}.com`,
    `alice@${'abcdefghi.'.repeat(25)}com`,
    'alice@example.com\n',
  ])('rejects %j', (text) => {
    expect(codeOf(() => parseAccountAddress(text))).toBe('account.malformed');
  });

  it('rejects a non-string', () => {
    expect(codeOf(() => accountUdf(7 as unknown as string))).toBe('account.malformed');
  });

  it('keeps the default precision apart from any other, asked in either order', () => {
    const at200 = contentDigestUdf(utf8('bob@example.com'), ACCOUNT_CONTENT_ID, { bits: 200 });
    const atDefault = contentDigestUdf(utf8('bob@example.com'), ACCOUNT_CONTENT_ID);
    expect([accountUdf('Bob@Example.com'), accountUdf('Bob@Example.com', { bits: 200 })]).toEqual([
      atDefault,
      at200,
    ]);
    expect([accountUdf('BOB@example.com', { bits: 200 }), accountUdf('BOB@example.com')]).toEqual([
      at200,
      atDefault,
    ]);
  });

  it('answers an address asked again as it did the first time, and refuses a bad one every time', () => {
    for (const v of [...vectors.vectors, ...vectors.vectors])
      expect(accountUdf(v.address)).toBe(v.accountUdf);
    for (let i = 0; i < 2; i++) {
      expect(codeOf(() => accountUdf('alice@@example.com'))).toBe('account.malformed');
      // Not a string, though it reads as one: never answered from what a string was given.
      expect(codeOf(() => accountUdf({ address: [vectors.vectors[0]!.address] } as never))).toBe(
        'account.malformed',
      );
    }
  });

  it.each([
    ['alice smith@example.com', '" " (U+0020)'],
    ["o'brien@example.com", '"\'" (U+0027)'],
    ['zoé@example.com', '"é" (U+00E9)'],
    ['a\u001b[2K@example.com', '"\\u001b" (U+001B)'],
  ])('names the character it refuses in %j and says what is allowed (issue #16)', (text, character) => {
    let message = '';
    try {
      parseAccountAddress(text);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`${character} is not allowed`);
    expect(message).toContain('a–z 0–9 . _ + -');
    expect(message).not.toContain('printable ASCII');
  });
});
