import {
  COSIGNATURE_V1_SIZE,
  KEY_TYPE_COSIGNATURE_V1,
  encodeEntry,
  fromBase64,
  toBase64,
  toHex,
  type Ed25519,
  type JsonValue,
  type NoteSigner,
  type VerifierKey,
} from '@cryptomesh/log';
import { sha256 } from '@noble/hashes/sha2';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import { LOG_MESSAGE_MAX_BYTES, decodeMessageObject } from './log-message';
import { isValidPortalId } from './topics';

/**
 * The messages of `intermesh.witness` (docs/design/federation.md "The witness topic"): a peer's
 * **cosignature** of a subject portal's seal, and a **finding** a reporter records against a
 * subject. Kafka key = the subject portal id, header `type` = the message type, value = UTF-8 JSON
 * with exactly the fields of its type and `v` = 1. The decoder checks form only; a cosignature is
 * verified against the receiver's own configuration (`verifyCosignature` of `@cryptomesh/log`), a
 * finding with `verifyFinding`.
 *
 * Pure: no Buffer, no Kafka client (STYLE.md §1).
 */
export const WITNESS_MESSAGE_VERSION = 1;

export type WitnessMessageType = 'cosignature' | 'finding';

/** The finding kinds (federation.md "What the replication service does"). */
export const FINDING_KINDS = ['equivocation', 'bad-part', 'gap', 'stale', 'rule', 'escrow-conflict'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** The longest `detail` of a finding, in UTF-16 code units. */
export const FINDING_DETAIL_MAX_CHARS = 4096;
/** The longest `code` of a finding. */
export const FINDING_CODE_MAX_CHARS = 100;
/** What a finding signature signs before the JCS of its fields: no cosignature starts this way. */
export const FINDING_SIGNATURE_CONTEXT = 'intermesh-finding/v1\n';

/** `witness`'s cosignature of `subject`'s seal of part `part`. */
export interface CosignatureMessage {
  readonly type: 'cosignature';
  readonly subject: string;
  readonly witness: string;
  readonly part: number;
  /** The subject's seal note, as the subject signed it, without cosignature lines. */
  readonly seal: string;
  /** One signature line `— <witness key name> <base64(key ID ‖ u64 time ‖ Ed25519 signature)>`. */
  readonly cosignature: string;
}

/** `reporter`'s finding against `subject`, signed by the reporter's witness key. */
export interface FindingMessage {
  readonly type: 'finding';
  readonly subject: string;
  readonly reporter: string;
  /** `findingFingerprint` of the finding: 64 lower-case hex digits. */
  readonly id: string;
  readonly kind: FindingKind;
  /** The part the finding is about, or null when none (e.g. `stale` before any seal). */
  readonly part: number | null;
  readonly code: string;
  readonly detail: string;
  readonly evidence: JsonValue;
  /** When the reporter observed it, milliseconds since the epoch. */
  readonly observedAt: number;
  /** 64-byte Ed25519 signature over `findingSignedMessage`. */
  readonly signature: Uint8Array;
}

export type WitnessMessage = CosignatureMessage | FindingMessage;

/** The fields a finding signature covers. */
export type FindingFields = Omit<FindingMessage, 'type' | 'signature'>;

/** What a finding's id is the fingerprint of. */
export type FindingFingerprintFields = Pick<
  FindingMessage,
  'subject' | 'kind' | 'code' | 'part' | 'evidence'
>;

/** One Kafka record of `intermesh.witness`, transport-neutral: the adapter maps it to kafkajs. */
export interface WitnessRecord {
  /** The Kafka key: the subject portal id. */
  readonly key: string;
  /** The `type` header. */
  readonly type: WitnessMessageType;
  /** UTF-8 JSON, at most LOG_MESSAGE_MAX_BYTES. */
  readonly value: Uint8Array;
}

const FIELDS: Record<WitnessMessageType, readonly string[]> = {
  cosignature: ['v', 'type', 'subject', 'witness', 'part', 'seal', 'cosignature'],
  finding: [
    'v',
    'type',
    'subject',
    'reporter',
    'id',
    'kind',
    'part',
    'code',
    'detail',
    'evidence',
    'observedAt',
    'signature',
  ],
};

const utf8 = new TextEncoder();
const CONTEXT_BYTES = utf8.encode(FINDING_SIGNATURE_CONTEXT);
const ED25519_SIGNATURE_SIZE = 64;
const ID = /^[0-9a-f]{64}$/;
const CODE = /^[a-z][a-z0-9.-]*$/;
// `— <key name> <base64>`: a C2SP key name has no space, '+' or control character.
// eslint-disable-next-line no-control-regex
const COSIGNATURE_LINE = /^\u2014 ([^\s+\u0000-\u001f\u007f]+) ([A-Za-z0-9+/]+={0,2})$/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fail(code: IntermeshErrorCode, message: string, evidence: Record<string, unknown> = {}): never {
  throw new IntermeshError(code, message, evidence);
}

/** A seen value for an error: short enough for a log line. */
function seen(value: unknown): unknown {
  return typeof value === 'string' && value.length > 120 ? `${value.slice(0, 120)}…` : value;
}

/** RFC 8785 canonical UTF-8 of a JSON object; `message.evidence` when it is not I-JSON. */
function jcs(value: Record<string, JsonValue>): Uint8Array {
  try {
    return encodeEntry(value);
  } catch (error) {
    throw new IntermeshError('message.evidence', 'the finding is not I-JSON', {}, { cause: error });
  }
}

/**
 * The id of a finding: lower-case hex SHA-256 of the RFC 8785 JCS of
 * `{subject, kind, code, part, evidence}` (federation.md "Findings"), so the same fault observed
 * twice — by any reporter, whatever the key order of its evidence — has one id. MUST throw
 * `message.evidence` for evidence that is not I-JSON (a non-finite number, a lone surrogate).
 */
export function findingFingerprint(fields: FindingFingerprintFields): string {
  const { subject, kind, code, part, evidence } = fields;
  return toHex(sha256(jcs({ subject, kind, code, part, evidence })));
}

/**
 * The exact bytes a finding signature signs:
 * `"intermesh-finding/v1\n" ‖ JCS({subject, reporter, id, kind, part, code, detail, evidence, observedAt})`.
 * The context line makes it a message no C2SP note or cosignature can be (federation.md "The
 * witness topic"). MUST throw `message.evidence` for fields that are not I-JSON.
 */
export function findingSignedMessage(fields: FindingFields): Uint8Array {
  const { subject, reporter, id, kind, part, code, detail, evidence, observedAt } = fields;
  const body = jcs({ subject, reporter, id, kind, part, code, detail, evidence, observedAt });
  const out = new Uint8Array(CONTEXT_BYTES.length + body.length);
  out.set(CONTEXT_BYTES);
  out.set(body, CONTEXT_BYTES.length);
  return out;
}

/**
 * Signs a finding with the reporter's witness key. MUST throw `finding.key` unless the signer is a
 * type 0x04 (witness) key, and the `message.*` code `decodeWitnessMessage` would give for fields it
 * would refuse — checked before signing, since a signed finding is a public accusation.
 */
export function signFinding(fields: FindingFields, signer: NoteSigner): FindingMessage {
  const key = signer.verifierKey;
  if (key.type !== KEY_TYPE_COSIGNATURE_V1)
    fail(
      'finding.key',
      `findings are signed with a witness (type 0x04) key, not ${key.name}'s type 0x0${key.type}`,
    );
  const { subject, reporter, id, kind, part, code, detail, evidence, observedAt } = fields;
  const unsigned: FindingMessage = {
    type: 'finding',
    subject,
    reporter,
    id,
    kind,
    part,
    code,
    detail,
    evidence,
    observedAt,
    signature: new Uint8Array(ED25519_SIGNATURE_SIZE),
  };
  encodeWitnessMessage(unsigned);
  return { ...unsigned, signature: signer.sign(findingSignedMessage(unsigned)) };
}

/**
 * Verifies a finding's signature against the reporter's witness key, taken from the receiver's own
 * configuration (the message names the reporter, it does not carry its key). MUST throw
 * `finding.bad-signature` when `witnessKey` is not a type 0x04 key or the Ed25519 signature does not
 * verify over `findingSignedMessage` (any field changed); returns nothing when it verifies.
 */
export function verifyFinding(message: FindingMessage, witnessKey: VerifierKey, ed25519: Ed25519): void {
  const evidence = {
    subject: message.subject,
    reporter: message.reporter,
    id: message.id,
    key: witnessKey.text,
  };
  if (witnessKey.type !== KEY_TYPE_COSIGNATURE_V1)
    fail('finding.bad-signature', `${witnessKey.name} is not a witness (type 0x04) key`, evidence);
  if (!ed25519.verify(witnessKey.publicKey, findingSignedMessage(message), message.signature)) {
    fail(
      'finding.bad-signature',
      `finding ${message.id} does not verify with ${message.reporter}'s witness key ${witnessKey.name}`,
      evidence,
    );
  }
}

/**
 * Encodes one message. MUST throw the `message.*` code `decodeWitnessMessage` would give for any
 * message it would refuse (so what is published always decodes to the same message), including
 * `message.too-large` above LOG_MESSAGE_MAX_BYTES and `message.evidence` for non-I-JSON evidence.
 */
export function encodeWitnessMessage(message: WitnessMessage): WitnessRecord {
  const head = { v: WITNESS_MESSAGE_VERSION, type: message.type, subject: message.subject };
  let body: Record<string, unknown>;
  if (message.type === 'cosignature') {
    const { witness, part, seal, cosignature } = message;
    body = { ...head, witness, part, seal, cosignature };
  } else {
    const { reporter, id, kind, part, code, detail, evidence, observedAt } = message;
    jcs({ evidence }); // JSON.stringify would turn a non-finite number into null: refuse it instead.
    const signature = toBase64(message.signature);
    body = { ...head, reporter, id, kind, part, code, detail, evidence, observedAt, signature };
  }
  const record: WitnessRecord = {
    key: message.subject,
    type: message.type,
    value: utf8.encode(JSON.stringify(body)),
  };
  decodeWitnessMessage(record);
  return record;
}

function portal(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isValidPortalId(value))
    fail('message.portal', `${field} is not a valid portal id`, { field, seen: seen(value) });
  return value;
}

