import type { AccountSession } from './account-session';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import { DEVICE_KEYS_DOCUMENT, MASTER_KEY_DOCUMENT } from './device-keys';
import { portalErrorCode } from './gateway-client';
import { registerAccount } from './portal-switch';
import { PROFILE_DOCUMENT, type ActiveProfile } from './profile-document';

/**
 * The first CreateAccount of a new profile (`doc`, status `registering`, its keys in `store`). When
 * the address belongs to another account (registerAccount already told a resumed registration of
 * this very account from that), nothing of this registration exists anywhere but here: the profile
 * and its keys are removed, so the home is as it was before and free for another address (issue #16:
 * it refused every other address, with no way out), and the refusal says so. Any other failure
 * leaves the `registering` profile for the next attempt.
 */
export async function registerOrDiscard(
  store: ClientStore,
  session: AccountSession,
  doc: ActiveProfile,
  proofOfWorkLevel: number,
): Promise<void> {
  try {
    await registerAccount(session, doc, [doc.device], proofOfWorkLevel);
  } catch (error) {
    if (portalErrorCode(error) !== 'account.exists') throw error;
    await discardRegistration(store);
    const refused = error as ClientError;
    throw new ClientError(
      'portal.refused',
      `the address ${doc.account} is taken on this portal (account.exists); this home was left as before: run this command again with another --account`,
      {
        cause: error,
        ...(refused.portal === undefined ? {} : { portal: refused.portal }),
        ...(refused.check === undefined ? {} : { check: refused.check }),
        ...(refused.evidence === undefined ? {} : { evidence: refused.evidence }),
      },
    );
  }
}

/** Removes a `registering` profile and the keys made for it. */
async function discardRegistration(store: ClientStore): Promise<void> {
  await store.remove(PROFILE_DOCUMENT);
  await store.remove(MASTER_KEY_DOCUMENT);
  await store.remove(DEVICE_KEYS_DOCUMENT);
}
