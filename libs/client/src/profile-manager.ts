import {
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  type JsonObject,
  type MasterProfile,
  type PublicKeyInput,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { AccountSession, type SessionEnvironment } from './account-session';
import {
  acceptDevice,
  clearPendingDevices,
  listDevices,
  pendingDevices,
  removeDevice,
  type DeviceInfo,
  type PendingDevice,
} from './device-admin';
import { deleteAccount } from './account-close';
import { demoteDevice, nextMasterProfile, promoteDevice } from './administrator-rights';
import { registerOrDiscard } from './account-registration';
import { switchPortal } from './portal-switch';
import { connectionStatus, startConnection } from './device-connection';
import { readApplicationData, writeApplicationData } from './application-access';
import type { ApplicationContent } from './application-data';
import type { CatalogMoveOutcome } from './catalog-move';
import type { CatalogSyncOutcome } from './catalog-sync';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import {
  generateDeviceKeys,
  generateMasterKey,
  loadDeviceKeys,
  saveDeviceKeys,
  saveMasterKey,
  type DeviceKeys,
} from './device-keys';
import { GatewayClient } from './gateway-client';
import { loadTrust, saveTrust, verifiedLogCheck } from './log-check';
import type { FetchLike } from './portal-http';
import {
  accountName,
  readProfileDocument,
  requireActiveProfile,
  writeProfileDocument,
  type ActiveProfile,
  type PortalRef,
  type ProfileDocument,
} from './profile-document';
import type { ProofSource } from './query-client';
import { discoverTrust, type PortalTrust } from './trust';

export interface ProfileManagerOptions extends SessionEnvironment {
  readonly fetchImpl?: FetchLike;
  /** Bound on each HTTP request. */
  readonly timeoutMs?: number;
  /**
   * Verify every profile read through the home portal's log (client.md "Verified reads"). Default
   * true; false only trusts the signatures and signing rules (tests of a gateway without a log-signer).
   */
  readonly verifyLog?: boolean;
  /** How long a verified read waits for the log to show what the gateway served (log-check.ts). */
  readonly logWaitMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where verified reads take their proofs from (`ProofSource`; default `auto`: tiles when served). */
  readonly proofs?: ProofSource;
}

/** Where a profile is registered: the gateway, and the query service (default: Hello's, else the gateway). */
export interface PortalOptions {
  readonly gatewayUrl: string;
  readonly queryUrl?: string;
}

/** An opened profile: the checked state and a session of this device with the home portal. */
export interface OpenProfile {
  readonly doc: ActiveProfile;
  readonly session: AccountSession;
}

/**
 * The Mesh profile manager (002 §2.1.1) over a ClientStore and the home portal: creates a profile,
 * connects devices, lists/accepts/rejects/removes them, and keeps applications readable by exactly the
 * connected devices. Every profile it reads from the portal is checked (signing rules, the pinned
 * fingerprint, sequences that never go back) and, unless `verifyLog` is false, verified through the
 * portal's log. Errors are ClientError: `usage.invalid` for what cannot be done here (with the reason),
 * `state.*` for local state, `portal.*` and `verify.*` for what the portal did.
 *
 * Not safe for concurrent use on one store: the CLI runs one command at a time. Two devices writing
 * one application at once: the last write wins (Publish has no compare-and-swap).
 */
export class MeshProfileManager {
  constructor(
    readonly store: ClientStore,
    readonly options: ProfileManagerOptions = {},
  ) {}

  private get now(): () => number {
    return this.options.now ?? (() => Date.now());
  }

  /** A gateway client of `gatewayUrl` with this manager's fetch and timeout. */
  gateway(gatewayUrl: string): GatewayClient {
    return new GatewayClient(gatewayUrl, this.options.fetchImpl, {
      ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
    });
  }

  /**
   * Quick start (002 §2.1.1): master, personal and device keys and profiles, CreateAccount (with the
   * proof of work the portal's Hello demands) and the pinned trust. Resolves with the profile
   * fingerprint — the Master Profile's UDF, which never changes. Every key and profile is written
   * before CreateAccount is sent: a crash before the answer leaves a `registering` profile that the
   * next createProfile on this home sends again. `usage.invalid` when this home holds a profile.
   */
  async createProfile(
    options: PortalOptions & { readonly account: string; readonly description?: string },
  ): Promise<{ fingerprint: string; account: string; deviceId: string; portal: PortalRef }> {
    const existing = await readProfileDocument(this.store);
    if (existing !== undefined && existing.status !== 'registering')
      throw new ClientError('usage.invalid', `this home already holds the profile of ${existing.account}`, {
        check: 'local state',
      });
    const name = accountName(options.account);
    if (existing !== undefined && existing.account !== name.account)
      throw new ClientError(
        'usage.invalid',
        `this home is registering ${existing.account}, not ${name.account} (its CreateAccount may have reached the portal): run this command with --account ${existing.account} to finish, or use another home for ${name.account}`,
      );
    const gateway = this.gateway(options.gatewayUrl);
    const hello = await gateway.hello();
    const portal = await this.pin(options, gateway.portal, hello.queryUrl);
    let doc: ActiveProfile;
    let keys: DeviceKeys;
    if (existing?.status === 'registering') {
      doc = { ...(existing as ActiveProfile), portal };
      keys = await loadDeviceKeys(this.store);
    } else {
      keys = generateDeviceKeys(this.options.random);
      const masterKey = generateMasterKey(this.options.random);
      const device = await buildDeviceProfile(
        { encryption: keys.encryption, description: options.description ?? 'administrator device' },
        keys.signature,
      );
      const master = await buildMasterProfile(
        { administrators: [keys.signature], created: this.now() },
        masterKey,
      );
      const personal = await buildPersonalProfile(
        { master: master.profile.id, sequence: 0, devices: [keys] },
        keys.signature,
      );
      await saveMasterKey(this.store, masterKey);
      await saveDeviceKeys(this.store, keys);
      doc = { status: 'registering', ...name, portal, device, master, personal, devices: [] };
      await writeProfileDocument(this.store, doc);
    }
    const session = new AccountSession(gateway, doc.account, doc.accountUdf, keys, this.options);
    await registerOrDiscard(this.store, session, doc, hello.proofOfWorkLevel);
    await writeProfileDocument(this.store, { ...doc, status: 'active' });
    return {
      fingerprint: doc.master.profile.id,
      account: doc.account,
      deviceId: doc.device.profile.id,
      portal,
    };
  }

  /**
   * On a NEW device: fresh device keys, ConnectStart for `account`. Resolves with the request id and
   * the witness to compare with what the administrator's `pending()` shows; connectStatus() then polls.
   * `usage.invalid` when this home holds an active profile.
   */
  async connect(
    options: PortalOptions & { readonly account: string; readonly description?: string },
  ): Promise<{ requestId: string; deviceId: string; witness: string; account: string }> {
    return startConnection(this, options);
  }

  /**
   * On the new device: ConnectStatus. On acceptance the Master and Personal Profiles it carries are
   * checked — the Master self-signed, the Personal signed by one of its administrators and listing
   * this device with its keys, both shown by the log — and kept; the fingerprint is then shown.
   */
  async connectStatus(): Promise<{ result: 'pending' | 'rejected' | 'accepted'; fingerprint?: string }> {
    return connectionStatus(this);
  }

  /** The active profile of this home and a session of this device with its home portal. */
  async open(): Promise<OpenProfile> {
    const doc = await requireActiveProfile(this.store);
    return { doc, session: await this.sessionFor(doc, await loadDeviceKeys(this.store)) };
  }

  /**
   * Reads the current Master and Personal Profiles from the portal (checked and verified), refuses a
   * profile whose sequence went back or that no longer lists this device, and keeps them.
   */
  async refresh(session: AccountSession, doc: ActiveProfile): Promise<ActiveProfile> {
    const master = await session.master(doc.master.profile.id);
    const personal = await session.personal(master, doc.personal.profile.id);
    const portal = session.gateway.portal;
    for (const [kind, was, is] of [
      ['Master', doc.master.profile.sequence, master.profile.sequence],
      ['Personal', doc.personal.profile.sequence, personal.profile.sequence],
    ] as const)
      if (is < was)
        throw new ClientError(
          'verify.profile',
          `${portal} serves ${kind} Profile sequence ${is}, this device saw ${was}`,
          {
            portal,
            check: 'profile sequence',
            evidence: { kind, seen: was, served: is },
          },
        );
    if (!personal.profile.devices.some((d) => d.id === doc.device.profile.id))
      throw new ClientError('state.missing', `this device is no longer connected to ${doc.account}`, {
        portal,
        check: 'device',
      });
    const next: ActiveProfile = { ...doc, master, personal };
    await writeProfileDocument(this.store, next);
    return next;
  }

  /**
   * ConnectPending (administrator): the requests waiting, each Device Profile checked and each witness
   * computed by this device from the request's own Device Profile and nonce (never the portal's).
   */
  async pending(): Promise<PendingDevice[]> {
    return pendingDevices(this);
  }

  /**
   * Accepts request `requestId` (administrator): ConnectComplete with the next Personal Profile, which
   * lists the device and authorises it for every application, then every application re-encrypted so
   * that it can read them. `witness` is what the new device shows, as the user compared it: this device
   * recomputes the request's witness from its own Device Profile and nonce and MUST refuse
   * (`verify.witness`, nothing signed, nothing re-encrypted) when they differ — a portal that swapped
   * in its own device is caught here (issue #14, hole 1). `verify.answer` for a request whose witness
   * cannot be computed; `usage.invalid` for an unknown request or a device that is no administrator.
   * `administrator: true` (`mesh device accept --admin`, issue #19) then also publishes the next Master
   * Profile listing the new device's key — checked before anything is signed: this device MUST hold
   * the master key (`usage.invalid`).
   */
  async accept(
    requestId: string,
    witness: string,
    options: { readonly administrator?: boolean } = {},
  ): Promise<DeviceInfo & { readonly catalogs: CatalogSyncOutcome }> {
    return acceptDevice(this, requestId, witness, options);
  }

  /**
   * Makes connected device `deviceId` an administrator (issue #19): the next Master Profile, signed
   * with the master key this device holds, lists its key; see administrator-rights.ts.
   */
  async promote(deviceId: string): Promise<DeviceInfo> {
    return promoteDevice(this, deviceId);
  }

  /**
   * Withdraws device `deviceId`'s administrator right (never the last one's); it stays connected. See
   * administrator-rights.ts.
   */
  async demote(deviceId: string): Promise<DeviceInfo> {
    return demoteDevice(this, deviceId);
  }

  /** Rejects request `requestId` (administrator); not logged. */
  async reject(requestId: string): Promise<void> {
    const { session } = await this.open();
    await session.authenticated('ConnectComplete', { RequestId: requestId, Accept: false });
  }

  /** Rejects every pending request (administrator; ConnectClear, not logged): how many. */
  async clearPending(): Promise<number> {
    return clearPendingDevices(this);
  }

  /** The devices of the current Personal Profile. */
  async devices(): Promise<DeviceInfo[]> {
    return listDevices(this);
  }

  /**
   * Removes device `deviceId` (administrator): a Master Profile without its key when it was an
   * administrator (signed with the master key, which this device must hold), the next Personal
   * Profile without it and without its application rights, its Device Profile deleted, then every
   * application re-encrypted to the remaining devices only — the removed device cannot read what is
   * written afterwards (002 §3.2: shared keys rotate when a device leaves). `usage.invalid` for this
   * device itself, an unknown device, or an administrator without the master key here.
   */
  async remove(deviceId: string): Promise<{ readonly catalogs: CatalogSyncOutcome }> {
    return removeDevice(this, deviceId);
  }

  /**
   * Re-registers this profile at another portal, closes the account at the old one (MoveAccount) and
   * makes the new one home (002 §7.8); see portal-switch.ts. Resolves with the new home portal and
   * whether the old account is closed, and what became of the catalogs (catalog-move.ts).
   */
  async switchPortal(
    options: PortalOptions,
  ): Promise<{ portal: PortalRef; closed: boolean; catalogs: CatalogMoveOutcome }> {
    return switchPortal(this, options);
  }

  /** DeleteAccount of this account at its home portal (administrator); see account-close.ts. */
  async deleteAccount(): Promise<ActiveProfile> {
    return deleteAccount(this);
  }

  /**
   * The next Master Profile, signed with the master key this device holds: `add`/`remove` an
   * administrator key. `usage.invalid` when this device does not hold the master key.
   */
  nextMaster(
    doc: ActiveProfile,
    change: { readonly add?: PublicKeyInput; readonly remove?: string },
  ): Promise<SignedProfile<MasterProfile>> {
    return nextMasterProfile(this.store, doc, change);
  }

  /** The private data of this account's application `type`/`name`, or undefined when it has none yet. */
  async readApplication(type: string, name = 'default'): Promise<JsonObject | undefined> {
    return readApplicationData(this, type, name);
  }

  /**
   * Publishes application `content`, encrypted to every device authorised for it. The first write of
   * an application authorises it in the Personal Profile (every device), which takes an
   * administrator device; on another device that is `usage.invalid`.
   */
  async writeApplication(content: ApplicationContent): Promise<void> {
    return writeApplicationData(this, content);
  }

  /**
   * A session of `keys` with the portal of `doc`. Reads are verified through the log of `trust`
   * (default: the pinned trust.json; `state.missing` when none) unless `trust` is false or the
   * manager's `verifyLog` option is false.
   */
  async sessionFor(
    doc: ProfileDocument,
    keys: DeviceKeys,
    trust?: PortalTrust | false,
  ): Promise<AccountSession> {
    const gateway = this.gateway(doc.portal.gatewayUrl);
    let pinned: PortalTrust | undefined;
    if (trust !== false && this.options.verifyLog !== false) {
      pinned = trust ?? (await loadTrust(this.store));
      if (pinned === undefined)
        throw new ClientError('state.missing', 'no trust.json: this home has pinned no portal', {
          check: 'trust',
        });
    }
    const logCheck =
      pinned === undefined
        ? undefined
        : verifiedLogCheck({
            trust: pinned,
            store: this.store,
            account: doc.account,
            ...pick(this.options, ['fetchImpl', 'timeoutMs', 'now', 'sleep', 'proofs']),
            ...(this.options.logWaitMs === undefined ? {} : { waitMs: this.options.logWaitMs }),
          });
    // Requests are bound to the pinned origin of the home portal (issue #14); Hello's otherwise.
    const origin = pinned?.home.id === doc.portal.id ? pinned.home.origin : undefined;
    return new AccountSession(gateway, doc.account, doc.accountUdf, keys, this.options, logCheck, origin);
  }

  /** Pins the portal (trust on first use, trust.json) and resolves with its reference. */
  async pin(options: PortalOptions, portalId: string, helloQueryUrl?: string): Promise<PortalRef> {
    const { trust, portal } = await this.discover(options, portalId, helloQueryUrl);
    await saveTrust(this.store, trust);
    return portal;
  }

  /** What pinning `options`' portal would pin (discoverTrust), without writing it. */
  async discover(
    options: PortalOptions,
    portalId: string,
    helloQueryUrl?: string,
  ): Promise<{ trust: PortalTrust; portal: PortalRef }> {
    const queryUrl = options.queryUrl ?? helloQueryUrl ?? options.gatewayUrl;
    const trust = await discoverTrust(options.gatewayUrl, queryUrl, this.options.fetchImpl, {
      ...(this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs }),
    });
    return { trust, portal: { gatewayUrl: options.gatewayUrl, queryUrl, id: portalId } };
  }
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}
