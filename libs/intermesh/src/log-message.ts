import { fromBase64, toBase64 } from '@cryptomesh/log';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import { isValidPortalId } from './topics';

/**
 * The messages of `intermesh.log.<portal-id>` (docs/design/replication.md). For each part n, in
 * topic order: its entries, in index order, in `entries` messages (whole entries) and `fragment`
 * messages (one entry too large for a message, cut into byte ranges), then one `seal` message with
 * the part's signed note. Every message is UTF-8 JSON with a fixed set of fields, Kafka key = the
 * portal id, header `type` = the message type. Nothing here is trusted: the decoder checks form
 * only, and the seal's signature, the part digest and the chain are the log verifier's job.
 *
 * Pure: no Buffer, no Kafka client (STYLE.md §1).
 */
export const LOG_MESSAGE_VERSION = 1;

/** Decoders refuse a message value above this (Kafka's default `message.max.bytes` is 1048588). */
export const LOG_MESSAGE_MAX_BYTES = 1_000_000;
/** The smallest `maxMessageBytes` an encoder accepts (room for the envelope of any message). */
export const LOG_MESSAGE_MIN_BYTES = 1_024;
/** The encoders' default limit: half of Kafka's default, so that a record batch stays well under it. */
export const DEFAULT_LOG_MESSAGE_BYTES = 500_000;
/** The largest entry a fragment may announce (the gateway's largest request is 16 MiB). */
export const LOG_ENTRY_MAX_BYTES = 64 * 1024 * 1024;

/** The Kafka header that repeats the message type, so that a consumer can route without parsing. */
export const LOG_MESSAGE_TYPE_HEADER = 'type';

export type LogMessageType = 'entries' | 'fragment' | 'seal';

/** Whole entries `[first, first + entries.length)` of part `part`. */
export interface EntriesMessage {
  readonly type: 'entries';
  readonly portal: string;
  readonly part: number;
  readonly first: number;
  readonly entries: readonly Uint8Array[];
}

/** Bytes `[offset, offset + data.length)` of entry `index` (of `length` bytes) of part `part`. */
export interface FragmentMessage {
  readonly type: 'fragment';
  readonly portal: string;
  readonly part: number;
  readonly index: number;
  readonly offset: number;
  readonly length: number;
  readonly data: Uint8Array;
}

/** The seal of part `part`, which covers entries `[first, size)`; `note` is the signed note as signed. */
export interface SealMessage {
  readonly type: 'seal';
  readonly portal: string;
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly note: string;
}

export type LogMessage = EntriesMessage | FragmentMessage | SealMessage;

/** One Kafka record of a log topic, transport-neutral: the adapter maps it to kafkajs. */
export interface LogRecord {
  /** The Kafka key: the portal id. */
  readonly key: string;
  /** The `type` header. */
  readonly type: LogMessageType;
  /** UTF-8 JSON, at most the encoder's `maxMessageBytes`. */
  readonly value: Uint8Array;
}

/** What the publisher knows of a sealed part before it streams the part's entries. */
export interface PartSeal {
  readonly part: number;
  readonly first: number;
  readonly size: number;
  readonly note: string;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: IntermeshErrorCode, message: string, evidence: Record<string, unknown> = {}): never {
  throw new IntermeshError(code, message, evidence);
}

/**
 * The JSON object of an InterMesh message (either topic): refuses a message above
 * LOG_MESSAGE_MAX_BYTES (`message.too-large`), invalid UTF-8 or JSON (`message.not-json`) and
 * anything but an object (`message.not-object`).
 */
