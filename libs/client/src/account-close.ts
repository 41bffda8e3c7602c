import type { AccountSession } from './account-session';
import { isClientError } from './client-error';
import { portalErrorCode } from './gateway-client';
import type { MeshProfileManager } from './profile-manager';
import { flatJws, requireAdministrator, type ActiveProfile } from './profile-document';

/**
 * MoveAccount (docs/PROTOCOL.md): closes the account at the session's portal, naming its new home by
 * log origin `to` (federation.md "Which value is current"). Signed by this device, which MUST be an
 * administrator (the portal refuses `auth.not-administrator` otherwise). Resolves with what happened:
 * `closed` — the record is logged now, or the portal answered `account.moved` (closed before: a resumed
 * switch, or another administrator's); `unreachable` — the old portal did not answer, and the account
 * there stays open until a later switch closes it. Any other refusal rejects.
 */
export async function moveAccount(session: AccountSession, to: string): Promise<'closed' | 'unreachable'> {
  const record = await session.authorise({ operation: 'MoveAccount', account: session.accountUdf, to });
  try {
    await session.gateway.send('MoveAccount', {
      Account: session.account,
      To: to,
      Authorisation: flatJws(record.authorisation),
    });
  } catch (error) {
    if (portalErrorCode(error) === 'account.moved') return 'closed';
    if (isClientError(error, 'portal.unreachable')) return 'unreachable';
    throw error;
  }
  return 'closed';
}

/**
 * `mesh account delete` (DeleteAccount, docs/PROTOCOL.md): deletes the account at its home portal —
 * every object of it becomes inactive and the deletion is logged; the address stays assigned there
 * for ever (another portal may register it: a new account, a new fingerprint); the account's pending
 * connection requests are rejected; its escrow blobs stay, anonymous (docs/decisions.md "#19").
 * This device MUST be an administrator (`usage.invalid` before anything is sent). The local state is
 * kept (the keys may still open escrowed data); every later request for the account is refused by the
 * portal (`account.unknown`).
 */
export async function deleteAccount(manager: MeshProfileManager): Promise<ActiveProfile> {
  const { doc, session } = await manager.open();
  requireAdministrator(doc, session.deviceId, `cannot delete ${doc.account}`);
  const record = await session.authorise({ operation: 'DeleteAccount', account: doc.accountUdf });
  await session.gateway.send('DeleteAccount', {
    Account: doc.account,
    Authorisation: flatJws(record.authorisation),
  });
  return doc;
}
