import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  applyRecord,
  encodeRecord,
  readRequest,
  type AccountState,
  type RequestClaims,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import {
  enqueueEntry,
  insertCatalogAccount,
  readCatalogAccount,
  readCatalogObjects,
  updateCatalogAccount,
  writeCatalogObjects,
  type CatalogAccount,
} from '@cryptomesh/persistence';
import { AccountLimits } from '../auth/account-limits';
import { checkFingerprint, RequestAuthenticator } from '../auth/request-authenticator';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors } from '../protocol/mesh-error-map';
import type { AccountName } from '../protocol/request-fields';
import type { RequestContext } from '../protocol/transaction';
import { AccountQueue } from './account-queue';
import { checkAccountQuota } from './account-usage';
import { LogPushback } from './log-pushback';
import { accountState, changedObjects, jwsJson } from './catalog-state';

export interface CommitOptions {
  /** CreateAccount only: the account is inserted under this name (address unique per portal). */
  readonly create?: boolean;
  /**
   * Runs inside the transaction after the catalog rows are written and before the entry is queued;
   * throwing rolls everything back (ConnectComplete marks its connection request here).
   */
  readonly inTransaction?: (manager: EntityManager, next: AccountState) => Promise<void>;
}

/**
 * The path of every logged transaction (CreateAccount, DeleteAccount, Publish, an accepting
 * ConnectComplete), DESIGN.md "Services":
 *  1. before any transaction: a first replay check, read the account, apply the record with
 *     `applyRecord` (every signature, signing rule and persistence rule, and the request's clock
 *     window), the per-account rate limit — so that bad input never opens a transaction;
 *  2. in ONE transaction: lock the account row, re-apply if the account changed meanwhile, write
 *     the catalog rows, queue the entry (`enqueueEntry`), record the nonce; commit.
 * The answer is sent only after the commit (acknowledged ⇒ durable). A crash before the commit
 * leaves nothing; after it, the entry is queued and the log-signer seals it.
 */
@Injectable()
export class RecordCommitter {
  /** One change per account at a time in this process (account-queue.ts says why). */
  private readonly queue = new AccountQueue();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly limits: AccountLimits,
    private readonly authenticator: RequestAuthenticator,
    private readonly pushback: LogPushback,
  ) {}

  /**
   * Resolves with the account's new state once it is committed; throws a GatewayError otherwise,
   * 'log.pushback' before any work while the log queue is over its bounds.
   */
  async commit(
    name: AccountName,
    record: TransactionRecord,
    context: RequestContext,
    options: CommitOptions = {},
  ): Promise<AccountState> {
    this.pushback.check();
    return this.queue.run(name.udf, () => this.commitNow(name, record, context, options));
  }

  private async commitNow(
    name: AccountName,
    record: TransactionRecord,
    context: RequestContext,
    options: CommitOptions,
  ): Promise<AccountState> {
    if (record.account !== name.udf)
      throw new GatewayError('auth.mismatch', `the record is for another account than ${name.address}`, {
        reason: 'request.mismatch',
      });
    const claims = await mapMeshErrors(() => readRequest(record.authorisation), 'the Authorisation');
    const clock = { now: context.receivedAtMs, maxSkewMs: this.config.CLOCK_SKEW_MS };
    // Bound to this portal: a request signed for another one is 'request.wrong-portal' (issue #14).
    const portal = { origin: this.config.LOG_ORIGIN };

    // A replay first: its record was applied already, so applyRecord would answer a misleading
    // conflict. (A forged request reusing a seen nonce learns nothing from being told so.)
    await this.authenticator.refuseSeen(this.dataSource.manager, name.udf, claims);
    const before = await this.load(this.dataSource.manager, name, options.create === true, false);
    const next = await mapMeshErrors(() => applyRecord(before?.state, record, portal, clock));
    checkAccountQuota(before?.state, next, this.config);
    this.limits.take(name.udf);

    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      let base = before;
      let after = next;
      if (options.create) {
        const inserted = await insertCatalogAccount(manager, {
          accountUdf: name.udf,
          address: name.address,
          master: jwsJson(after.master),
          personal: jwsJson(after.personal),
        });
        if (!inserted) throw accountExists(name);
      } else {
        // Lock the account row; its objects are read again only when another transaction changed the
        // account between validation and lock (then the record is validated again against them).
        const row = await readCatalogAccount(manager, name.udf, { lock: true });
        if (row === undefined || row.version !== before?.account.version) {
          const locked = await this.load(manager, name, false, false);
          base = locked;
          after = await mapMeshErrors(() => applyRecord(locked?.state, record, portal, clock));
          checkAccountQuota(locked?.state, after, this.config);
        }
        await updateCatalogAccount(manager, {
          accountUdf: name.udf,
          status: after.status,
          ...(after.movedTo === undefined ? {} : { movedTo: after.movedTo }),
          master: jwsJson(after.master),
          personal: jwsJson(after.personal),
        });
      }
      await writeCatalogObjects(manager, name.udf, changedObjects(base?.state, after));
      await options.inTransaction?.(manager, after);
      await enqueueEntry(manager, encodeRecord(record), { requestId: context.requestId });
      await this.authenticator.recordNonce(manager, name.udf, claims satisfies RequestClaims);
      return after;
    });
  }

  /**
   * The account and its state (undefined when it does not exist). For CreateAccount an existing row —
   * even a deleted account's — is `account.exists`: this portal never reassigns an address.
   */
  private async load(
    manager: EntityManager,
    name: AccountName,
    create: boolean,
    lock: boolean,
  ): Promise<{ account: CatalogAccount; state: AccountState } | undefined> {
    const account = await readCatalogAccount(manager, name.udf, { lock });
    if (create) {
      if (account !== undefined) throw accountExists(name);
      return undefined;
    }
    if (account === undefined) return undefined; // applyRecord answers account.unknown
    const state = accountState(account, await readCatalogObjects(manager, name.udf));
    checkFingerprint(name, state);
    return { account, state };
  }
}

function accountExists(name: AccountName): GatewayError {
  return new GatewayError('account.exists', `the address ${name.address} is taken on this portal`, {
    reason: 'account.exists',
  });
}
