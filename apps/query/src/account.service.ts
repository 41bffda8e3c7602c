import { Inject, Injectable, Logger } from '@nestjs/common';
import { accountUdf, isCryptoError, normaliseAccountAddress } from '@cryptomesh/crypto';
import { decodeAuditedAccount, isMeshError, readProfileOf } from '@cryptomesh/mesh';
import type { LineLogger } from '@cryptomesh/service';
import type { AccountDirectory } from './account-directory';
import type { FederationReader } from './federation-reader';
import { QueryError } from './query-error';
import { ACCOUNT_DIRECTORY, FEDERATION_READER, QUERY_PORTAL_ID } from './query-tokens';

/** One active owner of an address: a log that holds the account active, and its profile ids. */
export interface AccountOwner {
  /** The id of the portal whose log holds it (this portal's own id when it is here). */
  readonly Portal: string;
  /** The id of its current Master Profile there (the profile fingerprint). */
  readonly Master: string;
  /** The id of its current Personal Profile there. */
  readonly Personal: string;
}

/**
 * The answer of `GET /accounts/{address}` (docs/design/query.md "GET /accounts/{address}"): the
 * first owner's `Portal`, `Master` and `Personal` at the top level, and every active owner in
 * `Owners`, that first one first.
 */
export interface AccountAnswer extends AccountOwner {
  /** The address asked for, normalised. */
  readonly Address: string;
  /** Its account UDF. */
  readonly Account: string;
  /**
   * Every log this portal holds that has the account active: this portal's own first, then each
   * verified mirror by Personal Profile `Sequence` (highest first), then peer id. Two owners with
   * different Master Profiles are two different people who registered the same address at two
   * members (or one who reused it after a deletion elsewhere): a client MUST NOT pick one for them.
   */
  readonly Owners: readonly AccountOwner[];
}

/** Longest address accepted before parsing (RFC 5321's path, as parseAccountAddress). */
const MAX_ADDRESS_LENGTH = 254;

/**
 * Where an account lives and the ids of its current Master and Personal Profiles (issue #20,
 * docs/design/inbound.md: a sender's client finds the recipient's profiles with it). A HINT only:
 * the client then reads both profiles WITH PROOF (`GET /profiles/…`, client.md "Verified reads")
 * and trusts nothing else — a portal that lies here only makes that read fail or name another
 * profile that the proof must still bind to the address's account.
 *
 * Every active owner is reported (`Owners`): this portal's own `accounts` row (an active account:
 * here) and each verified mirror's `mirror_account_states` of an active account. CreateAccount only
 * checks that an address is free at ONE portal, so anyone can register at alpha the address of a
 * user of beta; a lookup that picked one owner would hand the squatter that user's mail. Accounts
 * that moved away or were deleted are skipped wherever they are. The first owner (also at the top
 * level) is this portal's own, else the mirror with the highest Personal Profile `Sequence` (a move
 * not yet mirrored everywhere), then the first peer id. A stored state that does not decode is
 * skipped and logged (the mirror wrote it, so it is a bug, not an attack).
 */
@Injectable()
export class AccountService {
  private readonly logger = new Logger('query');

  constructor(
    @Inject(ACCOUNT_DIRECTORY) private readonly directory: AccountDirectory,
    @Inject(FEDERATION_READER) private readonly federation: FederationReader,
    @Inject(QUERY_PORTAL_ID) private readonly portalId: string | undefined,
  ) {}

  /**
   * MUST throw QueryError `account.invalid` for a text that is not an account address (before any
   * lookup) and `account.not-found` when no log this portal holds has the account active. `log`:
   * where a stored state that does not decode is logged (the request's lines, requestLines).
   */
  async locate(text: string, log: LineLogger = this.logger): Promise<AccountAnswer> {
    const address = parseAddress(text);
    const account = accountUdf(address);
    const owners: AccountOwner[] = [];
    const own = await this.directory.own(account);
    if (own?.status === 'active') {
      const portal = (await this.federation.portal())?.id ?? this.portalId;
      if (portal === undefined || portal === '')
        throw new Error('this portal has no id: neither federation_portal nor PORTAL_ID names it');
      const master = readProfileOf(own.master, 'master').profile;
      const personal = readProfileOf(own.personal, 'personal').profile;
      owners.push({ Portal: portal, Master: master.id, Personal: personal.id });
    }
    const peers = (await this.federation.peers()).map((p) => p.id);
    const mirrored: Array<AccountOwner & { sequence: number }> = [];
    for (const row of await this.directory.mirrored(account, peers)) {
      let state;
      try {
        state = decodeAuditedAccount(row.state).state;
      } catch (error) {
        if (!isMeshError(error)) throw error;
        log.error({
          msg: 'a stored mirror account state does not decode',
          peer: row.peer,
          err: error,
        });
        continue;
      }
      if (state.status !== 'active' || state.account !== account) continue;
      mirrored.push({
        Portal: row.peer,
        Master: state.master.profile.id,
        Personal: state.personal.profile.id,
        sequence: state.personal.profile.sequence,
      });
    }
    mirrored.sort(
      (a, b) => b.sequence - a.sequence || (a.Portal < b.Portal ? -1 : a.Portal > b.Portal ? 1 : 0),
    );
    for (const { Portal, Master, Personal } of mirrored) owners.push({ Portal, Master, Personal });
    const first = owners[0];
    if (first === undefined)
      throw new QueryError(
        'account.not-found',
        `no log this portal holds has an active account ${address}${own === undefined ? '' : ` (here it is ${own.status})`}`,
      );
    return { Address: address, Account: account, ...first, Owners: owners };
  }
}

function parseAddress(text: string): string {
  if (text.length > MAX_ADDRESS_LENGTH)
    throw new QueryError('account.invalid', `an account address is at most ${MAX_ADDRESS_LENGTH} characters`);
  try {
    return normaliseAccountAddress(text);
  } catch (error) {
    if (!isCryptoError(error)) throw error;
    throw new QueryError('account.invalid', error.message);
  }
}
