/**
 * Why the gateway refused a request. Each code maps to one HTTP status and is returned to the
 * client as `Error` beside the Mesh `Status`/`StatusDescription` (docs/PROTOCOL.md "Errors"); when a
 * finer rule of the Mesh model was broken, its code is returned as `Reason` (e.g. Error
 * `persistence.conflict`, Reason `persistence.inactive`). A refused request changed nothing
 * (DESIGN.md invariant 4).
 */
export type GatewayErrorCode =
  | 'request.malformed' // not JSON, or not a {"<Name>Request": {...}} envelope
  | 'request.invalid' // a field is missing or of the wrong type, or an identifier is not well formed
  | 'request.control-character' // a text (e.g. a Device Profile's Description) holds a control character
  | 'request.too-large' // the body exceeds MAX_REQUEST_BYTES
  | 'request.unknown-transaction'
  | 'request.unsupported-media-type' // not application/json, or a charset other than UTF-8
  | 'request.method-not-allowed' // a method other than POST on /.well-known/mmm/
  | 'account.invalid' // not an account address (or mmm: URI naming one)
  | 'account.exists' // CreateAccount of an address this portal assigned before
  | 'account.unknown' // no such account here, or it is deleted
  | 'account.moved' // closed here by a MoveAccount: the account lives at its new home portal
  | 'auth.missing' // an authenticated transaction without its signed request
  | 'auth.malformed' // the signed request is not a request JWS
  | 'auth.mismatch' // signed for another transaction, account or body
  | 'auth.wrong-portal' // signed for another portal (its Portal is not this portal's Origin)
  | 'auth.unknown-device' // the signer is not a device of the account
  | 'auth.bad-signature'
  | 'auth.stale' // outside the clock-skew window (CLOCK_SKEW_MS)
  | 'auth.replayed' // this signed request was accepted before (so its first use committed)
  | 'auth.not-administrator'
  | 'profile.invalid' // not a profile JWS of the Mesh model, or the wrong profile type
  | 'profile.bad-signature'
  | 'profile.wrong-signer' // 000 §6.4: not signed by the key its type demands
  | 'profile.too-large' // a signed profile (or escrow blob) over MAX_PROFILE_BYTES
  | 'publish.invalid' // the value does not fit the record (id, account, device list)
  | 'publish.not-allowed' // the model forbids this operation on this profile type
  | 'persistence.conflict' // 000 §3.2.1: create of an existing object, update/delete of an inactive one…
  | 'pow.insufficient' // CreateAccount without the proof of work Hello demands
  | 'not-found'
  | 'rate.limited'
  | 'quota.exceeded' // the account's objects, bytes or escrow blobs (Reason quota.objects/bytes/escrow)
  | 'log.pushback' // the log queue is over its bounds (docs/design/gateway.md "Pushback"); retry later
  | 'catalog.invalid' // a catalog value or tombstone that is not of docs/design/inbound.md
  | 'catalog.bad-signature'
  | 'catalog.wrong-signer' // a catalog value not signed by a device of the account
  | 'inbound.invalid' // an inbound envelope that is not of docs/design/inbound.md
  | 'inbound.bad-signature'
  | 'inbound.wrong-sender' // an envelope not signed by a device of its sender, or naming another sender
  | 'inbound.unknown-recipient' // no account of that address here nor in a verified mirror
  | 'inbound.not-a-contact' // only a contact request may come from a stranger
  | 'inbound.blocked' // the recipient blocked the sender
  | 'inbound.duplicate' // a contact request of this sender already waits for the recipient
  | 'internal';

const HTTP_STATUS: Record<GatewayErrorCode, number> = {
  'request.malformed': 400,
  'request.invalid': 400,
  'request.control-character': 400,
  'request.too-large': 413,
  'request.unknown-transaction': 404,
  'request.unsupported-media-type': 415,
  'request.method-not-allowed': 405,
  'account.invalid': 400,
  'account.exists': 409,
  'account.unknown': 404,
  'account.moved': 409,
  'auth.missing': 401,
  'auth.malformed': 400,
  'auth.mismatch': 401,
  'auth.wrong-portal': 403,
  'auth.unknown-device': 401,
  'auth.bad-signature': 401,
  'auth.stale': 401,
  'auth.replayed': 409,
  'auth.not-administrator': 403,
  'profile.invalid': 400,
  'profile.bad-signature': 400,
  'profile.wrong-signer': 403,
  'profile.too-large': 413,
  'publish.invalid': 400,
  'catalog.invalid': 400,
  'catalog.bad-signature': 400,
  'catalog.wrong-signer': 403,
  'inbound.invalid': 400,
  'inbound.bad-signature': 400,
  'inbound.wrong-sender': 403,
  'inbound.unknown-recipient': 404,
  'inbound.not-a-contact': 403,
  'inbound.blocked': 403,
  'inbound.duplicate': 409,
  'publish.not-allowed': 403,
  'persistence.conflict': 409,
  'pow.insufficient': 403,
  'not-found': 404,
  'rate.limited': 429,
  'quota.exceeded': 413,
  'log.pushback': 503,
  internal: 500,
};

/** Every code with its HTTP status (docs/PROTOCOL.md "Errors" lists the same table). */
export const GATEWAY_ERROR_STATUS: Readonly<Record<GatewayErrorCode, number>> = HTTP_STATUS;

export interface GatewayErrorDetails {
  readonly retryAfterSeconds?: number;
  /** The finer rule that was broken (a MeshError code, e.g. `persistence.inactive`). */
  readonly reason?: string;
}

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly details: GatewayErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}
