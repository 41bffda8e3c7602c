import {
  accountUdf,
  defaultRandom,
  normaliseAccountAddress,
  toBase64Url,
  type FlattenedJws,
  type JwsSigningKey,
  type RandomSource,
} from '@cryptomesh/crypto/portable';
import { verifyWith } from './catalog-value';
import { JsonReader, isJsonObject, type JsonObject } from './json';
import { MeshError } from './mesh-error';
import { findDevice } from './personal-profile';
import { openEnvelope, signPayload } from './profile-envelope';
import type { DeviceEntry, MasterProfile, PersonalProfile } from './profile-types';
import { requestBodyUdf } from './signed-request';

/**
 * Inbound envelopes (000 §3.3; docs/design/inbound.md "Inbound envelopes"): what one party sends to
 * another's inbound services — signed by a device of the sender, its `Body` a JWE to the recipient's
 * devices. The portals route and check it by its clear members; neither can read or forge it.
 */
export const INBOUND_ENVELOPE_TYPE = 'application/mmm-inbound+json';
export const INBOUND_KINDS = ['contact', 'message', 'task', 'confirm', 'answer'] as const;
export type InboundKind = (typeof INBOUND_KINDS)[number];
/** An envelope Id: 16 random bytes, base64url. */
export const INBOUND_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export interface InboundEnvelope {
  readonly kind: InboundKind;
  readonly id: string;
  /**
   * The sender's account UDF (`accountUdf` of its address). The addresses themselves travel only
   * inside the encrypted Body (inbound-body.ts): the portals and every member that relays the envelope
   * route by digests, as the log does.
   */
  readonly fromAccount: string;
  /** The UDF of the sender's Master Profile. */
  readonly fromMaster: string;
  readonly toAccount: string;
  /**
   * The UDF of the recipient's Master Profile, as the sender verified it: an address reused by another
   * owner, or squatted at another member, does not receive what was meant for this one.
   */
  readonly toMaster: string;
  readonly created: number;
  /** The JWE (general JSON serialisation) of the content. */
  readonly body: JsonObject;
}

export interface EnvelopeInput {
  readonly kind: InboundKind;
  /** Drawn from `random` when absent (`newEnvelopeId`). */
  readonly id?: string;
  /** The sender's address (only its account UDF is in the envelope). */
  readonly from: string;
  readonly fromMaster: string;
  /** The recipient's address (only its account UDF is in the envelope). */
  readonly to: string;
  readonly toMaster: string;
  readonly created: number;
  readonly body: JsonObject;
  readonly random?: RandomSource;
}

function payloadOf(e: InboundEnvelope): JsonObject {
  return {
    Kind: e.kind,
    Id: e.id,
    FromAccount: e.fromAccount,
    FromMaster: e.fromMaster,
    ToAccount: e.toAccount,
    ToMaster: e.toMaster,
    Created: e.created,
    Body: e.body,
  };
}

function readPayload(payload: Record<string, unknown>): InboundEnvelope {
  const r = JsonReader.object(payload, 'the envelope', 'inbound.invalid').members([
    'Kind',
    'Id',
    'FromAccount',
    'FromMaster',
    'ToAccount',
    'ToMaster',
    'Created',
    'Body',
  ]);
  const kind = r.string('Kind');
  if (!(INBOUND_KINDS as readonly string[]).includes(kind))
    r.fail(`"Kind" must be one of ${INBOUND_KINDS.join(', ')}`);
  const id = r.string('Id');
  if (!INBOUND_ID_PATTERN.test(id)) r.fail('"Id" must be 16 bytes, base64url (22 characters)');
  const fromAccount = r.udf('FromAccount');
  const toAccount = r.udf('ToAccount');
  if (fromAccount === toAccount) r.fail('an envelope goes to another account than its sender');
  const fromMaster = r.udf('FromMaster');
  const toMaster = r.udf('ToMaster');
  const created = r.integer('Created');
  const body = r.raw('Body');
  if (!isJsonObject(body) || !Array.isArray(body['recipients']) || typeof body['ciphertext'] !== 'string')
    r.fail('"Body" must be a JWE in the general JSON serialisation');
  return {
    kind: kind as InboundKind,
    id,
    fromAccount,
    fromMaster,
    toAccount,
    toMaster,
    created,
    body: body as JsonObject,
  };
}

/**
 * A fresh envelope Id: 16 bytes of `random` (a CSPRNG), base64url, never starting with '-', which a
 * command line (`mesh confirm answer ID yes`) would take for an option: one id in 64 did, found as a
 * failing test. The first byte's top bit is flipped instead of drawing again, so a fixed test source
 * still ends; the id keeps 127.98 bits of entropy.
 */
