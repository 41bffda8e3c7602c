/**
 * Why the gateway refused a request. Each code maps to one HTTP status and is returned to the
 * client as `Error` beside the Mesh `Status`/`StatusDescription` (docs/PROTOCOL.md "Errors").
 * A refused request changed nothing (DESIGN.md invariant 4).
 */
export type GatewayErrorCode =
  | 'request.malformed' // not JSON, or not a {"<Name>Request": {...}} envelope
  | 'request.invalid' // a field is missing or of the wrong type
  | 'request.too-large' // the body exceeds MAX_REQUEST_BYTES
  | 'request.unknown-transaction'
  | 'request.unsupported-media-type'
  | 'rate.limited'
  | 'internal';

const HTTP_STATUS: Record<GatewayErrorCode, number> = {
  'request.malformed': 400,
  'request.invalid': 400,
  'request.too-large': 413,
  'request.unknown-transaction': 404,
  'request.unsupported-media-type': 415,
  'rate.limited': 429,
  internal: 500,
};

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly details: { readonly retryAfterSeconds?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}
