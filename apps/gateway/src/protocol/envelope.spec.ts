import { errorEnvelope, parseEnvelope, successEnvelope } from './envelope';
import { GatewayError } from './gateway-error';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function codeOf(raw: string): string {
  try {
    parseEnvelope(bytes(raw));
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('Mesh envelope', () => {
  it('reads the transaction name and body', () => {
    expect(parseEnvelope(bytes('{"HelloRequest": {}}'))).toEqual({ name: 'Hello', body: {} });
    expect(parseEnvelope(bytes('{"CreateAccountRequest": {"Account": "a@b"}}'))).toEqual({
      name: 'CreateAccount',
      body: { Account: 'a@b' },
    });
  });

  it.each([
    ['', 'not JSON'],
    ['{', 'truncated'],
    ['[]', 'array'],
    ['"HelloRequest"', 'string'],
    ['null', 'null'],
    ['{}', 'no member'],
    ['{"HelloRequest": {}, "StatusRequest": {}}', 'two members'],
    ['{"Hello": {}}', 'no Request suffix'],
    ['{"HelloRequest": []}', 'body array'],
    ['{"HelloRequest": "x"}', 'body string'],
    ['{"helloRequest": {}}', 'lower-case name'],
    ['{"Request": {}}', 'empty name'],
  ])('refuses %j (%s) as request.malformed', (raw) => {
    expect(codeOf(raw)).toBe('request.malformed');
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(() => parseEnvelope(Uint8Array.from([0x7b, 0xff, 0x7d]))).toThrow(GatewayError);
  });

  it('formats answers', () => {
    expect(successEnvelope('Hello', { PortalId: 'alpha' })).toEqual({
      HelloResponse: { Status: 200, StatusDescription: 'OK', PortalId: 'alpha' },
    });
    expect(errorEnvelope(undefined, new GatewayError('request.too-large', 'too big'))).toEqual({
      ErrorResponse: { Status: 413, StatusDescription: 'too big', Error: 'request.too-large' },
    });
  });
});
