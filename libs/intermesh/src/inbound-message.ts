import { parseUdf } from '@cryptomesh/crypto/portable';
import {
  KEY_TYPE_COSIGNATURE_V1,
  fromBase64,
  toBase64,
  type Ed25519,
  type NoteSigner,
  type VerifierKey,
} from '@cryptomesh/log';
import { sha256 } from '@noble/hashes/sha2';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import { decodeMessageObject } from './log-message';
import { isValidPortalId } from './topics';

/**
 * The `inbound` message of a portal's own log topic `intermesh.log.<id>` (issue #20;
 * docs/design/inbound.md "Across the federation: the relay", docs/design/replication.md "Inbound
 * items"): one inbound envelope — a contact request, a message, a task, a confirmation request or its
 * answer, signed by the sender's device and encrypted to the recipient's — relayed from the sender's
 * home portal (its origin) to the recipient's. Kafka key = the origin portal id, header `type` =
 * `inbound`, value = UTF-8 JSON `{v: 1, type: "inbound", portal, to, envelope, pow, signature}` with
 * `envelope` (the envelope's UTF-8 JSON) and `signature` in base64, `pow` the proof-of-work nonce of a
 * contact request or null.
 *
 * The origin's replication service signs it with its witness key (type 0x04, pinned by every member)
 * over `inboundStatement`, a domain-separated text that no note, cosignature, finding or escrow
 * statement can be. The signature says only "this origin relayed these bytes to `to`": the envelope
 * carries its own signature by the sender's device, which the recipient's portal verifies against
 * the sender's profile in its verified mirror of the origin's log. Published only BETWEEN parts, as
 * escrow messages are (docs/design/replication.md "Escrow blobs").
 *
 * Pure: no Buffer, no Kafka client (STYLE.md §1).
 */
export const INBOUND_MESSAGE_VERSION = 1;
export const INBOUND_MESSAGE_TYPE = 'inbound';
/** The first line of what an inbound signature signs. */
export const INBOUND_SIGNATURE_CONTEXT = 'cryptomesh inbound v1\n';
/**
 * The longest proof-of-work nonce relayed, and its alphabet (printable ASCII, no space): the nonce is
 * a line of the signed statement. `solveProofOfWork` makes 17–24 hex characters.
 */
export const INBOUND_POW_MAX_CHARS = 128;
const POW_PATTERN = /^[\x21-\x7e]+$/;
/** The longest account UDF accepted (an account UDF is far shorter; this bounds what is parsed). */
const UDF_MAX_CHARS = 200;
const ED25519_SIGNATURE_SIZE = 64;
const FIELDS = ['v', 'type', 'portal', 'to', 'envelope', 'pow', 'signature'];

/** An inbound envelope as its origin portal relayed it. */
export interface InboundMessage {
  /** The origin: the sender's home portal, which accepted the post (InboundPost) and signed this. */
  readonly portal: string;
  /** The recipient's account UDF, canonical: who the envelope is for. */
  readonly to: string;
  /** The envelope's bytes as InboundPost received them (the UTF-8 JSON of a flattened JWS). */
  readonly envelope: Uint8Array;
  /** The proof-of-work nonce of a contact request, or null. */
  readonly pow: string | null;
  /** Ed25519 signature of the origin's witness key over `inboundStatement`. */
  readonly signature: Uint8Array;
}

/** One Kafka record of the log topic carrying an inbound message. */
export interface InboundRecord {
  /** The Kafka key: the origin portal id. */
  readonly key: string;
  readonly type: typeof INBOUND_MESSAGE_TYPE;
  readonly value: Uint8Array;
}

const utf8 = new TextEncoder();

function fail(code: IntermeshErrorCode, message: string, evidence: Record<string, unknown> = {}): never {
  throw new IntermeshError(code, message, evidence);
}