function nat(value: unknown, code: IntermeshErrorCode, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail(code, `${field} must be a non-negative safe integer`, { field, seen: value });
  return value;
}

function text(value: unknown, code: IntermeshErrorCode, field: string, max: number, min = 0): string {
  if (
    typeof value !== 'string' ||
    value.length < min ||
    value.length > max ||
    LONE_SURROGATE.test(value) ||
    value.includes('\u0000')
  )
    fail(code, `${field} must be well-formed text of ${min}–${max} characters, without U+0000`, {
      field,
      seen: seen(value),
    });
  return value;
}

/** How deep a finding's evidence may nest: ours nest three levels; PostgreSQL parses `jsonb` recursively. */
const MAX_EVIDENCE_DEPTH = 32;

/**
 * Why a finding's evidence cannot be stored, if it cannot: U+0000 in a string or a member name, or
 * nesting beyond MAX_EVIDENCE_DEPTH. A stored finding keeps its evidence as PostgreSQL `jsonb`, which
 * refuses that character (and a parse deep enough to exhaust its stack): a peer's finding carrying
 * either would otherwise fail its insert on every retry, and hold up the witness topic behind it.
 */
function unstorable(value: JsonValue): string | undefined {
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [next, depth] = pending.pop()!;
    if (typeof next === 'string') {
      if (next.includes('\u0000')) return 'evidence must not hold U+0000';
    } else if (typeof next === 'object' && next !== null) {
      if (depth > MAX_EVIDENCE_DEPTH) return `evidence must not nest deeper than ${MAX_EVIDENCE_DEPTH}`;
      for (const [name, member] of Object.entries(next)) {
        if (name.includes('\u0000')) return 'evidence must not hold U+0000';
        pending.push([member, depth + 1]);
      }
    }
  }
  return undefined;
}

