import { accountUdf } from '@cryptomesh/crypto/portable';
import {
  accountView,
  personalProfileId,
  type MasterProfile,
  type PersonalProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import type { OpenAccount } from './catalog-account';
import { ClientError } from './client-error';
import { joinUrl, portalRequest, refusal } from './portal-http';
import { verifiedReader } from './verified-reader';

/** One active owner of an address, as the query service lists it (`Owners`). */
export interface AccountOwnerHint {
  readonly portal: string;
  readonly master: string;
  readonly personal: string;
}

/** What `GET /accounts/{address}` answers (docs/design/query.md): a HINT, never trusted as such. */
export interface AccountHint {
  readonly address: string;
  readonly account: string;
  /** The portal the account lives at, as the query service says (the first owner's). */
  readonly portal: string;
  readonly master: string;
  readonly personal: string;
  /**
   * Every active owner the query service knows (its own portal's, each verified mirror's), the first
   * one first. Different Master Profiles here are different people who registered the same address
   * at different members: the client does not choose between them for the user.
   */
  readonly owners: readonly AccountOwnerHint[];
}

/** What the user named: an address, and the Master Profile (fingerprint) when given. */
export interface RecipientName {
  readonly address: string;
  readonly master?: string;
}

/**
 * `ADDRESS` or `mmm:<fingerprint>:ADDRESS` (the Master Profile named by its fingerprint, as
 * `mesh profile` shows it); `fingerprint` (a `--fingerprint` option) names it too, and MUST agree.
 * The address is returned as given (the caller normalises it). `usage.invalid` for an empty
 * fingerprint or two that disagree.
 */
export function recipientName(text: string, fingerprint?: string): RecipientName {
  let address = text;
  let master: string | undefined;
  if (text.startsWith('mmm:')) {
    const rest = text.slice(4);
    const colon = rest.indexOf(':');
    master = colon < 0 ? '' : rest.slice(0, colon);
    address = colon < 0 ? '' : rest.slice(colon + 1);
    if (master === '' || address === '')
      throw new ClientError('usage.invalid', `${JSON.stringify(text)} is not mmm:<fingerprint>:<address>`, {
        check: 'address',
      });
  }
  if (fingerprint !== undefined) {
    if (!/^[A-Za-z0-9-]+$/.test(fingerprint))
      throw new ClientError('usage.invalid', `${JSON.stringify(fingerprint)} is not a fingerprint`, {
        check: 'fingerprint',
      });
    if (master !== undefined && master !== fingerprint)
      throw new ClientError('usage.invalid', `--fingerprint ${fingerprint} is not the ${master} of ${text}`, {
        check: 'fingerprint',
      });
    master = fingerprint;
  }
  return master === undefined ? { address } : { address, master };
}

/**
 * Another account as this client proved it from the logs: its Master and Personal Profiles, each a
 * verified read (client.md "Verified reads") of a record of `accountUdf(address)` — whichever member's
 * log holds it — through the home portal's query service.
 */
export interface VerifiedAccount {
  readonly address: string;
  readonly account: string;
  /** The portal whose log holds the Personal Profile (the account's home as the logs show it). */
  readonly portal: string;
  readonly master: SignedProfile<MasterProfile>;
  readonly personal: SignedProfile<PersonalProfile>;
}

/** How long a verified read waits between tries for a fresh checkpoint's cosignature quorum. */

/**
 * `GET /accounts/{address}` of the home portal's query service. `portal.refused` with code
 * `account.not-found` when no log it holds has the account; `verify.answer` for an answer of another
 * shape or another address's.
 */
export async function lookupAccount(open: OpenAccount, address: string): Promise<AccountHint> {
  const { home } = open.trust;
  const options = open.manager.options;
  const url = joinUrl(home.queryUrl, `accounts/${encodeURIComponent(address)}`);
  const answer = await portalRequest(
    url,
    { method: 'GET', headers: { accept: 'application/json' } },
    {
      portal: home.id,
      ...(options.fetchImpl === undefined ? {} : { fetchImpl: options.fetchImpl }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    },
  );
  if (answer.status !== 200) throw refusal(url, answer, home.id);
  let value: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(answer.text) as unknown;
    if (typeof parsed === 'object' && parsed !== null) value = parsed as Record<string, unknown>;
  } catch {
    value = {};
  }
  const { Address, Account, Portal, Master, Personal, Owners } = value;
  const owners = Array.isArray(Owners) ? Owners.map(ownerOf) : [];
  const first = owners[0];
  if (
    typeof Address !== 'string' ||
    typeof Account !== 'string' ||
    typeof Portal !== 'string' ||
    typeof Master !== 'string' ||
    typeof Personal !== 'string' ||
    Account !== accountUdf(address) ||
    owners.some((o) => o === undefined) ||
    first?.portal !== Portal ||
    first.master !== Master ||
    first.personal !== Personal
  )
    throw new ClientError('verify.answer', `${url} served an account answer of another shape or address`, {
      portal: home.id,
      check: 'account answer',
      evidence: { url, answer: answer.text.slice(0, 2000) },
    });
  return {
    address: Address,
    account: Account,
    portal: Portal,
    master: Master,
    personal: Personal,
    owners: owners as AccountOwnerHint[],
  };
}

function ownerOf(value: unknown): AccountOwnerHint | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { Portal, Master, Personal } = value as Record<string, unknown>;
  return typeof Portal === 'string' && typeof Master === 'string' && typeof Personal === 'string'
    ? { portal: Portal, master: Master, personal: Personal }
    : undefined;
}

