import { Inject, Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import {
  applyRecord,
  encodeRecord,
  isMeshError,
  checkRequestNonce,
  readRequest,
  type AccountState,
  type MeshErrorCode,
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
  type CatalogPeek,
} from '@cryptomesh/persistence';
import { inThreadVerdicts } from '@cryptomesh/crypto';
import { MetricsService } from '@cryptomesh/service';
import { AccountLimits } from '../auth/account-limits';
import { checkFingerprint, replayed, RequestAuthenticator } from '../auth/request-authenticator';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';
import { GatewayError } from '../protocol/gateway-error';
import { mapMeshErrors, toGatewayError } from '../protocol/mesh-error-map';
import type { AccountName } from '../protocol/request-fields';
import type { RequestContext } from '../protocol/transaction';
import { AccountQueue } from './account-queue';
import { AccountStateCache, type RevisionedState } from './account-state-cache';
import { checkAccountQuota } from './account-usage';
import { GroupCommit } from './group-commit';
import { LogPushback } from './log-pushback';
import { accountState, changedObjects, changedProfiles, jwsJson } from './catalog-state';

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
 * ConnectComplete), DESIGN.md "Services", docs/design/gateway.md:
 *  1. before any transaction: the replay check (the nonce); the account's state — on the fast path
 *     the one this process kept from its last commit of the account (AccountStateCache) if the row
 *     is still at that revision, else the rows the same round trip carried (`peekCatalogAccounts`
 *     with the nonce and the kept revision), on the general path read — and `applyRecord`
 *     (every signature, signing rule and persistence rule, and the request's clock window), the
 *     quotas and the per-account rate limit — so that bad input never opens a transaction;
 *  2. write it atomically. Fast path (a change of an existing account with nothing else to write):
 *     one statement, its own transaction, that writes the account, its objects, the queued entry and
 *     the nonce only if the row is still at the revision the record was validated against — shared
 *     with the other changes validated meanwhile (group commit), as the peek is shared with the other
 *     peeks: two round trips per group in all (issue #17). A change that finds the row moved at its
 *     write (a race lost to another process) goes through step 1 and the write again, three
 *     attempts in all. General path (CreateAccount, DeleteAccount, MoveAccount, ConnectComplete, or
 *     three lost races): one transaction that locks the account row, re-applies if it changed,
 *     writes the catalog rows, queues the entry (`enqueueEntry`) and records the nonce.
 * The answer is sent only after the commit (acknowledged ⇒ durable). A crash before the commit
 * leaves nothing; after it, the entry is queued and the log-signer seals it.
 */
@Injectable()
export class RecordCommitter {
  /** One change per account at a time in this process (account-queue.ts says why). */
  private readonly queue = new AccountQueue();
  /** The account states of this process's latest commits (account-state-cache.ts). */
  private readonly states: AccountStateCache;
  /** The fast path's shared statements: the peeks, and the group commit (group-commit.ts). */
  private readonly group: GroupCommit;
  private readonly commits: Counter<'path'>;
  private readonly lookups: Counter<'result'>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly limits: AccountLimits,
    private readonly authenticator: RequestAuthenticator,
    private readonly pushback: LogPushback,
    metrics: MetricsService,
  ) {
    this.states = new AccountStateCache(config.ACCOUNT_STATE_CACHE_MB * 1024 * 1024);
    this.group = new GroupCommit(
      dataSource,
      {
        maxBatch: config.GROUP_COMMIT_MAX_BATCH,
        windowMs: config.GROUP_COMMIT_WINDOW_MS,
        maxInFlight: config.GROUP_COMMIT_MAX_IN_FLIGHT,
        // What a state the cache would keep may weigh (account-state-cache.ts: 4 KiB and three
        // times its profiles' bytes, at most an eighth of the budget); heavier accounts are read
        // on their own connection, not in the peek every request of this process shares.
        maxRowBytes: Math.max(0, Math.floor(((config.ACCOUNT_STATE_CACHE_MB * 1024 * 1024) / 8 - 4_096) / 3)),
      },
      metrics,
    );
    this.commits = metrics.counter(
      'gateway_commits_total',
      'Logged changes committed, by path: fast (one statement, on the account state kept in memory or carried by the peek), ' +
        'fast_retry (the same, after losing a race with another process: validated again on the state it lost to), ' +
        'retried (lost every fast attempt: locked and validated again), ' +
        'general (CreateAccount, DeleteAccount, MoveAccount, ConnectComplete)',
      ['path'],
    );
    this.lookups = metrics.counter(
      'gateway_account_states_total',
      'Account states the fast path looked for in memory, by result: hit (kept at the current revision), ' +
        'stale (kept, but the account changed since, by another process: its rows came with the peek), ' +
        'miss (not kept: its rows came with the peek)',
      ['result'],
    );
  }

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
    // A new request's nonce is in the one form clients make, before it is looked up (peek, seen).
    const claims = await mapMeshErrors(() => {
      const read = readRequest(record.authorisation);
      checkRequestNonce(read);
      return read;
    }, 'the Authorisation');
    const clock = { now: context.receivedAtMs, maxSkewMs: this.config.CLOCK_SKEW_MS };
    // Bound to this portal: a request signed for another one is 'request.wrong-portal' (issue #14).
    const portal = { origin: this.config.LOG_ORIGIN, ...inThreadSignatures(record) };
    const create = options.create === true;
    // The fast path (issue #17): a change of an existing account with nothing else to write in its
    // transaction is validated against the state kept from this process's last commit and written
    // in one statement; CreateAccount and ConnectComplete take the general path below.
    const fast = !create && options.inTransaction === undefined;

    if (fast) {
      // Each attempt: one round trip shared with the peeks of the requests arriving meanwhile (the
      // replay check, the account's current revision, and its rows unless this process kept its
      // state at that revision), validation, and the write on the condition that the account is
      // still at that revision. A kept state is used only at its revision, so a change made
      // meanwhile by another process (a device removed, an application added) is never judged on
      // an old state; a change that loses a race with another process is validated again on the
      // state it lost to, as another attempt (issue #17: two processes no longer fall back to a
      // transaction of their own for every race).
      for (let attempt = 1; attempt <= FAST_ATTEMPTS; attempt += 1) {
        const kept = this.states.get(name.udf);
        const peek = await this.group.peek(name.udf, claims.nonce, kept?.revision);
        if (peek.replayed) {
          await this.refuseForgery(name, record, false);
          throw replayed();
        }
        // Counted once a request: a later attempt finds nothing kept, having lost its race.
        const before = await this.current(name, kept, peek, attempt === 1);
        const next = await mapMeshErrors(() => applyRecord(before?.state, record, portal, clock));
        checkAccountQuota(before?.state, next, this.config);
        if (attempt === 1) this.limits.take(name.udf);
        if (before === undefined) break;
        if (await this.commitFast(name, record, context, claims, before, next)) {
          this.commits.inc({ path: attempt === 1 ? 'fast' : 'fast_retry' });
          return next;
        }
      }
      // The account kept changing under every attempt (or is gone): the general path locks the row
      // and validates again.
    } else if (await this.authenticator.seen(this.dataSource.manager, name.udf, claims)) {
      // A replay first: its record was applied already, so applyRecord would answer a misleading
      // conflict. But only a request whose signature verifies is called a replay (issue #16).
      await this.refuseForgery(name, record, create);
      throw replayed();
    }
    this.states.delete(name.udf);
    const before = await this.load(this.dataSource.manager, name, create, false);
    const next = await mapMeshErrors(() => applyRecord(before?.state, record, portal, clock));
    checkAccountQuota(before?.state, next, this.config);
    if (!fast) this.limits.take(name.udf);

    const committed = await this.dataSource.transaction('READ COMMITTED', async (manager) => {
      let base = before;
      let after = next;
      let revision: string;
      if (create) {
        const inserted = await insertCatalogAccount(manager, {
          accountUdf: name.udf,
          address: name.address,
          master: jwsJson(after.master),
          personal: jwsJson(after.personal),
        });
        if (inserted === undefined) throw accountExists(name);
        revision = inserted;
      } else {
        // Lock the account row; its objects are read again only when another transaction changed the
        // account between validation and lock (then the record is validated again against them).
        const row = await readCatalogAccount(manager, name.udf, { lock: true });
        if (row === undefined || row.revision !== before?.revision) {
          const locked = await this.load(manager, name, false, false);
          base = locked;
          after = await mapMeshErrors(() => applyRecord(locked?.state, record, portal, clock));
          checkAccountQuota(locked?.state, after, this.config);
        }
        revision = await updateCatalogAccount(manager, {
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
      return { revision, state: after };
    });
    // Kept as committed: the account's next change here takes the fast path on it.
    this.states.set(name.udf, committed);
    this.commits.inc({ path: fast ? 'retried' : 'general' });
    return committed.state;
  }

  /**
   * Writes `next` in the next group commit if the account is still at `before.revision`; resolves
   * true once it is COMMITTED, false, having written nothing, when the account moved. A nonce recorded
   * meanwhile (a concurrent replay) writes nothing either: `auth.replayed` (the record applied, so its
   * signature verified). A failed group statement rejects: nothing of this change was written.
   */
  private async commitFast(
    name: AccountName,
    record: TransactionRecord,
    context: RequestContext,
    claims: RequestClaims,
    before: RevisionedState,
    next: AccountState,
  ): Promise<boolean> {
    let result;
    try {
      result = await this.group.commit({
        account: {
          accountUdf: name.udf,
          status: next.status,
          ...(next.movedTo === undefined ? {} : { movedTo: next.movedTo }),
          ...changedProfiles(before.state, next),
        },
        expectedRevision: before.revision,
        objects: changedObjects(before.state, next),
        entry: encodeRecord(record),
        requestId: context.requestId,
        nonce: claims.nonce,
        nonceExpiresAtMs: claims.time + this.config.CLOCK_SKEW_MS,
      });
    } catch (error) {
      this.states.delete(name.udf);
      throw error;
    }
    if (result.outcome === 'committed') {
      this.states.set(name.udf, { revision: result.revision, state: next });
      return true;
    }
    this.states.delete(name.udf);
    if (result.outcome === 'replayed') throw replayed();
    return false;
  }

  /**
   * The account's state at the revision `peek` found: the one kept here if it is at that revision,
   * else the rows the peek carried, else (an account too heavy for the peek) the rows read now;
   * undefined when the account does not exist.
   */
  private async current(
    name: AccountName,
    kept: RevisionedState | undefined,
    peek: CatalogPeek,
    count: boolean,
  ): Promise<RevisionedState | undefined> {
    if (kept !== undefined && kept.revision === peek.revision) {
      if (count) this.lookups.inc({ result: 'hit' });
      checkFingerprint(name, kept.state);
      return kept;
    }
    if (kept !== undefined) this.states.delete(name.udf);
    if (count) this.lookups.inc({ result: kept === undefined ? 'miss' : 'stale' });
    if (peek.revision === undefined) return undefined;
    // Too heavy to travel in the shared peek: read on its own (its revision is the one it reads).
    if (peek.account === undefined) return this.load(this.dataSource.manager, name, false, false);
    const state = accountState(peek.account, peek.objects ?? []);
    checkFingerprint(name, state);
    return { revision: peek.revision, state };
  }

  /**
   * For a request whose nonce was seen: rethrows the refusal of its authorisation — a bad signature,
   * a signer that is not a device of the account, a request for another record — and returns when
   * the authorisation itself verifies (then it is a true replay). Freshness and the persistence
   * model are not checked: a replayed record is expected to break them.
   */
  private async refuseForgery(name: AccountName, record: TransactionRecord, create: boolean): Promise<void> {
    const state = create ? undefined : (await this.load(this.dataSource.manager, name, false, false))?.state;
    try {
      await applyRecord(state, record, { origin: this.config.LOG_ORIGIN, ...inThreadSignatures(record) });
    } catch (error) {
      if (isMeshError(error) && FORGERY.has(error.code)) throw toGatewayError(error, 'the Authorisation');
    }
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
  ): Promise<RevisionedState | undefined> {
    const account = await readCatalogAccount(manager, name.udf, { lock });
    if (create) {
      if (account !== undefined) throw accountExists(name);
      return undefined;
    }
    if (account === undefined) return undefined; // applyRecord answers account.unknown
    const state = accountState(account, await readCatalogObjects(manager, name.udf));
    checkFingerprint(name, state);
    return { revision: account.revision, state };
  }
}

/** Attempts of the fast path before a change that keeps losing races takes the general path. */
const FAST_ATTEMPTS = 3;

/** The refusals of an authorisation that mean it was not signed by the account's device for this record. */
const FORGERY: ReadonlySet<MeshErrorCode> = new Set<MeshErrorCode>([
  'request.malformed',
  'request.mismatch',
  'request.unknown-device',
  'request.bad-signature',
]);

function accountExists(name: AccountName): GatewayError {
  return new GatewayError('account.exists', `the address ${name.address} is taken on this portal`, {
    reason: 'account.exists',
  });
}

/**
 * Where a record's signatures are verified (issue #17, docs/design/gateway.md): a record of at most
 * two — a Publish, DeleteAccount, MoveAccount — by OpenSSL in this thread (`inThreadVerdicts`,
 * about a third less CPU than jose's hand-off to libuv's thread pool); CreateAccount (the Master,
 * Personal and up to 16 Device Profiles, in keys the client chose, Ed448 among them) and
 * ConnectComplete (three) through jose, so that no one request holds the event loop for the time
 * of many verifications.
 */
export function inThreadSignatures(record: TransactionRecord): { signatures?: typeof inThreadVerdicts } {
  return IN_THREAD.has(record.operation) ? { signatures: inThreadVerdicts } : {};
}

const IN_THREAD: ReadonlySet<TransactionRecord['operation']> = new Set([
  'Publish',
  'DeleteAccount',
  'MoveAccount',
]);
