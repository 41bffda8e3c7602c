import { flattenedDecrypt, FlattenedJWE, GeneralEncrypt, GeneralJWE } from 'jose';
import { CryptoError } from './crypto-error';
import { AgreementKeyAlgorithm, checkKeyLength, KEY_PARAMETERS } from './key-algorithm';
import { keyUdf } from './key-fingerprint';
import { publicKeyOf } from './key-pair';
import { checkMembers, decodeMember, decodeProtectedHeader, importOkpKey, isJsonObject } from './jose-common';
import { parseUdf, udfMatches } from './udf';

/**
 * Private data (DESIGN.md "Profiles and keys": private parts of Application Profiles): RFC 7516 JWE in
 * the general JSON serialization (§7.2.1), encrypted once under a random content key with A256GCM and
 * that key wrapped for each recipient with ECDH-ES+A256KW (RFC 7518 §4.6) on X25519 or X448 (RFC 8037
 * §3.2). The protected header is {alg, enc[, cty]}; each recipient's unprotected header carries its `kid`
 * (the recipient key's UDF) and its ephemeral key `epk` — except that with a single recipient jose puts
 * `epk` in the protected header. Rules in docs/crypto.md "JWE profile".
 */

/** The only key management algorithm of the profile (RFC 7518 §4.6, RFC 8037 §3.2). */
export const JWE_ALG = 'ECDH-ES+A256KW';
/** The only content encryption algorithm of the profile (RFC 7518 §5.3). */
export const JWE_ENC = 'A256GCM';

/** A recipient's public key. */
export interface JweRecipient {
  readonly algorithm: AgreementKeyAlgorithm;
  readonly publicKey: Uint8Array;
}

/** The private key that decrypts; the public key is derived when not given. */
export interface JweDecryptionKey {
  readonly algorithm: AgreementKeyAlgorithm;
  readonly privateKey: Uint8Array;
  readonly publicKey?: Uint8Array;
}

function checkAgreementAlgorithm(algorithm: unknown): asserts algorithm is AgreementKeyAlgorithm {
  if (algorithm !== 'X25519' && algorithm !== 'X448') {
    throw new CryptoError(
      'key.unsupported-algorithm',
      `JWE keys are X25519 or X448, got ${String(algorithm)}`,
    );
  }
}

/**
 * Encrypts `plaintext` to every recipient (at least one, no key twice). Each encryption draws a fresh
 * content key, IV and ephemeral keys from the platform CSPRNG (inside jose).
 * Throws 'jwe.bad-recipients', 'key.unsupported-algorithm' or 'key.malformed'.
 */
export async function encryptJwe(
  plaintext: Uint8Array,
  recipients: readonly JweRecipient[],
  options: { contentType?: string } = {},
): Promise<GeneralJWE> {
  if (!(plaintext instanceof Uint8Array))
    throw new CryptoError('input.invalid', 'the plaintext must be a Uint8Array');
  if (recipients.length === 0)
    throw new CryptoError('jwe.bad-recipients', 'a JWE needs at least one recipient');
  const kids = new Set<string>();
  const encrypt = new GeneralEncrypt(plaintext).setProtectedHeader({
    alg: JWE_ALG,
    enc: JWE_ENC,
    ...(options.contentType === undefined ? {} : { cty: options.contentType }),
  });
  for (const recipient of recipients) {
    checkAgreementAlgorithm(recipient.algorithm);
    const kid = keyUdf(recipient.algorithm, recipient.publicKey);
    if (kids.has(kid)) throw new CryptoError('jwe.bad-recipients', `recipient ${kid} is listed twice`);
    kids.add(kid);
    const key = await importOkpKey(recipient.algorithm, JWE_ALG, recipient.publicKey);
    encrypt.addRecipient(key).setUnprotectedHeader({ kid });
  }
  return encrypt.encrypt();
}

/** The `kid`s of a JWE's recipients, in order, without decrypting. Throws 'jwe.malformed'. */
export function jweRecipientIds(jwe: unknown): string[] {
  return readJwe(jwe).recipients.map((r) => r.kid);
}

interface ParsedJwe {
  readonly common: Omit<FlattenedJWE, 'header' | 'encrypted_key'>;
  readonly recipients: { kid: string; header: Record<string, unknown>; encrypted_key: string }[];
}