export function newEnvelopeId(random: RandomSource = defaultRandom): string {
  const bytes = Uint8Array.from(random(16));
  if (bytes[0]! >> 2 === 62) bytes[0] = bytes[0]! ^ 0x80;
  return toBase64Url(bytes);
}

/** Signs an envelope with a device key of the sender. Throws 'inbound.invalid' for a bad input. */
export async function signEnvelope(input: EnvelopeInput, key: JwsSigningKey): Promise<FlattenedJws> {
  const from = normaliseAccountAddress(input.from);
  const to = normaliseAccountAddress(input.to);
  const envelope: InboundEnvelope = {
    kind: input.kind,
    id: input.id ?? newEnvelopeId(input.random),
    fromAccount: accountUdf(from),
    fromMaster: input.fromMaster,
    toAccount: accountUdf(to),
    toMaster: input.toMaster,
    created: input.created,
    body: input.body,
  };
  const payload = payloadOf(envelope);
  readPayload(payload);
  return signPayload(payload, INBOUND_ENVELOPE_TYPE, key);
}

/** Reads an envelope's form without verifying it. Throws MeshError 'inbound.invalid'. */
export function readEnvelope(jws: unknown): { envelope: InboundEnvelope; kid: string } {
  const opened = openEnvelope(jws, 'the envelope', 'inbound.invalid');
  if (opened.type !== INBOUND_ENVELOPE_TYPE)
    throw new MeshError('inbound.invalid', `the envelope's typ must be ${INBOUND_ENVELOPE_TYPE}`);
  return { envelope: readPayload(opened.payload), kid: opened.kid };
}

/**
 * Verifies an envelope against its sender's current profiles, as the caller knows them WITH PROOF
 * (the home portal's catalog, a verified mirror, a verified read): 'inbound.wrong-sender' when
 * `FromMaster` is not `sender.master` or `personal` is not that Master Profile's; 'inbound.unknown-device'
 * when the signer is not a device of `personal`; 'inbound.bad-signature'.
 */
export async function verifyEnvelope(
  jws: unknown,
  sender: { readonly account: string; readonly master: MasterProfile; readonly personal: PersonalProfile },
): Promise<{ envelope: InboundEnvelope; device: DeviceEntry }> {
  const { envelope, kid } = readEnvelope(jws);
  if (envelope.fromAccount !== sender.account)
    throw new MeshError('inbound.wrong-sender', 'the envelope names another sender account');
  if (envelope.fromMaster !== sender.master.id || sender.personal.master !== sender.master.id)
    throw new MeshError(
      'inbound.wrong-sender',
      `the envelope names the Master Profile ${envelope.fromMaster}, not the sender's`,
    );
  const device = findDevice(sender.personal, kid);
  if (device === undefined)
    throw new MeshError('inbound.unknown-device', `${kid} is not a device of the sender`);
  await verifyWith(jws, device, 'inbound.bad-signature', 'the envelope');
  return { envelope, device };
}

/**
 * The digest of an envelope's payload (a content digest UDF of its JCS): what a contact request's proof
 * of work binds (`checkProofOfWork(envelopeWorkBody(e), nonce, level)`) and what an answer's `Ref`
 * names — the whole confirmation request, not only its Id, which its sender chose.
 */
export function envelopeWorkBody(envelope: InboundEnvelope): string {
  return requestBodyUdf(payloadOf(envelope));
}

/** The digest an answer's `Ref` carries: `envelopeWorkBody` of the confirmation request. */
export const envelopeDigest = envelopeWorkBody;

/** The envelope as the text a portal stores and relays (its JSON, members in JWS order). */
export function envelopeText(jws: FlattenedJws): string {
  return JSON.stringify({ protected: jws.protected, payload: jws.payload, signature: jws.signature });
}

/**
 * Parses stored or relayed envelope text: at most `maxBytes` of UTF-8, a JSON object with exactly the
 * three members of a flattened JWS. Throws 'inbound.invalid' / 'inbound.too-large'. The form of the
 * payload is `readEnvelope`'s.
 */
export function parseEnvelopeText(text: string, maxBytes: number): FlattenedJws {
  if (new TextEncoder().encode(text).length > maxBytes)
    throw new MeshError('inbound.too-large', `the envelope is larger than ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new MeshError('inbound.invalid', 'the envelope is not JSON', { cause });
  }
  const r = JsonReader.object(value, 'the envelope', 'inbound.invalid').members([
    'protected',
    'payload',
    'signature',
  ]);
  return { protected: r.string('protected'), payload: r.string('payload'), signature: r.string('signature') };
}
