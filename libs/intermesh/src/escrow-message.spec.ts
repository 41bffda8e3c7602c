import { encryptJwe, keyUdf, nodeEd25519, publicKeyOf } from '@cryptomesh/crypto';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, makeNoteSigner, toBase64 } from '@cryptomesh/log';
import {
  ESCROW_SIGNATURE_CONTEXT,
  checkEscrowBlob,
  decodeEscrowMessage,
  encodeEscrowMessage,
  escrowStatement,
  signEscrow,
  verifyEscrowMessage,
  type EscrowMessage,
} from './escrow-message';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';

const seed = (n: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + n) & 255);
const alpha = makeNoteSigner('alpha.example/witness', KEY_TYPE_COSIGNATURE_V1, seed(1), nodeEd25519);
const gamma = makeNoteSigner('gamma.example/witness', KEY_TYPE_COSIGNATURE_V1, seed(2), nodeEd25519);
const alphaLog = makeNoteSigner('alpha.example/log', KEY_TYPE_ED25519, seed(1), nodeEd25519);
const utf8 = new TextEncoder();

/** A blob as the SDK seals one: a JWE to the X25519 key whose private scalar is `secret`. */
async function escrowBlob(secret: Uint8Array, extra: Uint8Array[] = []) {
  const pair = { algorithm: 'X25519' as const, privateKey: secret, publicKey: publicKeyOf('X25519', secret) };
  const others = extra.map((s) => ({ algorithm: 'X25519' as const, publicKey: publicKeyOf('X25519', s) }));
  const jwe = await encryptJwe(utf8.encode('{"Version":1}'), [pair, ...others], {
    contentType: 'application/json',
  });
  return { key: keyUdf('X25519', pair.publicKey), blob: utf8.encode(JSON.stringify(jwe)) };
}

function codeOf(fn: () => unknown): IntermeshErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntermeshError) return error.code;
    throw error;
  }
  return undefined;
}

const check = { topicPortal: 'alpha', witnessKey: alpha.verifierKey, maxBlobBytes: 32 * 1024 };

describe('escrow messages (issue #19 item 2)', () => {
  let key: string;
  let blob: Uint8Array;
  let signed: EscrowMessage;

  beforeAll(async () => {
    ({ key, blob } = await escrowBlob(seed(9)));
    signed = signEscrow('alpha', key, blob, alpha);
  });

  it('round-trips through its record and verifies with the origin witness key', () => {
    const record = encodeEscrowMessage(signed);
    expect(record).toMatchObject({ key: 'alpha', type: 'escrow' });
    const decoded = decodeEscrowMessage(record);
    expect(decoded).toEqual(signed);
    expect(verifyEscrowMessage(decoded, check, nodeEd25519)).toHaveLength(32);
  });

  it('signs a domain-separated statement, never a note or cosignature form', () => {
    const text = new TextDecoder().decode(escrowStatement('alpha', key, blob));
    expect(text.startsWith(ESCROW_SIGNATURE_CONTEXT)).toBe(true);
    expect(text.split('\n')).toEqual(['cryptomesh escrow v1', 'alpha', key, expect.any(String), '']);
  });

  it('refuses to sign with a log key, or a blob that is not a JWE to its key', async () => {
    expect(codeOf(() => signEscrow('alpha', key, blob, alphaLog))).toBe('finding.key');
    expect(codeOf(() => signEscrow('alpha', key, utf8.encode('{}'), alpha))).toBe('escrow.blob');
    const other = await escrowBlob(seed(10));
    expect(codeOf(() => signEscrow('alpha', other.key, blob, alpha))).toBe('escrow.kid');
  });

  it('refuses a blob whose bytes changed after signing (flipped ciphertext)', () => {
    const flipped = blob.slice();
    flipped[flipped.length - 10]! ^= 1;
    expect(codeOf(() => verifyEscrowMessage({ ...signed, blob: flipped }, check, nodeEd25519))).toBe(
      'escrow.signature',
    );
  });

  it("refuses a signature that is not the origin's (another member's witness key)", () => {
    const byGamma = signEscrow('alpha', key, blob, gamma);
    expect(codeOf(() => verifyEscrowMessage(byGamma, check, nodeEd25519))).toBe('escrow.signature');
  });

  it("refuses a message naming another origin than the topic's portal", () => {
    const gammas = signEscrow('gamma', key, blob, gamma);
    expect(codeOf(() => verifyEscrowMessage(gammas, check, nodeEd25519))).toBe('escrow.portal');
  });

  it('refuses, even signed by the origin, a JWE whose kid is not its Key', async () => {
    const other = await escrowBlob(seed(11));
    // Signed by the right key over the wrong pairing: the origin itself cannot vouch for it.
    const message = { ...signed, key: other.key };
    const forged = { ...message, signature: alpha.sign(escrowStatement('alpha', other.key, blob)) };
    expect(codeOf(() => verifyEscrowMessage(forged, check, nodeEd25519))).toBe('escrow.kid');
    const two = await escrowBlob(seed(12), [seed(13)]);
    const twoSigned = { portal: 'alpha', key: two.key, blob: two.blob };
    expect(codeOf(() => checkEscrowBlob(two.key, two.blob))).toBe('escrow.kid');
    const withTwo = { ...twoSigned, signature: alpha.sign(escrowStatement('alpha', two.key, two.blob)) };
    expect(codeOf(() => verifyEscrowMessage(withTwo, check, nodeEd25519))).toBe('escrow.kid');
  });

  it('refuses a blob above the cap before anything else', () => {
    expect(
      codeOf(() => verifyEscrowMessage(signed, { ...check, maxBlobBytes: blob.length - 1 }, nodeEd25519)),
    ).toBe('escrow.too-large');
    expect(verifyEscrowMessage(signed, { ...check, maxBlobBytes: blob.length }, nodeEd25519)).toHaveLength(
      32,
    );
  });

  it('decodes the form strictly', () => {
    const body = JSON.parse(new TextDecoder().decode(encodeEscrowMessage(signed).value)) as Record<
      string,
      unknown
    >;
    const decode = (change: Record<string, unknown>, kafkaKey: string | undefined = 'alpha') =>
      codeOf(() =>
        decodeEscrowMessage({ key: kafkaKey, value: utf8.encode(JSON.stringify({ ...body, ...change })) }),
      );
    expect(decode({})).toBeUndefined();
    expect(decode({}, 'gamma')).toBe('message.key');
    expect(decode({ extra: 1 })).toBe('message.unknown-field');
    expect(decode({ v: 2 })).toBe('message.version');
    expect(decode({ type: 'seal' })).toBe('message.type');
    expect(decode({ portal: 'Not A Portal' })).toBe('message.portal');
    expect(decode({ key: 'not-a-udf' })).toBe('escrow.key');
    expect(decode({ key: key.toLowerCase() })).toBe('escrow.key');
    expect(decode({ blob: '' })).toBe('escrow.blob');
    expect(decode({ blob: 'a-b_' })).toBe('escrow.blob');
    expect(decode({ signature: toBase64(new Uint8Array(63)) })).toBe('message.signature');
    expect(codeOf(() => decodeEscrowMessage({ value: utf8.encode('[1]') }))).toBe('message.not-object');
  });
});
