import {
  accountUdf,
  decryptJwe,
  encryptJwe,
  isCryptoError,
  normaliseAccountAddress,
  toBase64Url,
  type JweDecryptionKey,
  type JweRecipient,
} from '@cryptomesh/crypto/portable';
import { decodeJsonObject, JsonReader, canonicalJson, type JsonObject } from './json';
import { MeshError } from './mesh-error';
import type { InboundEnvelope, InboundKind } from './inbound-envelope';

/**
 * The encrypted Body of an inbound envelope (docs/design/inbound.md "Inbound envelopes"). Its
 * plaintext binds the envelope it travels in — Id, Kind and both account UDFs — and carries the two
 * addresses, which the envelope itself leaves out:
 *
 *   {"Envelope": {"Id", "Kind", "FromAccount", "ToAccount"}, "From": <address>, "To": <address>, "Content": {…}}
 *
 * The signature covers only ciphertext; without this binding anyone holding an account could re-sign a
 * Body read off a topic as their own, or under another Kind, and the recipient would read someone
 * else's words as the re-signer's. `openInboundBody` refuses a Body not made for the envelope around it.
 */
export interface InboundBinding {
  readonly id: string;
  readonly kind: InboundKind;
  /** The sender's and the recipient's addresses (their account UDFs are derived). */
  readonly from: string;
  readonly to: string;
}

export interface OpenedBody {
  readonly from: string;
  readonly to: string;
  readonly content: JsonObject;
}

/** Encrypts `content` to `recipients` (the recipient's devices) bound to the envelope it will travel in. */
export async function sealInboundBody(
  binding: InboundBinding,
  content: JsonObject,
  recipients: readonly JweRecipient[],
): Promise<JsonObject> {
  const from = normaliseAccountAddress(binding.from);
  const to = normaliseAccountAddress(binding.to);
  const plaintext = {
    Envelope: {
      Id: binding.id,
      Kind: binding.kind,
      FromAccount: accountUdf(from),
      ToAccount: accountUdf(to),
    },
    From: from,
    To: to,
    Content: content,
  };
  const jwe = await encryptJwe(canonicalJson(plaintext), recipients, { contentType: 'application/json' });
  return jwe as unknown as JsonObject;
}

/**
 * Decrypts an envelope's Body with a device key of the recipient and checks it was made for this
 * envelope: 'inbound.invalid' when it does not decrypt, is not of the form above, or binds another
 * Id, Kind or account (a re-signed Body), or its addresses are not the envelope's accounts'.
 */
export async function openInboundBody(envelope: InboundEnvelope, key: JweDecryptionKey): Promise<OpenedBody> {
  let bytes: Uint8Array;
  try {
    bytes = await decryptJwe(envelope.body, key);
  } catch (cause) {
    if (!isCryptoError(cause)) throw cause;
    throw new MeshError('inbound.invalid', 'the envelope body does not decrypt with this device key', {
      cause,
    });
  }
  const r = JsonReader.object(
    decodeJsonObject(toBase64Url(bytes), 'the envelope body', 'inbound.invalid'),
    'the envelope body',
    'inbound.invalid',
  ).members(['Envelope', 'From', 'To', 'Content']);
  const bound = r.object('Envelope').members(['Id', 'Kind', 'FromAccount', 'ToAccount']);
  if (
    bound.string('Id') !== envelope.id ||
    bound.string('Kind') !== envelope.kind ||
    bound.string('FromAccount') !== envelope.fromAccount ||
    bound.string('ToAccount') !== envelope.toAccount
  )
    r.fail('the body was made for another envelope (re-signed, or another kind)');
  const from = r.string('From');
  const to = r.string('To');
  if (accountUdf(from) !== envelope.fromAccount || accountUdf(to) !== envelope.toAccount)
    r.fail("the body's addresses are not the envelope's accounts");
  return { from, to, content: r.object('Content').value as JsonObject };
}
