import { BoundedMemo } from './bounded-memo';
import { utf8 } from './bytes';
import { contentDigestUdf } from './content-digest';
import { CryptoError } from './crypto-error';

/**
 * The Content-ID of an account UDF (docs/crypto.md "Account UDF"). A distinct Content-ID keeps an
 * account's fingerprint from ever equalling the fingerprint of the same bytes as any other content
 * (draft-hallambaker-mesh-udf-13 §3.3, §8.5).
 */
export const ACCOUNT_CONTENT_ID = 'MeshAccount';

/** An account address `user@domain` (002_17b4bc3c2303ddb1.txt §3.3.2), normalised to lower case. */
export interface AccountAddress {
  readonly user: string;
  readonly domain: string;
  /** `${user}@${domain}`: the normal form, the only one an account UDF is computed over. */
  readonly address: string;
}

const USER = /^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** What a refusal tells the user (issue #16: "only printable ASCII" was said of a space or an apostrophe). */
const ALLOWED =
  'a user name is 1–64 of a–z 0–9 . _ + - starting and ending with a letter or digit, a domain is labels of a–z 0–9 - joined by "."';
const MAX_ADDRESS_LENGTH = 254; // RFC 5321 §4.5.3.1.3: a 256-octet path less its angle brackets

/**
 * Parses `user@domain` and normalises it to lower case. The grammar (docs/crypto.md) is deliberately
 * narrower than RFC 5322, because portals assign account names (002 §3.3.2):
 *   user   = 1–64 of [a-z0-9._+-], starting and ending with a letter or digit, no ".."
 *   domain = LDH labels of 1–63 characters joined by "." (internationalised names as A-labels, "xn--…")
 *   whole  ≤ 254 characters; ASCII only; compared case-insensitively.
 * Throws CryptoError 'account.malformed' for anything else.
 */
export function parseAccountAddress(text: string): AccountAddress {
  const fail = (why: string): never => {
    throw new CryptoError('account.malformed', `not an account address (${why}): ${JSON.stringify(text)}`);
  };
  if (typeof text !== 'string') return fail('not a string');
  if (text.length > MAX_ADDRESS_LENGTH) fail(`longer than ${MAX_ADDRESS_LENGTH} characters`);
  const stray = /[^A-Za-z0-9._+@-]/.exec(text)?.[0];
  if (stray !== undefined)
    fail(
      `${JSON.stringify(stray)} (U+${stray.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not allowed; ${ALLOWED}`,
    );
  const lower = text.toLowerCase();
  const at = lower.indexOf('@');
  if (at < 0 || at !== lower.lastIndexOf('@')) fail('expected exactly one "@"');
  const user = lower.slice(0, at);
  const domain = lower.slice(at + 1);
  if (!USER.test(user) || user.includes('..')) fail(`bad user name; ${ALLOWED}`);
  if (domain.length > 253 || !domain.split('.').every((label) => LABEL.test(label)))
    fail(`bad domain name; ${ALLOWED}`);
  return { user, domain, address: `${user}@${domain}` };
}

/** The normal form of an account address; throws 'account.malformed' like parseAccountAddress. */
export function normaliseAccountAddress(text: string): string {
  return parseAccountAddress(text).address;
}

/** Account UDFs at the default precision, by the address given (at most 254 characters are kept). */
const accountUdfs = new BoundedMemo<string, string>(4096, 254);

/**
 * The account's UDF: the SHA-2-512 content digest, Content-ID 'MeshAccount', of the UTF-8 of the
 * normalised address (default 140 bits). Addresses that differ only in case have the same UDF. This is
 * the only form of an account that enters a log (DESIGN.md "Vocabulary"); it hides the address from a
 * reader of the log, not from someone who can guess it (docs/crypto.md).
 * Throws 'account.malformed' or 'udf.bad-precision'.
 */
export function accountUdf(account: string | AccountAddress, options: { bits?: number } = {}): string {
  const text: unknown = typeof account === 'string' ? account : account.address;
  const compute = (): string =>
    contentDigestUdf(utf8(normaliseAccountAddress(text as string)), ACCOUNT_CONTENT_ID, {
      algorithm: 'SHA-2-512',
      bits: options.bits,
    });
  // Every request names its account, and a portal serves few accounts many times (issue #17): the
  // default precision's answer is kept by the address as given.
  return typeof text === 'string' && options.bits === undefined ? accountUdfs.get(text, compute) : compute();
}
