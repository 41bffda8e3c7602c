import { fromBase64Url, keyUdf, type FlattenedJws } from '@cryptomesh/crypto/portable';
import type { MasterProfile, SignedProfile } from '@cryptomesh/mesh';
import { ClientError } from './client-error';
import { parseJson } from './device-keys';
import { loadTrust } from './log-check';
import { keepRestored, RESTORE_REQUEST_DOCUMENT, restoreKey } from './online-escrow';
import { openRestorePackage, restoreRequestDigest, type RestorePackage } from './online-escrow-consent';
import type { MeshProfileManager, PortalOptions } from './profile-manager';
import { fetchVerifiedProfile } from './verified-profile';

/**
 * `mesh escrow online open` (the new device; issue #19 item 3, review finding 4; docs/decisions.md
 * "Online escrow"): a package is accepted only when made by the agent the account's Master Profile
 * names, for the request this home made. The account and fingerprint come from that request (this
 * device's own input, kept in `restore-request.json`), the Master Profile from the portal's log by a
 * verified read (a portal can serve an older genuine Master Profile at worst, never another agent
 * key: the profile is signed by the master key the fingerprint names), and the package's MAC is
 * checked with the agent's key from its `Escrow` entry (openRestorePackage). Nothing is written to
 * `restored/` unless every check passed.
 */
export async function openForRequest(
  manager: MeshProfileManager,
  text: string,
  options: PortalOptions,
): Promise<RestorePackage & { readonly deviceKey: string; readonly agent: string }> {
  const store = manager.store;
  const key = await restoreKey(store);
  const stored = await store.read(RESTORE_REQUEST_DOCUMENT);
  if (stored === undefined)
    throw new ClientError(
      'state.missing',
      `no ${RESTORE_REQUEST_DOCUMENT}: this home made no restore request`,
      {
        check: RESTORE_REQUEST_DOCUMENT,
      },
    );
  const jws = parseJson(stored, RESTORE_REQUEST_DOCUMENT) as FlattenedJws;
  let account: unknown;
  let fingerprint: unknown;
  try {
    const payload = JSON.parse(new TextDecoder().decode(fromBase64Url(jws.payload))) as Record<
      string,
      unknown
    >;
    ({ Account: account, Fingerprint: fingerprint } = payload);
  } catch {
    // refused below
  }
  if (typeof account !== 'string' || typeof fingerprint !== 'string')
    throw new ClientError('state.corrupt', `${RESTORE_REQUEST_DOCUMENT} is not a restore request`, {
      check: RESTORE_REQUEST_DOCUMENT,
    });
  let agent = '';
  /** The agent's key from the Master Profile the portal's log holds (a verified read). */
  const agentKey = async (): Promise<Uint8Array> => {
    let trust = await loadTrust(store);
    if (trust === undefined) {
      const hello = await manager.gateway(options.gatewayUrl).hello();
      trust = (await manager.discover(options, hello.portalId, hello.queryUrl)).trust;
    }
    const master = (
      await fetchVerifiedProfile(`mmm:${fingerprint}:${account}`, {
        trust,
        via: trust.home,
        store,
        kind: 'master',
        ...(manager.options.fetchImpl === undefined ? {} : { fetchImpl: manager.options.fetchImpl }),
      })
    ).signed as SignedProfile<MasterProfile>;
    const escrow = master.profile.escrow;
    if (escrow === undefined || escrow.algorithm !== 'X25519')
      throw new ClientError(
        'usage.invalid',
        `restore package refused: ${fingerprint} names no escrow agent now`,
        { check: 'restore package agent' },
      );
    agent = keyUdf('X25519', escrow.publicKey);
    return escrow.publicKey;
  };
  const opened = await openRestorePackage(text, key, {
    agent: agentKey,
    binding: { account, fingerprint, requestDigest: restoreRequestDigest(jws) },
  });
  await keepRestored(store, opened.applications);
  return { ...opened, agent };
}
