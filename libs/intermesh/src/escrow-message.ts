import { jweRecipientIds, parseUdf } from '@cryptomesh/crypto/portable';
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
 * The `escrow` message of a portal's own log topic `intermesh.log.<id>` (issue #19 item 2;
 * docs/design/replication.md "Escrow blobs"): one escrow blob — still only its key UDF and its
 * opaque ciphertext (000 §6.5.1) — replicated from the portal that received it (its origin) to every
 * member of the federation. Kafka key = the origin portal id, header `type` = `escrow`, value = UTF-8
 * JSON `{v: 1, type: "escrow", portal, key, blob, signature}` with `blob` and `signature` in base64.
 *
 * The origin's replication service signs it with its witness key (type 0x04, pinned by every member)
 * over `escrowStatement`, a domain-separated text that no note, cosignature or finding can be. A
 * peer cannot check the ciphertext (only the share holder can: AES-GCM), so what it verifies is the
 * form — the blob is a JWE whose single recipient `kid` is `key` — the size, and who sent it.
 * Published only BETWEEN parts: the part assembler of an older member treats an unknown type inside
 * a part as a transport error.
 *
 * Pure: no Buffer, no Kafka client (STYLE.md §1).
 */
export const ESCROW_MESSAGE_VERSION = 1;
export const ESCROW_MESSAGE_TYPE = 'escrow';
/** The first line of what an escrow signature signs. */
export const ESCROW_SIGNATURE_CONTEXT = 'cryptomesh escrow v1\n';
/** The longest key UDF accepted (a key UDF is far shorter; this bounds what is parsed). */
const KEY_MAX_CHARS = 200;
const ED25519_SIGNATURE_SIZE = 64;
const FIELDS = ['v', 'type', 'portal', 'key', 'blob', 'signature'];

/** An escrow blob as its origin portal published it. */
export interface EscrowMessage {
  /** The origin: the portal that received the blob (EscrowPut) and signed this message. */
  readonly portal: string;
  /** The UDF of the escrow key, canonical: what EscrowGet is asked for. */
  readonly key: string;
  /** The blob's bytes as EscrowPut stored them (the UTF-8 JSON of a JWE). */
  readonly blob: Uint8Array;
  /** Ed25519 signature of the origin's witness key over `escrowStatement`. */
  readonly signature: Uint8Array;
}

/** One Kafka record of the log topic carrying an escrow message. */
export interface EscrowRecord {
  /** The Kafka key: the origin portal id. */
  readonly key: string;
  readonly type: typeof ESCROW_MESSAGE_TYPE;
  readonly value: Uint8Array;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: IntermeshErrorCode, message: string, evidence: Record<string, unknown> = {}): never {
  throw new IntermeshError(code, message, evidence);
}

/** SHA-256 of a blob: what the statement names and what a conflict compares. */
export function escrowDigest(blob: Uint8Array): Uint8Array {
  return sha256(blob);
}

/** `cryptomesh escrow v1\n<portal>\n<key>\n<base64 SHA-256(blob)>\n`: the bytes an escrow signature signs. */
export function escrowStatement(portal: string, key: string, blob: Uint8Array): Uint8Array {
  return escrowDigestStatement(portal, key, escrowDigest(blob));
}

/** `escrowStatement` of a blob known by its SHA-256 only (the evidence of a conflict). */
export function escrowDigestStatement(portal: string, key: string, digest: Uint8Array): Uint8Array {
  return utf8.encode(`${ESCROW_SIGNATURE_CONTEXT}${portal}\n${key}\n${toBase64(digest)}\n`);
}

/**
 * The key UDF in its canonical presentation; `escrow.key` unless `text` is a canonical UDF (the
 * gateway stores canonical ones, so another spelling is not one of them).
 */
function canonicalKey(text: unknown): string {
  if (typeof text !== 'string' || text.length > KEY_MAX_CHARS)
    fail('escrow.key', 'key must be a UDF', { seen: typeof text === 'string' ? text.slice(0, 120) : text });
  let canonical: string;
  try {
    canonical = parseUdf(text).text;
  } catch {
    return fail('escrow.key', 'key is not a UDF', { seen: text });
  }
  if (canonical !== text) fail('escrow.key', 'key is not in canonical presentation', { seen: text });
  return text;
}

/**
 * What a peer can check of a blob: it is the UTF-8 JSON of a JWE (docs/crypto.md "JWE profile")
 * with exactly one recipient, whose `kid` is `key`. MUST throw `escrow.blob` for anything that is
 * not such a JWE and `escrow.kid` for another recipient.
 */
export function checkEscrowBlob(key: string, blob: Uint8Array): void {
  let kids: string[];
  try {
    kids = jweRecipientIds(JSON.parse(strictUtf8.decode(blob)));
  } catch (error) {
    return fail('escrow.blob', `the blob is not a JWE: ${error instanceof Error ? error.message : ''}`, {
      key,
    });
  }
  if (kids.length !== 1 || kids[0] !== key)
    fail('escrow.kid', `the blob's recipients are ${JSON.stringify(kids)}, not only its key ${key}`, {
      key,
      kids,
    });
}

/**
 * Signs an escrow blob as its origin `portal`. MUST throw `finding.key` unless the signer is a type
 * 0x04 (witness) key, and what `decodeEscrowMessage`/`checkEscrowBlob` would refuse, before signing.
 */