function readJwe(jwe: unknown): ParsedJwe {
  if (!isJsonObject(jwe))
    throw new CryptoError('jwe.malformed', 'a JWE is a JSON object (general serialization)');
  checkMembers(jwe, ['protected', 'recipients', 'iv', 'ciphertext', 'tag'], 'the JWE', 'jwe.malformed');
  const header = decodeProtectedHeader(jwe.protected, 'jwe.malformed');
  if (header.alg !== JWE_ALG || header.enc !== JWE_ENC) {
    throw new CryptoError(
      'jwe.alg-not-allowed',
      `alg/enc must be ${JWE_ALG}/${JWE_ENC}, got ${String(header.alg)}/${String(header.enc)}`,
    );
  }
  checkMembers(header, ['alg', 'enc', 'cty', 'epk'], 'the protected header', 'jwe.malformed');
  for (const name of ['iv', 'ciphertext', 'tag'])
    decodeMember(jwe[name], `the JWE "${name}"`, 'jwe.malformed');
  const list = jwe.recipients;
  if (!Array.isArray(list) || list.length === 0)
    throw new CryptoError('jwe.malformed', 'the JWE has no recipients');
  if (header.epk !== undefined && list.length > 1) {
    throw new CryptoError('jwe.malformed', 'a protected "epk" is shared by several recipients');
  }
  const recipients = list.map((recipient: unknown, index) => {
    if (
      !isJsonObject(recipient) ||
      !isJsonObject(recipient.header) ||
      typeof recipient.header.kid !== 'string'
    ) {
      throw new CryptoError('jwe.malformed', `recipient ${index} has no header with a "kid"`);
    }
    checkMembers(recipient, ['header', 'encrypted_key'], `recipient ${index}`, 'jwe.malformed');
    checkMembers(recipient.header, ['kid', 'epk'], `recipient ${index}'s header`, 'jwe.malformed');
    // Each recipient's ephemeral key is in exactly one place: the protected header when it is the only
    // recipient (jose's layout), its own header otherwise (RFC 7518 §4.6.1.1 allows either).
    const inProtected = header.epk !== undefined;
    if (
      !isJsonObject(inProtected ? header.epk : recipient.header.epk) ||
      (inProtected && recipient.header.epk !== undefined)
    ) {
      throw new CryptoError('jwe.malformed', `recipient ${index} does not have exactly one "epk"`);
    }
    decodeMember(recipient.encrypted_key, `recipient ${index}'s encrypted_key`, 'jwe.malformed');
    return {
      kid: recipient.header.kid,
      header: recipient.header,
      encrypted_key: recipient.encrypted_key as string,
    };
  });
  return {
    common: {
      protected: jwe.protected as string,
      iv: jwe.iv as string,
      ciphertext: jwe.ciphertext as string,
      tag: jwe.tag as string,
    },
    recipients,
  };
}

/**
 * Decrypts a JWE of this profile with one recipient's private key: finds the recipient entry whose
 * `kid` is this key's UDF and decrypts only that one. Reports, in this order:
 *   'jwe.malformed'       not a general JWE of this profile (unknown members or header parameters too)
 *   'jwe.alg-not-allowed' alg/enc other than ECDH-ES+A256KW/A256GCM
 *   'jwe.no-recipient'    no entry for this key
 *   'jwe.decrypt-failed'  the entry is there but unwrapping or authenticated decryption fails
 * Throws 'key.unsupported-algorithm' / 'key.malformed' for a bad key.
 */
export async function decryptJwe(jwe: unknown, key: JweDecryptionKey): Promise<Uint8Array> {
  checkAgreementAlgorithm(key.algorithm);
  const publicKey = key.publicKey ?? publicKeyOf(key.algorithm, key.privateKey);
  checkKeyLength(`${key.algorithm} public key`, publicKey, KEY_PARAMETERS[key.algorithm].publicKeyLength);
  const parsed = readJwe(jwe);
  const ownKid = keyUdf(key.algorithm, publicKey, { bits: 520 });
  const entry = parsed.recipients.find((r) => {
    try {
      return udfMatches(parseUdf(r.kid), ownKid);
    } catch {
      return false; // a kid that is no UDF names some other key
    }
  });
  if (entry === undefined) {
    throw new CryptoError(
      'jwe.no-recipient',
      `no recipient entry for key ${keyUdf(key.algorithm, publicKey)}`,
    );
  }
  const joseKey = await importOkpKey(key.algorithm, JWE_ALG, publicKey, key.privateKey);
  try {
    const result = await flattenedDecrypt(
      { ...parsed.common, header: entry.header, encrypted_key: entry.encrypted_key },
      joseKey,
      { keyManagementAlgorithms: [JWE_ALG], contentEncryptionAlgorithms: [JWE_ENC] },
    );
    // jose's Node build answers a Buffer; callers get a plain Uint8Array on every platform.
    return new Uint8Array(result.plaintext);
  } catch (cause) {
    throw new CryptoError('jwe.decrypt-failed', `cannot decrypt for ${entry.kid}: ${String(cause)}`, {
      cause,
    });
  }
}