function readCosignature(m: Record<string, unknown>, subject: string): CosignatureMessage {
  const witness = portal(m.witness, 'witness');
  if (witness === subject) fail('message.self', `${subject} cannot cosign its own seal`, { seen: witness });
  const part = nat(m.part, 'message.part', 'part');
  const seal = text(m.seal, 'message.note', 'seal', LOG_MESSAGE_MAX_BYTES, 1);
  const line = m.cosignature;
  const match = typeof line === 'string' ? COSIGNATURE_LINE.exec(line) : null;
  if (match === null)
    fail('message.cosignature', 'cosignature must be one line "— <name> <base64>"', { seen: seen(line) });
  let bytes: Uint8Array | undefined;
  try {
    bytes = fromBase64(match[2]!, 'cosignature');
  } catch (error) {
    throw new IntermeshError(
      'message.cosignature',
      'cosignature is not canonical base64',
      {},
      { cause: error },
    );
  }
  if (bytes.length !== 4 + COSIGNATURE_V1_SIZE)
    fail('message.cosignature', `a v1 cosignature line holds ${4 + COSIGNATURE_V1_SIZE} bytes`, {
      seen: bytes.length,
    });
  return { type: 'cosignature', subject, witness, part, seal, cosignature: match[0] };
}

function readFinding(m: Record<string, unknown>, subject: string): FindingMessage {
  const reporter = portal(m.reporter, 'reporter');
  if (reporter === subject) fail('message.self', `${subject} cannot report on itself`, { seen: reporter });
  const id = m.id;
  if (typeof id !== 'string' || !ID.test(id))
    fail('message.id', 'id must be 64 lower-case hex digits', { seen: seen(id) });
  const kind = m.kind;
  if (!FINDING_KINDS.includes(kind as FindingKind))
    fail('message.kind', `kind must be one of ${FINDING_KINDS.join(', ')}`, { seen: seen(kind) });
  const part = m.part === null ? null : nat(m.part, 'message.part', 'part');
  const code = text(m.code, 'message.code', 'code', FINDING_CODE_MAX_CHARS, 1);
  if (!CODE.test(code)) fail('message.code', `code must match ${CODE.source}`, { seen: code });
  const detail = text(m.detail, 'message.detail', 'detail', FINDING_DETAIL_MAX_CHARS);
  const evidence = m.evidence as JsonValue; // JSON.parse gives JSON; jcs refuses what is not I-JSON
  const why = unstorable(evidence);
  if (why !== undefined) fail('message.evidence', why);
  const observedAt = nat(m.observedAt, 'message.observed-at', 'observedAt');
  let signature: Uint8Array | undefined;
  try {
    signature = typeof m.signature === 'string' ? fromBase64(m.signature, 'signature') : undefined;
  } catch (error) {
    throw new IntermeshError('message.signature', 'signature is not canonical base64', {}, { cause: error });
  }
  if (signature?.length !== ED25519_SIGNATURE_SIZE)
    fail('message.signature', `signature must be ${ED25519_SIGNATURE_SIZE} bytes in base64`, {
      seen: seen(m.signature),
    });
  const fingerprint = findingFingerprint({ subject, kind: kind as FindingKind, code, part, evidence });
  if (id !== fingerprint)
    fail('message.id', 'id is not the fingerprint of the finding', { expected: fingerprint, seen: id });
  return {
    type: 'finding',
    subject,
    reporter,
    id,
    kind: kind as FindingKind,
    part,
    code,
    detail,
    evidence,
    observedAt,
    signature,
  };
}

