import { GatewayError } from './gateway-error';

/**
 * The Mesh JSON web service binding (DESIGN.md "HTTP"): a request body is one JSON object with
 * exactly one member `<Name>Request` whose value is an object; the answer is `<Name>Response`
 * with `Status` (the HTTP status, as a number) and `StatusDescription`, plus the transaction's
 * fields. When the name cannot be read the answer is an `ErrorResponse`.
 */
export interface MeshRequest {
  readonly name: string;
  readonly body: Readonly<Record<string, unknown>>;
}

const NAME = /^[A-Z][A-Za-z]{1,63}$/;

/** Parses the raw body; throws GatewayError `request.malformed` for anything not an envelope. */
export function parseEnvelope(raw: Uint8Array): MeshRequest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (error) {
    throw new GatewayError('request.malformed', `the body is not UTF-8 JSON: ${describe(error)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('request.malformed', 'the body must be a JSON object {"<Name>Request": {...}}');
  }
  const keys = Object.keys(value);
  if (keys.length !== 1 || !keys[0]!.endsWith('Request')) {
    throw new GatewayError(
      'request.malformed',
      `the body must have exactly one member named <Name>Request, found ${keys.length === 0 ? 'none' : keys.map((k) => JSON.stringify(k)).join(', ')}`,
    );
  }
  const member = keys[0]!;
  const name = member.slice(0, -'Request'.length);
  if (!NAME.test(name))
    throw new GatewayError('request.malformed', `${JSON.stringify(member)} is not a transaction name`);
  const body = (value as Record<string, unknown>)[member];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('request.malformed', `${member} must be a JSON object`);
  }
  return { name, body: body as Record<string, unknown> };
}

/**
 * The media type of a request: `application/json`, UTF-8 (RFC 8259 §8.1). A `charset` parameter
 * other than UTF-8 is refused with `request.unsupported-media-type` (415) rather than read as UTF-8
 * under another name (issue #16); no charset means UTF-8.
 */
export function checkCharset(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1];
  if (charset !== undefined && !/^utf-?8$/i.test(charset))
    throw new GatewayError(
      'request.unsupported-media-type',
      `the body must be UTF-8 JSON; charset=${charset.slice(0, 40)} is not accepted`,
    );
}

export interface MeshResponseFields {
  readonly [field: string]: unknown;
}

/** `{"<Name>Response": {"Status": 200, "StatusDescription": "OK", ...fields}}`. */
export function successEnvelope(
  name: string,
  fields: MeshResponseFields,
  status = 200,
): Record<string, unknown> {
  return { [`${name}Response`]: { Status: status, StatusDescription: 'OK', ...fields } };
}

/** The answer to a refused request: the Mesh status, a sentence for people, and the stable code. */
export function errorEnvelope(name: string | undefined, error: GatewayErrorLike): Record<string, unknown> {
  return {
    [`${name ?? 'Error'}Response`]: {
      Status: error.httpStatus,
      StatusDescription: error.message,
      Error: error.code,
      ...(error.details?.reason === undefined ? {} : { Reason: error.details.reason }),
    },
  };
}

export interface GatewayErrorLike {
  readonly httpStatus: number;
  readonly code: string;
  readonly message: string;
  readonly details?: { readonly reason?: string };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
