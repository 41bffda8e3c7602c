import { accountUdf, nodeEd25519 } from '@cryptomesh/crypto';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, makeNoteSigner, toBase64 } from '@cryptomesh/log';
import { sha256 } from '@noble/hashes/sha2';
import {
  INBOUND_POW_MAX_CHARS,
  INBOUND_SIGNATURE_CONTEXT,
  decodeInboundMessage,
  encodeInboundMessage,
  inboundStatement,
  signInbound,
  verifyInboundMessage,
  type InboundMessage,
} from './inbound-message';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';

const seed = (n: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + n) & 255);
const alpha = makeNoteSigner('alpha.example/witness', KEY_TYPE_COSIGNATURE_V1, seed(1), nodeEd25519);
const gamma = makeNoteSigner('gamma.example/witness', KEY_TYPE_COSIGNATURE_V1, seed(2), nodeEd25519);
const alphaLog = makeNoteSigner('alpha.example/log', KEY_TYPE_ED25519, seed(1), nodeEd25519);
const utf8 = new TextEncoder();
const bob = accountUdf('bob@beta.example');
const carol = accountUdf('carol@beta.example');
/** The envelope bytes are opaque to the codec: any non-empty bytes (the intake reads the JWS). */
const envelope = utf8.encode('{"protected":"eyJ0eXAiOiJ4In0","payload":"e30","signature":"c2ln"}');

function codeOf(fn: () => unknown): IntermeshErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntermeshError) return error.code;
    throw error;
  }
  return undefined;
}

const check = { topicPortal: 'alpha', witnessKey: alpha.verifierKey, maxEnvelopeBytes: 65_536 };