export function signEscrow(portal: string, key: string, blob: Uint8Array, signer: NoteSigner): EscrowMessage {
  const verifier = signer.verifierKey;
  if (verifier.type !== KEY_TYPE_COSIGNATURE_V1)
    fail('finding.key', `escrow messages are signed with a witness (type 0x04) key, not ${verifier.name}'s`);
  if (!isValidPortalId(portal)) fail('message.portal', `invalid portal id ${JSON.stringify(portal)}`);
  canonicalKey(key);
  checkEscrowBlob(key, blob);
  return { portal, key, blob, signature: signer.sign(escrowStatement(portal, key, blob)) };
}

/** Encodes one escrow message (what it encodes always decodes to the same message). */
export function encodeEscrowMessage(message: EscrowMessage): EscrowRecord {
  const { portal, key, blob, signature } = message;
  const body = {
    v: ESCROW_MESSAGE_VERSION,
    type: ESCROW_MESSAGE_TYPE,
    portal,
    key,
    blob: toBase64(blob),
    signature: toBase64(signature),
  };
  const record: EscrowRecord = {
    key: portal,
    type: ESCROW_MESSAGE_TYPE,
    value: utf8.encode(JSON.stringify(body)),
  };
  decodeEscrowMessage(record);
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
 * Decodes one escrow message: form only (`verifyEscrowMessage` checks it). MUST throw a `message.*`
 * code for a value that is not exactly the JSON above (at most LOG_MESSAGE_MAX_BYTES), a Kafka key
 * that is not the origin, and `escrow.key` for a key that is not a canonical UDF.
 */
export function decodeEscrowMessage(record: {
  readonly key?: string;
  readonly value: Uint8Array;
}): EscrowMessage {
  const m = decodeMessageObject(record.value);
  for (const name of Object.keys(m))
    if (!FIELDS.includes(name)) fail('message.unknown-field', `unknown field ${JSON.stringify(name)}`);
  if (m.v !== ESCROW_MESSAGE_VERSION)
    fail('message.version', `v must be ${ESCROW_MESSAGE_VERSION}`, { seen: m.v });
  if (m.type !== ESCROW_MESSAGE_TYPE)
    fail('message.type', `type must be ${ESCROW_MESSAGE_TYPE}`, { seen: m.type });
  if (typeof m.portal !== 'string' || !isValidPortalId(m.portal))
    fail('message.portal', 'portal is not a valid portal id', { seen: m.portal });
  if (record.key !== undefined && record.key !== m.portal)
    fail('message.key', `the Kafka key ${JSON.stringify(record.key)} is not the origin ${m.portal}`);
  const key = canonicalKey(m.key);
  const blob = bytes(m.blob, 'blob', 'escrow.blob');
  if (blob.length === 0) fail('escrow.blob', 'blob is empty');
  const signature = bytes(m.signature, 'signature', 'message.signature');
  if (signature.length !== ED25519_SIGNATURE_SIZE)
    fail('message.signature', `signature must be ${ED25519_SIGNATURE_SIZE} bytes`, {
      seen: signature.length,
    });
  return { portal: m.portal, key, blob, signature };
}

/** What the receiver checks an escrow message against: its own configuration, never the message. */
export interface EscrowCheck {
  /** The portal whose log topic carried the message: the only origin it may name. */
  readonly topicPortal: string;
  /** That portal's witness key, from the receiver's federation configuration. */
  readonly witnessKey: VerifierKey;
  /** The largest blob the receiver keeps (MIRROR_ESCROW_MAX_BYTES). */
  readonly maxBlobBytes: number;
}

/**
 * Verifies a decoded escrow message, in order: MUST throw `escrow.portal` when it names another
 * origin than the topic's portal, `escrow.too-large` for a blob above `maxBlobBytes`,
 * `escrow.signature` when the origin's witness key (type 0x04) does not verify `escrowStatement`,
 * and `escrow.blob` / `escrow.kid` (checkEscrowBlob). Returns the blob's digest.
 */
export function verifyEscrowMessage(
  message: EscrowMessage,
  check: EscrowCheck,
  ed25519: Ed25519,
): Uint8Array {
  const evidence = { portal: message.portal, key: message.key };
  if (message.portal !== check.topicPortal)
    fail('escrow.portal', `an escrow of ${message.portal} on ${check.topicPortal}'s topic`, evidence);
  if (message.blob.length > check.maxBlobBytes)
    fail(
      'escrow.too-large',
      `the blob is ${message.blob.length} bytes, above MIRROR_ESCROW_MAX_BYTES ${check.maxBlobBytes}`,
      { ...evidence, bytes: message.blob.length },
    );
  const statement = escrowStatement(message.portal, message.key, message.blob);
  if (
    check.witnessKey.type !== KEY_TYPE_COSIGNATURE_V1 ||
    !ed25519.verify(check.witnessKey.publicKey, statement, message.signature)
  )
    fail(
      'escrow.signature',
      `the escrow of ${message.key} is not signed by ${message.portal}'s witness key`,
      evidence,
    );
  checkEscrowBlob(message.key, message.blob);
  return escrowDigest(message.blob);
}