/**
 * `cryptomesh inbound v1\n<portal>\n<to>\n<base64 SHA-256(envelope)>\n<pow or empty>\n`: the bytes an
 * inbound signature signs. Every line is free of line breaks (a portal id, a UDF, base64, a nonce of
 * printable characters), so no two messages share a statement.
 */
export function inboundStatement(
  portal: string,
  to: string,
  envelope: Uint8Array,
  pow: string | null,
): Uint8Array {
  return utf8.encode(
    `${INBOUND_SIGNATURE_CONTEXT}${portal}\n${to}\n${toBase64(sha256(envelope))}\n${pow ?? ''}\n`,
  );
}

/** The recipient's account UDF in its canonical presentation; `inbound.to` unless it is one. */
function canonicalTo(text: unknown): string {
  if (typeof text !== 'string' || text.length > UDF_MAX_CHARS)
    fail('inbound.to', 'to must be an account UDF', {
      seen: typeof text === 'string' ? text.slice(0, 120) : text,
    });
  let canonical: string;
  try {
    canonical = parseUdf(text).text;
  } catch {
    return fail('inbound.to', 'to is not a UDF', { seen: text });
  }
  if (canonical !== text) fail('inbound.to', 'to is not in canonical presentation', { seen: text });
  return text;
}

/** The nonce, or null; `inbound.pow` for anything else. */
function checkedPow(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > INBOUND_POW_MAX_CHARS || !POW_PATTERN.test(value))
    fail(
      'inbound.pow',
      `pow must be null or 1–${INBOUND_POW_MAX_CHARS} printable ASCII characters without space`,
      { seen: typeof value === 'string' ? value.slice(0, 140) : value },
    );
  return value;
}

/**
 * Signs an inbound envelope as its origin `portal`. MUST throw `finding.key` unless the signer is a
 * type 0x04 (witness) key, and what `decodeInboundMessage` would refuse, before signing. The envelope
 * itself is not read here: the origin checked it when it accepted the post, and every recipient
 * checks it again.
 */
export function signInbound(
  portal: string,
  to: string,
  envelope: Uint8Array,
  pow: string | null,
  signer: NoteSigner,
): InboundMessage {
  const verifier = signer.verifierKey;
  if (verifier.type !== KEY_TYPE_COSIGNATURE_V1)
    fail('finding.key', `inbound messages are signed with a witness (type 0x04) key, not ${verifier.name}'s`);
  if (!isValidPortalId(portal)) fail('message.portal', `invalid portal id ${JSON.stringify(portal)}`);
  canonicalTo(to);
  checkedPow(pow);
  if (envelope.length === 0) fail('inbound.envelope', 'envelope is empty');
  return { portal, to, envelope, pow, signature: signer.sign(inboundStatement(portal, to, envelope, pow)) };
}

/** Encodes one inbound message (what it encodes always decodes to the same message). */
export function encodeInboundMessage(message: InboundMessage): InboundRecord {
  const { portal, to, envelope, pow, signature } = message;
  const body = {
    v: INBOUND_MESSAGE_VERSION,
    type: INBOUND_MESSAGE_TYPE,
    portal,
    to,
    envelope: toBase64(envelope),
    pow,
    signature: toBase64(signature),
  };
  const record: InboundRecord = {
    key: portal,
    type: INBOUND_MESSAGE_TYPE,
    value: utf8.encode(JSON.stringify(body)),
  };
  decodeInboundMessage(record);
  return record;
}

function bytes(value: unknown, field: string, code: IntermeshErrorCode): Uint8Array {
  try {
    if (typeof value !== 'string') throw new Error('not a string');
    return fromBase64(value, field);
  } catch (error) {
    throw new IntermeshError(code, `${field} must be canonical base64`, { field }, { cause: error });
  }
}

/**
 * Decodes one inbound message: form only (`verifyInboundMessage` checks it). MUST throw a `message.*`
 * code for a value that is not exactly the JSON above (at most LOG_MESSAGE_MAX_BYTES), a Kafka key
 * that is not the origin, or a signature that is not 64 bytes of canonical base64; `inbound.to` for a
 * `to` that is not a canonical UDF, `inbound.envelope` for an envelope that is empty or not canonical
 * base64, `inbound.pow` for a nonce outside its alphabet and length.
 */
