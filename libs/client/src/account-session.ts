import { defaultRandom, isCryptoError, type RandomSource } from '@cryptomesh/crypto/portable';
import {
  accountView,
  authoriseRecord,
  checkProfileSigner,
  isMeshError,
  profileKey,
  profileView,
  readProfileOf,
  signRequest,
  type ApplicationProfile,
  type DeviceProfile,
  type MasterProfile,
  type PersonalProfile,
  type ProfileKind,
  type ProfileView,
  type Profile,
  type RecordContent,
  type SignedProfile,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import { ClientError } from './client-error';
import type { DeviceKeys } from './device-keys';
import { portalErrorCode, type GatewayClient, type GatewayFields } from './gateway-client';
import { flatJws, jwsOf } from './profile-document';

/** The clock and randomness a session draws from: injected (STYLE.md §4), real by default. */
export interface SessionEnvironment {
  /** Unix milliseconds; signed requests carry it (the portal allows CLOCK_SKEW_MS either side). */
  readonly now?: () => number;
  /** MUST be a CSPRNG outside tests: nonces, keys, escrow secrets. */
  readonly random?: RandomSource;
}

/**
 * Checks that the portal's log shows `signed` as the current value of its profile (issue #7: every
 * read verified — checkpoint signature, quorum, consistency, inclusion, rules). Resolves when it
 * does; MUST throw a ClientError `verify.*` naming the portal when it does not. The session calls it
 * for every profile it reads through the gateway, after its own signature and rule checks.
 */
export type LogCheck = (signed: SignedProfile, known: ProfileView) => Promise<void>;

/**
 * One device of one account talking to its home portal: signs requests with the device's key
 * (docs/PROTOCOL.md "Authentication") and reads profiles with `Get`, checking each one before it is
 * returned — the JWS under the key its signing rule names (000 §6.4), the identifier asked for, and,
 * when a LogCheck is given, that the verified log shows the same value.
 */
export class AccountSession {
  readonly now: () => number;
  readonly random: RandomSource;

  constructor(
    readonly gateway: GatewayClient,
    /** The normalised address: the gateway finds the account by it. */
    readonly account: string,
    readonly accountUdf: string,
    readonly keys: DeviceKeys,
    env: SessionEnvironment = {},
    private readonly logCheck?: LogCheck,
    /**
     * The portal's origin as pinned (trust.json): every request this session signs is bound to it.
     * When absent, the origin the portal's Hello answers (asked once).
     */
    private readonly pinnedOrigin?: string,
  ) {
    this.now = env.now ?? (() => Date.now());
    this.random = env.random ?? defaultRandom;
  }

  /** The id of this device's profile: the UDF of its signature key. */
  get deviceId(): string {
    return profileKey(this.keys.signature, 'signature').udf;
  }

  /** The origin requests are bound to (issue #14): the pinned one, else Hello's. */
  portalOrigin(): Promise<string> {
    return this.pinnedOrigin === undefined ? this.gateway.origin() : Promise.resolve(this.pinnedOrigin);
  }

  /** Sends `name` with `Account` and an `Authentication` signed by this device over the rest. */
  async authenticated(name: string, fields: GatewayFields = {}): Promise<GatewayFields> {
    const body = { Account: this.account, ...fields };
    const portal = await this.portalOrigin();
    const authentication = await signRequest(
      { request: name, portal, account: this.accountUdf, body, time: this.now(), random: this.random },
      this.keys.signature,
    );
    return this.gateway.send(name, { ...body, Authentication: flatJws(authentication) });
  }

  /** A record's authorisation by this device (mesh-model.md "Records"). */
  async authorise(content: RecordContent): Promise<TransactionRecord> {
    const portal = await this.portalOrigin();
    return authoriseRecord(content, this.keys.signature, { portal, time: this.now(), random: this.random });
  }

  /** Publish (docs/PROTOCOL.md): `create`/`update` of `value`, or `delete` of an identifier. */
  async publish(
    action: 'create' | 'update' | 'delete',
    target: SignedProfile | string,
  ): Promise<GatewayFields> {
    const value = typeof target === 'string' ? undefined : target;
    const id = typeof target === 'string' ? target : target.profile.id;
    const record = await this.authorise({
      operation: 'Publish',
      account: this.accountUdf,
      action,
      id,
      ...(value === undefined ? {} : { value }),
    });
    return this.gateway.send('Publish', {
      Account: this.account,
      Action: action,
      Id: id,
      ...(value === undefined ? {} : { Value: jwsOf(value) }),
      Authorisation: flatJws(record.authorisation),
    });
  }

  /** `Get` of one profile of this account: its value as served, undefined when `not-found`. */
  async getRaw(id: string): Promise<unknown> {
    try {
      return (await this.authenticated('Get', { Id: id })).Value;
    } catch (error) {
      if (portalErrorCode(error) === 'not-found') return undefined;
      throw error;
    }
  }

  /**
   * The Master Profile `id` (the profile fingerprint, pinned by the caller), checked: self-signed by
   * the key whose UDF is `id`, and shown by the log.
   */
  async master(id: string): Promise<SignedProfile<MasterProfile>> {
    const signed = this.parse(await this.required(id, 'Master Profile'), 'master', id);
    const view = accountView(signed, undefined);
    await this.rule(signed, view);
    await this.logCheck?.(signed, view);
    return signed;
  }

  /** The account's current Personal Profile, checked: signed by an administrator of `master`. */
  async personal(master: SignedProfile<MasterProfile>, id: string): Promise<SignedProfile<PersonalProfile>> {
    const signed = this.parse(await this.required(id, 'Personal Profile'), 'personal', id);
    if (signed.profile.master !== master.profile.id)
      throw this.forged(signed, `names Master ${signed.profile.master}`);
    const view = accountView(master, undefined);
    await this.rule(signed, view);
    await this.logCheck?.(signed, view);
    return signed;
  }

  /** Device Profile `id` of this account, checked (self-signed); undefined when the portal has none. */
  async device(id: string): Promise<SignedProfile<DeviceProfile> | undefined> {
    const value = await this.getRaw(id);
    if (value === undefined) return undefined;
    const signed = this.parse(value, 'device', id);
    const view = profileView([], []);
    await this.rule(signed, view);
    await this.logCheck?.(signed, view);
    return signed;
  }

  /**
   * Application Profile `id`, checked: signed by a key `personal` authorises for it. Undefined when
   * the portal holds no active profile of that id.
   */
  async application(
    master: SignedProfile<MasterProfile>,
    personal: SignedProfile<PersonalProfile>,
    id: string,
  ): Promise<SignedProfile<ApplicationProfile> | undefined> {
    const value = await this.getRaw(id);
    if (value === undefined) return undefined;
    const signed = this.parse(value, 'application', id);
    const view = accountView(master, personal);
    await this.rule(signed, view);
    await this.logCheck?.(signed, view);
    return signed;
  }

  private async required(id: string, what: string): Promise<unknown> {
    const value = await this.getRaw(id);
    if (value === undefined)
      throw new ClientError(
        'verify.profile',
        `${this.gateway.portal} has no ${what} ${id} for ${this.account}`,
        {
          portal: this.gateway.portal,
          check: 'profile',
          evidence: { id },
        },
      );
    return value;
  }

  private parse<K extends ProfileKind>(
    value: unknown,
    kind: K,
    id: string,
  ): SignedProfile<Extract<Profile, { kind: K }>> {
    let signed: SignedProfile<Extract<Profile, { kind: K }>>;
    try {
      signed = readProfileOf(value, kind);
    } catch (cause) {
      throw new ClientError('verify.profile', `${this.gateway.portal} served ${id}, not a ${kind} profile`, {
        portal: this.gateway.portal,
        check: 'profile',
        evidence: { id, value: value as Record<string, unknown> },
        cause,
      });
    }
    if (signed.profile.id !== id) throw this.forged(signed, `is ${signed.profile.id}, not ${id}`);
    return signed;
  }

  private async rule(signed: SignedProfile, view: ProfileView): Promise<void> {
    try {
      await checkProfileSigner(signed, view);
    } catch (cause) {
      const why = isMeshError(cause) || isCryptoError(cause) ? cause.message : String(cause);
      throw this.forged(signed, `breaks its signing rule: ${why}`, cause);
    }
  }

  private forged(signed: SignedProfile, why: string, cause?: unknown): ClientError {
    return new ClientError(
      'verify.profile',
      `${this.gateway.portal} served ${signed.profile.kind} profile ${signed.profile.id} that ${why}`,
      {
        portal: this.gateway.portal,
        check: 'profile',
        evidence: { id: signed.profile.id, value: { ...jwsOf(signed) } },
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }
}
