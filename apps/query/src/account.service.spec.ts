import { accountUdf } from '@cryptomesh/crypto';
import {
  buildMasterProfile,
  buildPersonalProfile,
  encodeAuditedAccount,
  NonceWindow,
  type MasterProfile,
  type PersonalProfile,
  type SignedProfile,
} from '@cryptomesh/mesh';
import {
  ADDRESS,
  ADMIN,
  fixedKey,
  makeAccount,
  STRANGER,
  type Account,
} from '../../../libs/mesh/test/fixtures';
import type { AccountDirectory, MirroredAccountRow, OwnAccountRow } from './account-directory';
import { AccountService } from './account.service';
import type { FederationReader } from './federation-reader';
import { QueryError } from './query-error';

const ACCOUNT = accountUdf(ADDRESS);

function federation(self: string | undefined, peers: string[]): FederationReader {
  return {
    portal: () => Promise.resolve(self === undefined ? undefined : { id: self, witnessKey: null, quorum: 0 }),
    peers: () => Promise.resolve(peers.map((id) => ({ id }))),
  } as unknown as FederationReader;
}

function state(
  account: Account,
  status: 'active' | 'moved' | 'deleted',
  personal: SignedProfile<PersonalProfile> = account.personal,
  master: SignedProfile<MasterProfile> = account.master,
): unknown {
  return JSON.parse(
    JSON.stringify(
      encodeAuditedAccount({
        state: {
          account: ACCOUNT,
          status,
          ...(status === 'moved' ? { movedTo: 'beta' } : {}),
          master,
          personal,
          objects: new Map(),
        },
        nonces: NonceWindow.empty(),
      }),
    ),
  );
}

function service(
  own: OwnAccountRow | undefined,
  mirrored: MirroredAccountRow[],
  peers = ['beta', 'gamma'],
): { service: AccountService; asked: string[][] } {
  const asked: string[][] = [];
  const directory: AccountDirectory = {
    own: (account) => Promise.resolve(account === ACCOUNT ? own : undefined),
    mirrored: (account, wanted) => {
      asked.push([...wanted]);
      return Promise.resolve(account === ACCOUNT ? mirrored.filter((m) => wanted.includes(m.peer)) : []);
    },
  };
  return { service: new AccountService(directory, federation('alpha', peers), 'alpha-config'), asked };
}

async function refusal(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof QueryError) return error.code;
    throw error;
  }
  throw new Error('not refused');
}

describe('AccountService (GET /accounts/{address})', () => {
  let account: Account;
  let later: SignedProfile<PersonalProfile>;
  beforeAll(async () => {
    account = await makeAccount();
    later = await buildPersonalProfile(
      { master: account.master.profile.id, sequence: 1, devices: [ADMIN] },
      ADMIN.signature,
    );
  });

  const ownRow = (status: string): OwnAccountRow => ({
    status,
    master: account.master.jws,
    personal: account.personal.jws,
  });

  it('answers an account of this portal with its own id and profile ids, in any case of the address', async () => {
    const { service: s, asked } = service(ownRow('active'), [
      { peer: 'beta', state: state(account, 'active', later) },
    ]);
    const own = { Portal: 'alpha', Master: account.master.profile.id, Personal: account.personal.profile.id };
    expect(await s.locate('Alice@Example.COM')).toEqual({
      Address: ADDRESS,
      Account: ACCOUNT,
      ...own,
      // The mirror's owner is reported too, after this portal's own.
      Owners: [own, { Portal: 'beta', Master: account.master.profile.id, Personal: later.profile.id }],
    });
    expect(asked).toEqual([['beta', 'gamma']]);
  });

  it('reports every active owner: a squatter of the address here does not hide the owner in a mirror', async () => {
    const squatterMaster = await buildMasterProfile(
      { administrators: [STRANGER.signature], created: 1 },
      fixedKey('Ed25519', 99),
    );
    const squatter = {
      master: squatterMaster,
      personal: await buildPersonalProfile(
        { master: squatterMaster.profile.id, sequence: 0, devices: [STRANGER] },
        STRANGER.signature,
      ),
    };
    const { service: s } = service(
      { status: 'active', master: squatter.master.jws, personal: squatter.personal.jws },
      [
        { peer: 'gamma', state: state(account, 'active') },
        { peer: 'beta', state: state(account, 'moved') },
      ],
    );
    const answer = await s.locate(ADDRESS);
    expect(answer).toMatchObject({ Portal: 'alpha', Master: squatter.master.profile.id });
    expect(answer.Owners).toEqual([
      { Portal: 'alpha', Master: squatter.master.profile.id, Personal: squatter.personal.profile.id },
      { Portal: 'gamma', Master: account.master.profile.id, Personal: account.personal.profile.id },
    ]);
    expect(squatter.master.profile.id).not.toBe(account.master.profile.id);
  });

  it('answers an account of a peer from its verified mirror, skipping moved and deleted states', async () => {
    const { service: s } = service(ownRow('moved'), [
      { peer: 'beta', state: state(account, 'moved') },
      { peer: 'gamma', state: state(account, 'active') },
    ]);
    expect(await s.locate(ADDRESS)).toMatchObject({ Portal: 'gamma', Master: account.master.profile.id });
  });

  it('prefers the mirror with the higher Personal Profile sequence; a state that does not decode is skipped', async () => {
    const { service: s } = service(
      undefined,
      [
        { peer: 'beta', state: { v: 99 } },
        { peer: 'gamma', state: state(account, 'active') },
        { peer: 'delta', state: state(account, 'active', later) },
      ],
      ['beta', 'delta', 'gamma'],
    );
    const lines: object[] = [];
    const log = { error: (l: object) => lines.push(l), warn: () => undefined, log: () => undefined };
    const answer = await s.locate(ADDRESS, log);
    expect(answer).toMatchObject({ Portal: 'delta', Personal: later.profile.id });
    expect(answer.Owners.map((o) => o.Portal)).toEqual(['delta', 'gamma']);
    // Logged through the request's lines it was given (the query binds no request context).
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'a stored mirror account state does not decode', peer: 'beta' }),
    ]);
  });

  it('refuses a malformed address (400) before any lookup, and an unknown or only deleted account (404)', async () => {
    const { service: s, asked } = service(ownRow('deleted'), [
      { peer: 'beta', state: state(account, 'deleted') },
    ]);
    for (const bad of ['alice', 'a b@example.com', '@example.com', `${'a'.repeat(300)}@x.org`, 'a@b@c'])
      expect(await refusal(s.locate(bad))).toBe('account.invalid');
    expect(asked).toEqual([]);
    expect(await refusal(s.locate(ADDRESS))).toBe('account.not-found');
    expect(await refusal(s.locate('bob@example.com'))).toBe('account.not-found');
  });

  it('falls back to PORTAL_ID before replication wrote the portal row', async () => {
    const directory: AccountDirectory = {
      own: () => Promise.resolve(ownRow('active')),
      mirrored: () => Promise.resolve([]),
    };
    const s = new AccountService(directory, federation(undefined, []), 'alpha-config');
    expect(await s.locate(ADDRESS)).toMatchObject({ Portal: 'alpha-config' });
  });
});
