import { AccountAddress, parseAccountAddress } from './account';
import { CryptoError, isCryptoError } from './crypto-error';
import { parseUdf } from './udf';

/** A parsed `mmm:` URI (002_17b4bc3c2303ddb1.txt §3.3.3): a profile fingerprint and optionally an account. */
export interface MeshUri {
  /** The profile's fingerprint, a content digest UDF in canonical presentation (upper case, groups of 4). */
  readonly fingerprint: string;
  readonly account?: AccountAddress;
}

/**
 * Parses `mmm:<fingerprint>[:<account>]` (002 §3.3.3: meshuri = "mmm:" fingerprint [":" meshid]).
 * The scheme is case-insensitive (RFC 3986 §3.1); the fingerprint is parsed as a UDF (any case, any
 * dashes) and MUST be a content digest; the account, when present, MUST be a full `user@domain`
 * (docs/crypto.md: a bare user name would be ambiguous across portals). Throws CryptoError
 * 'uri.malformed', with the UDF or account error as `cause` when one of the parts is at fault.
 */
export function parseMeshUri(text: string): MeshUri {
  if (typeof text !== 'string' || !/^mmm:/i.test(text)) {
    throw new CryptoError('uri.malformed', `not an mmm: URI: ${JSON.stringify(text)}`);
  }
  const parts = text.slice(4).split(':');
  if (parts.length > 2 || parts[0] === undefined || parts[0] === '') {
    throw new CryptoError('uri.malformed', `expected mmm:<fingerprint>[:<account>]: ${JSON.stringify(text)}`);
  }
  try {
    const udf = parseUdf(parts[0]);
    if (udf.kind !== 'content-digest') {
      throw new CryptoError(
        'udf.wrong-type',
        `the fingerprint of an mmm: URI is a content digest UDF: ${udf.text}`,
      );
    }
    const account = parts[1] === undefined ? undefined : parseAccountAddress(parts[1]);
    return account === undefined ? { fingerprint: udf.text } : { fingerprint: udf.text, account };
  } catch (cause) {
    if (!isCryptoError(cause)) throw cause;
    throw new CryptoError('uri.malformed', `bad mmm: URI ${JSON.stringify(text)}: ${cause.message}`, {
      cause,
    });
  }
}

/**
 * The canonical text of an `mmm:` URI: lower-case scheme, the fingerprint in canonical presentation,
 * the account normalised. parseMeshUri(formatMeshUri(u)) equals u. Throws like parseMeshUri.
 */
export function formatMeshUri(uri: { fingerprint: string; account?: string | AccountAddress }): string {
  const account = typeof uri.account === 'string' ? uri.account : uri.account?.address;
  const parsed = parseMeshUri(`mmm:${uri.fingerprint}${account === undefined ? '' : `:${account}`}`);
  return `mmm:${parsed.fingerprint}${parsed.account === undefined ? '' : `:${parsed.account.address}`}`;
}