/**
 * The one Master Profile among `owners` of `address` (the lookup's `Owners`, first first):
 * `usage.invalid` when they have different Master Profiles (a squatter, or a reuse at another
 * member) — the user names the one meant (`mmm:<fingerprint>:<address>` or `--fingerprint`), with the
 * fingerprints in the error and its evidence. The same Master Profile at several members (a move)
 * is one owner.
 */
export function soleOwner(address: string, owners: readonly AccountOwnerHint[]): string {
  const masters = [...new Set(owners.map((o) => o.master))];
  if (masters.length !== 1)
    throw new ClientError(
      'usage.invalid',
      `${address} has ${masters.length} owners with different Master Profiles (${owners
        .map((o) => `${o.master} at ${o.portal}`)
        .join(
          ', ',
        )}): name the one you mean, as mmm:<fingerprint>:${address} or with --fingerprint <fingerprint>`,
      { check: 'address owner', evidence: { address, owners: owners.map((o) => ({ ...o })) } },
    );
  return masters[0]!;
}

/**
 * The Master and Personal Profiles of `address`, read WITH PROOF through the home portal's query
 * service (its own log or its verified mirror of the account's home). `master` names the Master
 * Profile to read (an envelope's `FromMaster`); without it the lookup's hint names it. The proof
 * binds each profile to the address's account UDF, so a lying hint can only make this fail.
 * A fresh checkpoint that is not cosigned to the quorum yet is waited for (the log wait); every
 * other failure is thrown as fetchVerifiedProfile throws it.
 */
export async function verifiedAccount(
  open: OpenAccount,
  address: string,
  master?: string,
): Promise<VerifiedAccount> {
  const masterId = master ?? (await lookupAccount(open, address)).master;
  const read = verifiedReader(open.manager.options, open.trust, open.store, address);
  const m = await read(masterId, 'master', undefined);
  const masterProfile = m.signed as SignedProfile<MasterProfile>;
  const p = await read(personalProfileId(masterId), 'personal', accountView(masterProfile, undefined));
  return {
    address,
    account: accountUdf(address),
    portal: p.log,
    master: masterProfile,
    personal: p.signed as SignedProfile<PersonalProfile>,
  };
}

/**
 * How the inbound services find and prove other accounts: lookupAccount and `verifiedAccount` above,
 * reading through the home's query service. A port so that the checks that use it can be tested
 * against a fake portal (inbound.spec.ts); an implementation MUST prove what it returns as
 * `verifiedAccount` does.
 */
export interface AccountProver {
  /** The active owners of `address` (a hint: the lookup's `Owners`, at least one), or thrown as lookupAccount. */
  owners(open: OpenAccount, address: string): Promise<readonly AccountOwnerHint[]>;
  verifiedAccount(open: OpenAccount, address: string, master?: string): Promise<VerifiedAccount>;
}

/** The prover that reads with proof from the logs. */
export const LOG_PROVER: AccountProver = {
  owners: async (open, address) => (await lookupAccount(open, address)).owners,
  verifiedAccount,
};