export function decodeMessageObject(value: Uint8Array): Record<string, unknown> {
  if (value.length > LOG_MESSAGE_MAX_BYTES)
    fail('message.too-large', `message of ${value.length} bytes exceeds ${LOG_MESSAGE_MAX_BYTES}`, {
      bytes: value.length,
    });
  let body: unknown;
  try {
    body = JSON.parse(strictUtf8.decode(value));
  } catch (error) {
    throw new IntermeshError('message.not-json', 'message is not UTF-8 JSON', {}, { cause: error });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    fail('message.not-object', 'message is not a JSON object');
  return body as Record<string, unknown>;
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/**
 * Encodes one message. MUST throw `message.too-large` when the value exceeds `maxMessageBytes`
 * (default LOG_MESSAGE_MAX_BYTES), and `message.portal` for an invalid portal id.
 */
export function encodeLogMessage(message: LogMessage, maxMessageBytes = LOG_MESSAGE_MAX_BYTES): LogRecord {
  if (!isValidPortalId(message.portal))
    fail('message.portal', `invalid portal id ${JSON.stringify(message.portal)}`);
  const head = { v: LOG_MESSAGE_VERSION, type: message.type, portal: message.portal, part: message.part };
  let body: Record<string, unknown>;
  switch (message.type) {
    case 'entries':
      body = { ...head, first: message.first, entries: message.entries.map((e) => toBase64(e)) };
      break;
    case 'fragment':
      body = {
        ...head,
        index: message.index,
        offset: message.offset,
        length: message.length,
        data: toBase64(message.data),
      };
      break;
    case 'seal':
      body = { ...head, first: message.first, size: message.size, note: message.note };
      break;
  }
  const value = utf8.encode(JSON.stringify(body));
  if (value.length > maxMessageBytes) {
    fail(
      'message.too-large',
      `a ${message.type} message of ${value.length} bytes exceeds ${maxMessageBytes}`,
      {
        bytes: value.length,
        limit: maxMessageBytes,
      },
    );
  }
  return { key: message.portal, type: message.type, value };
}

/**
 * Cuts one sealed part into messages of at most `maxMessageBytes` each, streaming: entries are fed
 * one at a time with `add` (in index order, starting at `seal.first`) and `finish` closes the part
 * with its seal. An entry that fits a message on its own shares `entries` messages with its
 * neighbours; a larger one travels as consecutive `fragment` messages. Memory: one message.
 * Not for concurrent use.
 */
export class PartEncoder {
  private readonly limit: number;
  private batch: Uint8Array[] = [];
  private batchFirst: number;
  private batchBytes = 0;
  private next: number;

  constructor(
    private readonly portal: string,
    private readonly seal: PartSeal,
    maxMessageBytes = DEFAULT_LOG_MESSAGE_BYTES,
  ) {
    if (
      !Number.isSafeInteger(maxMessageBytes) ||
      maxMessageBytes < LOG_MESSAGE_MIN_BYTES ||
      maxMessageBytes > LOG_MESSAGE_MAX_BYTES
    ) {
      fail(
        'message.limit',
        `maxMessageBytes must be between ${LOG_MESSAGE_MIN_BYTES} and ${LOG_MESSAGE_MAX_BYTES}`,
      );
    }
    if (!isValidPortalId(portal)) fail('message.portal', `invalid portal id ${JSON.stringify(portal)}`);
    this.limit = maxMessageBytes;
    this.next = seal.first;
    this.batchFirst = seal.first;
  }

  /** The next entry of the part; returns the messages it completed (possibly none). */
  add(entry: Uint8Array): LogRecord[] {
    if (this.next >= this.seal.size) {
      fail(
        'message.size',
        `part ${this.seal.part} covers [${this.seal.first}, ${this.seal.size}) but got more entries`,
      );
    }
    if (entry.length === 0) fail('message.entry', `entry ${this.next} is empty`);
    const out: LogRecord[] = [];
    const cost = base64Length(entry.length) + 3; // quotes and a comma
    if (this.batch.length > 0 && this.batchBytes + cost > this.limit) out.push(this.flush());
    const alone = this.envelope('entries', this.next) + cost;
    if (alone > this.limit) {
      if (this.batch.length > 0) out.push(this.flush());
      out.push(...this.fragments(entry));
      this.next++;
      this.batchFirst = this.next;
      return out;
    }
    if (this.batch.length === 0) {
      this.batchFirst = this.next;
      this.batchBytes = this.envelope('entries', this.next);
    }
    this.batch.push(entry);
    this.batchBytes += cost;
    this.next++;
    return out;
  }

  /** Flushes the last entries and appends the seal; MUST throw `message.size` unless every entry was added. */
  finish(): LogRecord[] {
    if (this.next !== this.seal.size) {
      fail(
        'message.size',
        `part ${this.seal.part} covers [${this.seal.first}, ${this.seal.size}) but got ${this.next - this.seal.first} entries`,
      );
    }
    const out = this.batch.length > 0 ? [this.flush()] : [];
    out.push(
      encodeLogMessage(
        {
          type: 'seal',
          portal: this.portal,
          part: this.seal.part,
          first: this.seal.first,
          size: this.seal.size,
          note: this.seal.note,
        },
        this.limit,
      ),
    );
    return out;
  }

  private flush(): LogRecord {
    const record = encodeLogMessage(
      {
        type: 'entries',
        portal: this.portal,
        part: this.seal.part,
        first: this.batchFirst,
        entries: this.batch,
      },
      this.limit,
    );
    this.batch = [];
    this.batchBytes = 0;
    return record;
  }

  /** The bytes of a message of `type` without its variable payload (entries or fragment data). */
  private envelope(type: 'entries' | 'fragment', index: number, length = 0): number {
    const head = `{"v":1,"type":"${type}","portal":"${this.portal}","part":${this.seal.part},`;
    return type === 'entries'
      ? head.length + `"first":${index},"entries":[]}`.length
      : head.length + `"index":${index},"offset":${length},"length":${length},"data":""}`.length;
  }

  private fragments(entry: Uint8Array): LogRecord[] {
    if (entry.length > LOG_ENTRY_MAX_BYTES) {
      fail('message.length', `entry ${this.next} has ${entry.length} bytes, above ${LOG_ENTRY_MAX_BYTES}`);
    }
    const room = this.limit - this.envelope('fragment', this.next, entry.length);
    const step = Math.floor(room / 4) * 3;
    const out: LogRecord[] = [];
    for (let offset = 0; offset < entry.length; offset += step) {
      out.push(
        encodeLogMessage(
          {
            type: 'fragment',
            portal: this.portal,
            part: this.seal.part,
            index: this.next,
            offset,
            length: entry.length,
            data: entry.subarray(offset, Math.min(entry.length, offset + step)),
          },
          this.limit,
        ),
      );
    }
    return out;
  }
}

/** Every message of one part, in order (see PartEncoder). */
export function* encodePart(
  portal: string,
  seal: PartSeal,
  entries: Iterable<Uint8Array>,
  maxMessageBytes = DEFAULT_LOG_MESSAGE_BYTES,
): Generator<LogRecord> {
  const encoder = new PartEncoder(portal, seal, maxMessageBytes);
  for (const entry of entries) yield* encoder.add(entry);
  yield* encoder.finish();
}

const FIELDS: Record<LogMessageType, readonly string[]> = {
  entries: ['v', 'type', 'portal', 'part', 'first', 'entries'],
  fragment: ['v', 'type', 'portal', 'part', 'index', 'offset', 'length', 'data'],
  seal: ['v', 'type', 'portal', 'part', 'first', 'size', 'note'],
};

function index(value: unknown, code: IntermeshErrorCode, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(code, `${field} must be a non-negative safe integer`, { field, seen: value });
  }
  return value;
}

function bytes(value: unknown, code: IntermeshErrorCode, field: string): Uint8Array {
  if (typeof value !== 'string' || value === '') fail(code, `${field} must be non-empty base64`, { field });
  try {
    return fromBase64(value, field);
  } catch (error) {
    throw new IntermeshError(code, `${field} is not canonical base64`, { field }, { cause: error });
  }
}

/**
 * Decodes one record of `intermesh.log.<portal>` strictly. MUST throw IntermeshError (a `message.*`
 * code naming what is wrong) for anything but a well-formed message: value above
 * LOG_MESSAGE_MAX_BYTES, invalid UTF-8 or JSON, unknown or missing fields, a version other than 1,
 * a `type` header or Kafka key that disagrees with the body, non-canonical base64, empty entries,
 * indices that are not safe non-negative integers, a fragment outside its entry, a seal with
 * `first > size` or an empty note. It checks no signature: that is the log verifier's job.
 */
export function decodeLogMessage(record: {
  readonly key: string | undefined;
  readonly type: string | undefined;
  readonly value: Uint8Array;
}): LogMessage {
  const m = decodeMessageObject(record.value);
  if (m.v !== LOG_MESSAGE_VERSION) fail('message.version', `unsupported message version`, { seen: m.v });
  const type = m.type;
  if (type !== 'entries' && type !== 'fragment' && type !== 'seal')
    fail('message.type', 'unknown message type', { seen: type });
  const fields = FIELDS[type];
  const extra = Object.keys(m).filter((k) => !fields.includes(k));
  if (extra.length > 0)
    fail('message.unknown-field', `unknown field ${JSON.stringify(extra[0])} in a ${type} message`, {
      field: extra[0],
    });
  if (record.type !== type)
    fail('message.header', `header type ${JSON.stringify(record.type)} disagrees with the body's ${type}`, {
      seen: record.type,
    });
  const portal = m.portal;
  if (typeof portal !== 'string' || !isValidPortalId(portal))
    fail('message.portal', 'invalid portal id', { seen: portal });
  if (record.key !== portal)
    fail('message.key', `Kafka key ${JSON.stringify(record.key)} is not the portal id`, { seen: record.key });
  const part = index(m.part, 'message.part', 'part');

  switch (type) {
    case 'entries': {
      const first = index(m.first, 'message.first', 'first');
      if (!Array.isArray(m.entries) || m.entries.length === 0)
        fail('message.entries', 'entries must be a non-empty array');
      const entries = (m.entries as unknown[]).map((e, i) => bytes(e, 'message.entry', `entries[${i}]`));
      if (!Number.isSafeInteger(first + entries.length))
        fail('message.first', 'first + entries overflows', { seen: first });
      return { type, portal, part, first, entries };
    }
    case 'fragment': {
      const idx = index(m.index, 'message.index', 'index');
      const length = index(m.length, 'message.length', 'length');
      if (length === 0 || length > LOG_ENTRY_MAX_BYTES)
        fail('message.length', `length must be 1–${LOG_ENTRY_MAX_BYTES}`, { seen: length });
      const offset = index(m.offset, 'message.offset', 'offset');
      if (offset >= length) fail('message.offset', 'offset is outside the entry', { seen: offset, length });
      const data = bytes(m.data, 'message.data', 'data');
      if (offset + data.length > length)
        fail('message.data', 'fragment runs past the end of its entry', {
          offset,
          bytes: data.length,
          length,
        });
      return { type, portal, part, index: idx, offset, length, data };
    }
    case 'seal': {
      const first = index(m.first, 'message.first', 'first');
      const size = index(m.size, 'message.size', 'size');
      if (first > size) fail('message.size', 'size is below first', { first, size });
      if (typeof m.note !== 'string' || m.note === '')
        fail('message.note', 'note must be a non-empty string');
      return { type, portal, part, first, size, note: m.note };
    }
  }
}
