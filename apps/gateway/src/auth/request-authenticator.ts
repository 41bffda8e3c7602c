import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { udfMatches } from '@cryptomesh/crypto';
import {
  checkAdministrator,
  checkRequestNonce,
  readRequest,
  verifyRequest,
  type AccountState,
  type DeviceEntry,
  type RequestClaims,
} from '@cryptomesh/mesh';
import {
  catalogNonceSeen,
  readCatalogAccount,
  recordCatalogNonce,
  type CatalogAccount,
} from '@cryptomesh/persistence';
import { accountState } from '../catalog/catalog-state';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import { readAccountName, RequestFields, type AccountName } from '../protocol/request-fields';
import type { RequestContext } from '../protocol/transaction';
import { AccountLimits } from './account-limits';

/** The member of an unlogged authenticated request that carries its signed request. */
export const AUTHENTICATION = 'Authentication';

/** A request that passed authentication. Its nonce is NOT yet recorded: see `recordNonce`. */
export interface Authenticated {
  readonly name: AccountName;
  readonly account: CatalogAccount;
  /** The account's state without its objects (only the Master and Personal Profiles are loaded). */
  readonly state: AccountState;
  readonly claims: RequestClaims;
  readonly device: DeviceEntry;
}

/**
 * Authentication of the transactions that are not logged (Get, Status, ConnectPending, a rejecting
 * ConnectComplete, EscrowPut): the body carries `Account` and `Authentication`, a signed request
 * (mesh-model.md "Requests") whose `Request` is the transaction name, `Account` the account's UDF
 * and `Body` the digest of the request body without `Authentication`; its `Portal` MUST be this
 * portal's origin (LOG_ORIGIN, Hello's `Origin`). It must be signed by a
 * device of the account's current Personal Profile, within CLOCK_SKEW_MS, with a nonce never
 * accepted before. Then the per-account rate limit applies.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly limits: AccountLimits,
  ) {}

  async authenticate(
    fields: RequestFields,
    transaction: string,
    context: RequestContext,
    options: { readonly administrator?: boolean } = {},
  ): Promise<Authenticated> {
    if (!fields.has(AUTHENTICATION))
      throw new GatewayError(
        'auth.missing',
        `${transaction} must carry "${AUTHENTICATION}", a signed request`,
      );
    const name = readAccountName(fields.string('Account'));
    const { account, state } = await this.activeAccount(this.dataSource.manager, name);
    const verified = await mapMeshErrors(async () => {
      // The nonce's form first, as for a logged record: a malformed request is that, signed or not.
      checkRequestNonce(readRequest(fields.body[AUTHENTICATION]));
      const v = await verifyRequest(fields.body[AUTHENTICATION], {
        request: transaction,
        portal: this.config.LOG_ORIGIN,
        account: name.udf,
        body: fields.without(AUTHENTICATION),
        personal: state.personal.profile,
        now: context.receivedAtMs,
        maxSkewMs: this.config.CLOCK_SKEW_MS,
      });
      if (options.administrator) checkAdministrator(state.master.profile, v.device);
      return v;
    }, 'the request');
    this.limits.take(name.udf);
    await this.refuseSeen(this.dataSource.manager, name.udf, verified.claims);
    return { name, account, state, claims: verified.claims, device: verified.device };
  }

  /**
   * The active account `name` names; `account.moved` (409) when a MoveAccount closed it here — every
   * request for it is refused, reads included, since its current state lives at its new home —,
   * `account.unknown` (404) otherwise, or when its fingerprint differs.
   */
  async activeAccount(
    manager: EntityManager,
    name: AccountName,
  ): Promise<{ account: CatalogAccount; state: AccountState }> {
    const account = await readCatalogAccount(manager, name.udf);
    if (account?.status === 'moved')
      throw new GatewayError(
        'account.moved',
        `the account ${name.address} moved to ${account.movedTo ?? 'another portal'}: it is closed here`,
        { reason: 'account.moved' },
      );
    if (account === undefined || account.status !== 'active')
      throw new GatewayError('account.unknown', `no active account ${name.address} on this portal`);
    // The stored profiles were verified when accepted; objects are not needed to authenticate.
    const state = accountState(account, []);
    checkFingerprint(name, state);
    return { account, state };
  }

  /** `auth.replayed` when the request's nonce was already accepted (checked again, atomically, on commit). */
  async refuseSeen(manager: EntityManager, accountUdf: string, claims: RequestClaims): Promise<void> {
    if (await this.seen(manager, accountUdf, claims)) throw replayed();
  }

  /** Whether the request's nonce was already accepted for the account. */
  seen(manager: EntityManager, accountUdf: string, claims: RequestClaims): Promise<boolean> {
    return catalogNonceSeen(manager, accountUdf, claims.nonce);
  }

  /**
   * Records the request's nonce in the caller's transaction; throws `auth.replayed` — which MUST
   * roll that transaction back — when another use of it committed first.
   */
  async recordNonce(manager: EntityManager, accountUdf: string, claims: RequestClaims): Promise<void> {
    const expiresAtMs = claims.time + this.config.CLOCK_SKEW_MS;
    if (!(await recordCatalogNonce(manager, accountUdf, claims.nonce, expiresAtMs))) throw replayed();
  }
}

/** A strong `mmm:<fingerprint>:<address>` name MUST match the account's Master Profile. */
export function checkFingerprint(name: AccountName, state: AccountState): void {
  if (name.fingerprint !== undefined && !udfMatches(name.fingerprint, state.master.profile.id))
    throw new GatewayError('account.unknown', `the account ${name.address} is not ${name.fingerprint}`);
}

/** `auth.replayed` (409): the request's nonce was accepted before. */
export function replayed(): GatewayError {
  return new GatewayError(
    'auth.replayed',
    'this signed request was accepted before (its first use was committed); sign a new one',
    { reason: 'request.replayed' },
  );
}