describe('inbound messages (issue #20)', () => {
  const signed: InboundMessage = signInbound('alpha', bob, envelope, '9f3a01bc2de4f5a612', alpha);
  const withoutPow: InboundMessage = signInbound('alpha', bob, envelope, null, alpha);

  it('round-trips through its record and verifies with the origin witness key', () => {
    for (const message of [signed, withoutPow]) {
      const record = encodeInboundMessage(message);
      expect(record).toMatchObject({ key: 'alpha', type: 'inbound' });
      const decoded = decodeInboundMessage(record);
      expect(decoded).toEqual(message);
      expect(() => verifyInboundMessage(decoded, check, nodeEd25519)).not.toThrow();
    }
    const body = JSON.parse(new TextDecoder().decode(encodeInboundMessage(withoutPow).value)) as object;
    expect(Object.keys(body)).toEqual(['v', 'type', 'portal', 'to', 'envelope', 'pow', 'signature']);
    expect(body).toMatchObject({ v: 1, type: 'inbound', portal: 'alpha', to: bob, pow: null });
  });

  it('signs a domain-separated statement naming the origin, the recipient, the digest and the nonce', () => {
    const text = new TextDecoder().decode(inboundStatement('alpha', bob, envelope, 'abc'));
    expect(text.startsWith(INBOUND_SIGNATURE_CONTEXT)).toBe(true);
    expect(text).toBe(`cryptomesh inbound v1\nalpha\n${bob}\n${toBase64(sha256(envelope))}\nabc\n`);
    expect(new TextDecoder().decode(inboundStatement('alpha', bob, envelope, null))).toBe(
      `cryptomesh inbound v1\nalpha\n${bob}\n${toBase64(sha256(envelope))}\n\n`,
    );
  });

  it('refuses to sign with a log key, or what it could not decode', () => {
    expect(codeOf(() => signInbound('alpha', bob, envelope, null, alphaLog))).toBe('finding.key');
    expect(codeOf(() => signInbound('Alpha', bob, envelope, null, alpha))).toBe('message.portal');
    expect(codeOf(() => signInbound('alpha', 'bob@beta.example', envelope, null, alpha))).toBe('inbound.to');
    expect(codeOf(() => signInbound('alpha', bob, new Uint8Array(0), null, alpha))).toBe('inbound.envelope');
    expect(codeOf(() => signInbound('alpha', bob, envelope, 'a\nb', alpha))).toBe('inbound.pow');
  });

  describe('tampering', () => {
    const verify = (message: InboundMessage) =>
      codeOf(() => verifyInboundMessage(message, check, nodeEd25519));

    it('refuses an envelope whose bytes changed after signing', () => {
      const flipped = envelope.slice();
      flipped[flipped.length - 4]! ^= 1;
      expect(verify({ ...signed, envelope: flipped })).toBe('inbound.witness-signature');
    });

    it('refuses another recipient, another nonce, a dropped nonce', () => {
      expect(verify({ ...signed, to: carol })).toBe('inbound.witness-signature');
      expect(verify({ ...signed, pow: '9f3a01bc2de4f5a613' })).toBe('inbound.witness-signature');
      expect(verify({ ...signed, pow: null })).toBe('inbound.witness-signature');
      expect(verify({ ...withoutPow, pow: '1' })).toBe('inbound.witness-signature');
    });

    it("refuses a signature that is not the origin's (another member's witness key)", () => {
      expect(verify(signInbound('alpha', bob, envelope, null, gamma))).toBe('inbound.witness-signature');
    });

    it('refuses a witness key of another type, even with the right bytes', () => {
      const asLogKey = { ...alpha.verifierKey, type: KEY_TYPE_ED25519 } as typeof alpha.verifierKey;
      expect(
        codeOf(() => verifyInboundMessage(signed, { ...check, witnessKey: asLogKey }, nodeEd25519)),
      ).toBe('inbound.witness-signature');
    });

    it("refuses a message naming another origin than the topic's portal", () => {
      expect(verify(signInbound('gamma', bob, envelope, null, gamma))).toBe('inbound.portal');
    });
  });

  it('refuses an envelope above the cap, after the signature', () => {
    const tight = (max: number) =>
      codeOf(() => verifyInboundMessage(signed, { ...check, maxEnvelopeBytes: max }, nodeEd25519));
    expect(tight(envelope.length - 1)).toBe('inbound.too-large');
    expect(tight(envelope.length)).toBeUndefined();
    const unsigned = { ...signed, signature: new Uint8Array(64) };
    expect(
      codeOf(() =>
        verifyInboundMessage(unsigned, { ...check, maxEnvelopeBytes: envelope.length - 1 }, nodeEd25519),
      ),
    ).toBe('inbound.witness-signature');
  });

  it('decodes the form strictly', () => {
    const body = JSON.parse(new TextDecoder().decode(encodeInboundMessage(signed).value)) as Record<
      string,
      unknown
    >;
    const decode = (change: Record<string, unknown>, kafkaKey: string | undefined = 'alpha') =>
      codeOf(() =>
        decodeInboundMessage({ key: kafkaKey, value: utf8.encode(JSON.stringify({ ...body, ...change })) }),
      );
    expect(decode({})).toBeUndefined();
    expect(decode({}, undefined)).toBeUndefined();
    expect(decode({}, 'gamma')).toBe('message.key');
    expect(decode({ extra: 1 })).toBe('message.unknown-field');
    expect(decode({ pow: undefined })).toBe('message.field');
    expect(decode({ v: 2 })).toBe('message.version');
    expect(decode({ v: '1' })).toBe('message.version');
    expect(decode({ type: 'escrow' })).toBe('message.type');
    expect(decode({ portal: 'Not A Portal' })).toBe('message.portal');
    expect(decode({ to: 'not-a-udf' })).toBe('inbound.to');
    expect(decode({ to: bob.toLowerCase() })).toBe('inbound.to');
    expect(decode({ to: 7 })).toBe('inbound.to');
    expect(decode({ envelope: '' })).toBe('inbound.envelope');
    expect(decode({ envelope: 'a-b_' })).toBe('inbound.envelope');
    expect(decode({ envelope: `${String(body.envelope)}\n` })).toBe('inbound.envelope');
    expect(decode({ pow: '' })).toBe('inbound.pow');
    expect(decode({ pow: 'a b' })).toBe('inbound.pow');
    expect(decode({ pow: 5 })).toBe('inbound.pow');
    expect(decode({ pow: 'x'.repeat(INBOUND_POW_MAX_CHARS + 1) })).toBe('inbound.pow');
    expect(decode({ pow: 'x'.repeat(INBOUND_POW_MAX_CHARS) })).toBeUndefined();
    expect(decode({ signature: toBase64(new Uint8Array(63)) })).toBe('message.signature');
    expect(decode({ signature: null })).toBe('message.signature');
    expect(codeOf(() => decodeInboundMessage({ value: utf8.encode('[1]') }))).toBe('message.not-object');
    expect(codeOf(() => decodeInboundMessage({ value: Uint8Array.of(0xff) }))).toBe('message.not-json');
  });
});