export function decodeInboundMessage(record: {
  readonly key?: string;
  readonly value: Uint8Array;
}): InboundMessage {
  const m = decodeMessageObject(record.value);
  for (const name of Object.keys(m))
    if (!FIELDS.includes(name)) fail('message.unknown-field', `unknown field ${JSON.stringify(name)}`);
  for (const name of FIELDS)
    if (!(name in m)) fail('message.field', `field ${JSON.stringify(name)} is missing`);
  if (m.v !== INBOUND_MESSAGE_VERSION)
    fail('message.version', `v must be ${INBOUND_MESSAGE_VERSION}`, { seen: m.v });
  if (m.type !== INBOUND_MESSAGE_TYPE)
    fail('message.type', `type must be ${INBOUND_MESSAGE_TYPE}`, { seen: m.type });
  if (typeof m.portal !== 'string' || !isValidPortalId(m.portal))
    fail('message.portal', 'portal is not a valid portal id', { seen: m.portal });
  if (record.key !== undefined && record.key !== m.portal)
    fail('message.key', `the Kafka key ${JSON.stringify(record.key)} is not the origin ${m.portal}`);
  const to = canonicalTo(m.to);
  const envelope = bytes(m.envelope, 'envelope', 'inbound.envelope');
  if (envelope.length === 0) fail('inbound.envelope', 'envelope is empty');
  const pow = checkedPow(m.pow);
  const signature = bytes(m.signature, 'signature', 'message.signature');
  if (signature.length !== ED25519_SIGNATURE_SIZE)
    fail('message.signature', `signature must be ${ED25519_SIGNATURE_SIZE} bytes`, {
      seen: signature.length,
    });
  return { portal: m.portal, to, envelope, pow, signature };
}

/** What the receiver checks an inbound message against: its own configuration, never the message. */
export interface InboundCheck {
  /** The portal whose log topic carried the message: the only origin it may name. */
  readonly topicPortal: string;
  /** That portal's witness key, from the receiver's federation configuration. */
  readonly witnessKey: VerifierKey;
  /** The largest envelope the receiver takes (INBOUND_MAX_ENVELOPE_BYTES). */
  readonly maxEnvelopeBytes: number;
}

/**
 * Verifies a decoded inbound message, in order: MUST throw `inbound.portal` when it names another
 * origin than the topic's portal, `inbound.witness-signature` when the origin's witness key (type
 * 0x04) does not verify `inboundStatement`, and `inbound.too-large` for an envelope above
 * `maxEnvelopeBytes`. What it does not check is the envelope: the caller reads and verifies it.
 */
export function verifyInboundMessage(message: InboundMessage, check: InboundCheck, ed25519: Ed25519): void {
  const evidence = { portal: message.portal, to: message.to };
  if (message.portal !== check.topicPortal)
    fail(
      'inbound.portal',
      `an inbound message of ${message.portal} on ${check.topicPortal}'s topic`,
      evidence,
    );
  const statement = inboundStatement(message.portal, message.to, message.envelope, message.pow);
  if (
    check.witnessKey.type !== KEY_TYPE_COSIGNATURE_V1 ||
    !ed25519.verify(check.witnessKey.publicKey, statement, message.signature)
  )
    fail(
      'inbound.witness-signature',
      `the inbound message for ${message.to} is not signed by ${message.portal}'s witness key`,
      evidence,
    );
  if (message.envelope.length > check.maxEnvelopeBytes)
    fail(
      'inbound.too-large',
      `the envelope is ${message.envelope.length} bytes, above INBOUND_MAX_ENVELOPE_BYTES ${check.maxEnvelopeBytes}`,
      { ...evidence, bytes: message.envelope.length },
    );
}
