import { accountUdf, normaliseAccountAddress, parseMeshUri } from '@cryptomesh/crypto';
import { GatewayError } from './gateway-error';
import { toGatewayError } from './mesh-error-map';
import { controlCharacterIn, REQUEST_ID } from './text-rules';

/**
 * Reads the fields of a request body, refusing with `request.invalid` (400) a missing field, a
 * field of the wrong type, or a field the transaction does not define — so a request means exactly
 * what the gateway read. Every string field of the protocol is an identifier, an address or
 * base64url: a string with a control character (a NUL reached PostgreSQL, issue #16) is refused
 * with `request.control-character` before it is used.
 */
export class RequestFields {
  constructor(
    readonly body: Readonly<Record<string, unknown>>,
    private readonly transaction: string,
  ) {}

  /** Refuses any member not in `names`. */
  allow(names: readonly string[]): this {
    const extra = Object.keys(this.body).filter((k) => !names.includes(k));
    if (extra.length > 0)
      this.fail(
        `${extra.map((k) => JSON.stringify(k)).join(', ')} ${extra.length === 1 ? 'is' : 'are'} not a field`,
      );
    return this;
  }

  has(name: string): boolean {
    return this.body[name] !== undefined;
  }

  string(name: string): string {
    const value = this.body[name];
    if (typeof value !== 'string' || value === '') this.fail(`"${name}" must be a non-empty string`);
    const control = controlCharacterIn(value);
    if (control !== undefined)
      throw new GatewayError(
        'request.control-character',
        `${this.transaction}: "${name}" contains the control character ${control}`,
      );
    return value;
  }

  /** A connection request id as ConnectStart issued it (22 base64url characters), else `request.invalid`. */
  requestId(name: string): string {
    const value = this.string(name);
    if (!REQUEST_ID.test(value))
      this.fail(
        `"${name}" must be a request id as ConnectStart answered it (22 characters of A–Z a–z 0–9 - _)`,
      );
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  boolean(name: string): boolean {
    const value = this.body[name];
    if (typeof value !== 'boolean') this.fail(`"${name}" must be true or false`);
    return value;
  }

  object(name: string): Record<string, unknown> {
    const value = this.body[name];
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(`"${name}" must be a JSON object`);
    return value as Record<string, unknown>;
  }

  array(name: string, max: number): unknown[] {
    const value = this.body[name];
    if (!Array.isArray(value)) this.fail(`"${name}" must be an array`);
    if ((value as unknown[]).length > max) this.fail(`"${name}" has more than ${max} elements`);
    return value as unknown[];
  }

  /** The body without `name` (what a signed request's `Body` digest covers). */
  without(name: string): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this.body).filter(([k]) => k !== name));
  }

  fail(why: string): never {
    throw new GatewayError('request.invalid', `${this.transaction}: ${why}`);
  }
}

/** An account as a request names it: the address, or an `mmm:<fingerprint>:<address>` URI. */
export interface AccountName {
  /** The normalised address. */
  readonly address: string;
  /** accountUdf(address): the only form that enters the log. */
  readonly udf: string;
  /** The fingerprint of a strong `mmm:` name: the account's Master Profile identifier MUST equal it. */
  readonly fingerprint?: string;
}

/** Reads an account address or an `mmm:` URI naming one (002 §3.3.3); `account.invalid` (400) otherwise. */
export function readAccountName(value: string): AccountName {
  try {
    if (/^mmm:/i.test(value)) {
      const uri = parseMeshUri(value);
      if (uri.account === undefined)
        throw new GatewayError('account.invalid', `${value} names a profile, not an account`);
      return { address: uri.account.address, udf: accountUdf(uri.account), fingerprint: uri.fingerprint };
    }
    const address = normaliseAccountAddress(value);
    return { address, udf: accountUdf(address) };
  } catch (error) {
    const refusal = toGatewayError(error);
    if (refusal instanceof GatewayError && refusal.code === 'request.invalid')
      throw new GatewayError('account.invalid', refusal.message, refusal.details, { cause: error });
    throw refusal;
  }
}

/** `profile.too-large` (413) when the JSON of a signed profile exceeds `maxBytes`. */
export function checkProfileSize(value: unknown, maxBytes: number, what: string): void {
  const size = new TextEncoder().encode(JSON.stringify(value)).length;
  if (size > maxBytes)
    throw new GatewayError(
      'profile.too-large',
      `${what} is ${size} bytes; the portal's limit is ${maxBytes} (MaxProfileBytes)`,
    );
}
