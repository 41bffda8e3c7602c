import {
  accountUdf,
  DEFAULT_UDF_BITS,
  isCryptoError,
  parseMeshUri,
  parseUdf,
  type Udf,
} from '@cryptomesh/crypto';
import { QueryError } from './query-error';

/** How a request names a profile: its UDF, and the account UDF when an `mmm:` URI names one. */
export interface ProfileName {
  readonly udf: Udf;
  /** The account's UDF (`accountUdf` of the URI's address): only that account's catalog is searched. */
  readonly account?: string;
  /**
   * The canonical presentation of the UDF's first 140 bits (at most): profile identifiers are
   * 140-bit UDFs, so every identifier this name matches by the prefix rule starts with it.
   */
  readonly prefix: string;
}

/**
 * Reads `<udf>`, `mmm:<udf>` or `mmm:<udf>:<account>` (002_17b4bc3c2303ddb1.txt §3.3.3; DESIGN.md
 * "Profiles and keys"): UDFs in any case, dashes optional, at any precision the UDF rules allow.
 * Profile identifiers are content digest UDFs. MUST throw QueryError `profile.bad-id` otherwise.
 */
export function parseProfileName(text: string): ProfileName {
  try {
    let udf: Udf;
    let account: string | undefined;
    if (/^mmm:/i.test(text)) {
      const uri = parseMeshUri(text);
      udf = parseUdf(uri.fingerprint);
      account = uri.account === undefined ? undefined : accountUdf(uri.account);
    } else {
      udf = parseUdf(text);
    }
    if (udf.kind !== 'content-digest')
      throw new QueryError('profile.bad-id', `a profile identifier is a content digest UDF, not ${udf.kind}`);
    const prefix = parseUdf(udf.characters.slice(0, DEFAULT_UDF_BITS / 5)).text;
    return account === undefined ? { udf, prefix } : { udf, account, prefix };
  } catch (cause) {
    if (!isCryptoError(cause)) throw cause;
    throw new QueryError(
      'profile.bad-id',
      `not a profile UDF or mmm: URI: ${JSON.stringify(text.slice(0, 120))}: ${cause.message}`,
    );
  }
}