/**
 * Decodes one record of `intermesh.witness` strictly. MUST throw IntermeshError with a `message.*`
 * code naming what is wrong for anything but a well-formed message: a value above
 * LOG_MESSAGE_MAX_BYTES (`too-large`), invalid UTF-8 or JSON (`not-json`), not an object
 * (`not-object`), `v` ≠ 1 (`version`), an unknown type (`type`), an unknown (`unknown-field`) or
 * missing (`field`) field, a `type` header or Kafka key that disagrees with the body (`header`,
 * `key`), an invalid portal id (`portal`), a witness or reporter that is the subject (`self`), a
 * part that is not a safe non-negative integer (`part`; a finding's MAY be null), an empty seal
 * (`note`), a cosignature that is not one line `— <name> <base64 of 76 bytes>` (`cosignature`),
 * an id that is not 64 lower-case hex digits or not the finding's fingerprint (`id`), an unknown
 * kind (`kind`), a code not 1–100 characters of /^[a-z][a-z0-9.-]*$/ (`code`), a detail above
 * 4096 characters (`detail`), evidence that is not I-JSON (`evidence`), an observedAt that is not
 * a safe non-negative integer (`observed-at`), or a signature that is not canonical base64 of 64
 * bytes (`signature`). It verifies no signature: see `verifyFinding` and `verifyCosignature`.
 */
export function decodeWitnessMessage(record: {
  readonly key: string | undefined;
  readonly type: string | undefined;
  readonly value: Uint8Array;
}): WitnessMessage {
  const m = decodeMessageObject(record.value);
  if (m.v !== WITNESS_MESSAGE_VERSION) fail('message.version', 'unsupported message version', { seen: m.v });
  const type = m.type;
  if (type !== 'cosignature' && type !== 'finding')
    fail('message.type', 'unknown witness message type', { seen: seen(type) });
  const fields = FIELDS[type];
  const extra = Object.keys(m).find((k) => !fields.includes(k));
  if (extra !== undefined)
    fail('message.unknown-field', `unknown field ${JSON.stringify(extra)} in a ${type} message`, {
      field: extra,
    });
  const missing = fields.find((k) => !Object.prototype.hasOwnProperty.call(m, k));
  if (missing !== undefined)
    fail('message.field', `a ${type} message lacks ${JSON.stringify(missing)}`, { field: missing });
  if (record.type !== type)
    fail('message.header', `header type ${JSON.stringify(record.type)} disagrees with the body's ${type}`, {
      seen: record.type,
    });
  const subject = portal(m.subject, 'subject');
  if (record.key !== subject)
    fail('message.key', `Kafka key ${JSON.stringify(record.key)} is not the subject`, { seen: record.key });
  return type === 'cosignature' ? readCosignature(m, subject) : readFinding(m, subject);
}
