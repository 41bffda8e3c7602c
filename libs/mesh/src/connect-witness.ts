import { contentDigestUdf, fromBase64Url, toBase64Url, type RandomSource } from '@cryptomesh/crypto/portable';
import { canonicalJson } from './json';
import { MeshError } from './mesh-error';
import type { DeviceProfile } from './profile-types';

/**
 * The device-connection witness (002 §2.1.1; DESIGN.md "HTTP": "computed by each device from what it
 * knows itself, never taken from the portal"). The user compares the short code the new device shows
 * with the one the administrator device shows before accepting. Both compute it from:
 *   - the account's UDF (the account the new device asked to join),
 *   - the new device's Device Profile: its id and the UDFs of its signature and encryption keys (what
 *     the administrator is about to list in the Personal Profile and encrypt to),
 *   - a nonce of CONNECT_NONCE_BYTES that the NEW device chose at random and sent with ConnectStart,
 *     which the portal only relays.
 * A portal that lists its own device under the request (or changes the nonce) makes the administrator
 * compute a different witness from what the real device shows; to make them agree it would have to find
 * a key whose 100-bit witness collides with the real one for a nonce it cannot choose (the new device
 * chose it) — a second preimage of a 100-bit digest.
 */

/** The Content-ID of a connection witness digest. */
export const CONNECT_WITNESS_CONTENT_ID = 'MeshConnectWitness';
/** How many random bytes the new device puts in its nonce. */
export const CONNECT_NONCE_BYTES = 16;
/** Precision of the witness UDF, in bits: short enough to read aloud, long enough not to collide. */
export const CONNECT_WITNESS_BITS = 100;

/** A fresh connection nonce (base64url) from `random`, which MUST be a CSPRNG outside tests. */
export function connectNonce(random: RandomSource): string {
  return toBase64Url(random(CONNECT_NONCE_BYTES));
}

/**
 * Checks that `nonce` is base64url of exactly CONNECT_NONCE_BYTES bytes, and returns it. Throws
 * 'connect.bad-nonce' otherwise (a gateway refuses such a ConnectStart; an administrator device
 * refuses such a pending request, whose witness it cannot compute).
 */
export function readConnectNonce(nonce: unknown): string {
  const bytes = typeof nonce === 'string' ? fromBase64Url(nonce) : undefined;
  if (bytes === undefined || bytes.length !== CONNECT_NONCE_BYTES)
    throw new MeshError(
      'connect.bad-nonce',
      `a connection nonce is base64url of ${CONNECT_NONCE_BYTES} bytes, got ${JSON.stringify(nonce)}`,
    );
  return nonce as string;
}

/**
 * The witness of a connection request: a 100-bit content digest UDF (Content-ID 'MeshConnectWitness')
 * of the JCS of {Account, Device, Signature, Encryption, Nonce}. Pure and deterministic: both devices
 * MUST get the same text from the same inputs. Throws 'connect.bad-nonce' for a malformed nonce.
 */
export function connectWitness(accountUdf: string, device: DeviceProfile, nonce: string): string {
  return contentDigestUdf(
    canonicalJson({
      Account: accountUdf,
      Device: device.id,
      Signature: device.signature.udf,
      Encryption: device.encryption.udf,
      Nonce: readConnectNonce(nonce),
    }),
    CONNECT_WITNESS_CONTENT_ID,
    { bits: CONNECT_WITNESS_BITS },
  );
}
