import { accountView, type AccountState } from './account-state';
import { MeshError } from './mesh-error';
import { applyPublish, type ObjectState } from './persistence-model';
import { findDevice } from './personal-profile';
import { keyHasId } from './profile-key';
import type { DeviceProfile, MasterProfile, PersonalProfile, SignedProfile } from './profile-types';
import { checkProfileSigner } from './signing-rules';
import { checkAdministrator, verifyRequest, type VerifiedRequest } from './signed-request';
import type { RecheckContext } from './recheck';
import type { Operation, TransactionRecord } from './transaction-record';

type RecordOf<O extends Operation> = Extract<TransactionRecord, { operation: O }>;

/**
 * The clock a request's time is checked against: the gateway's own clock when the request arrived, or
 * an auditor's seal time (RecheckContext). `maxDelayMs` (default 0) widens the window into the past
 * only: an auditor's `now` is when the entry was sealed, up to the sealing delay after the gateway
 * accepted the request.
 */
export interface RequestClock {
  readonly now: number;
  readonly maxSkewMs?: number;
  readonly maxDelayMs?: number;
}

type Objects = Map<string, ObjectState<SignedProfile>>;

/**
 * Applies one transaction record to the state of its account: the whole of what the gateway enforces
 * and every auditing peer re-checks (DESIGN.md "The log"), using only the record and the state:
 *  1. the authorisation is a request signed by a device of the account's Personal Profile, for this
 *     operation, this account UDF and exactly this statement (000 §3.2.1, first criterion);
 *  2. every signed value satisfies its signing rule (000 §6.4; second criterion);
 *  3. the persistence model (000 §3.2.1) and the account's life cycle.
 * Resolves with the next state; throws a MeshError naming the first rule broken. The request MUST be
 * bound to `context.origin` (the gateway's own origin; an auditor's: the origin of the log it
 * re-checks), else 'request.wrong-portal'. Its freshness is checked only when `clock` is given;
 * replays are the caller's to refuse.
 */
export async function applyRecord(
  state: AccountState | undefined,
  record: TransactionRecord,
  context: RecheckContext,
  clock?: RequestClock,
): Promise<AccountState> {
  if (state !== undefined && state.account !== record.account)
    throw new MeshError('record.wrong-account', `a record of ${record.account} given to ${state.account}`);
  if (record.operation === 'CreateAccount') return createAccount(state, record, context, clock);
  if (state === undefined) throw new MeshError('account.unknown', `account ${record.account} does not exist`);
  if (state.status === 'deleted')
    throw new MeshError('account.deleted', `account ${record.account} is deleted`);
  if (state.status === 'moved')
    throw new MeshError(
      'account.moved',
      `account ${record.account} moved to ${state.movedTo ?? 'another portal'}`,
    );
  switch (record.operation) {
    case 'DeleteAccount':
      await authorise(record, state.personal.profile, context, clock, state.master.profile);
      return { ...state, status: 'deleted', objects: endObjects(state.objects) };
    case 'MoveAccount':
      // An administrator's signature: the old portal cannot forge the record that closes the account.
      await authorise(record, state.personal.profile, context, clock, state.master.profile);
      return { ...state, status: 'moved', movedTo: record.to, objects: endObjects(state.objects) };
    case 'Publish': {
      // Changing the Master Profile grants or withdraws administrator rights (000 §6.1): an
      // administrator's act, as approving a device is, on top of the master key's signature.
      const administratorOf = record.id === state.master.profile.id ? state.master.profile : undefined;
      await authorise(record, state.personal.profile, context, clock, administratorOf);
      return publish(state, record, context);
    }
    case 'ConnectComplete':
      await authorise(record, state.personal.profile, context, clock, state.master.profile);
      return connectComplete(state, record, context);
  }
}

async function authorise(
  record: TransactionRecord,
  personal: PersonalProfile,
  context: RecheckContext,
  clock: RequestClock | undefined,
  administratorOf?: MasterProfile,
): Promise<VerifiedRequest> {
  const verified = await verifyRequest(record.authorisation, {
    request: record.operation,
    portal: context.origin,
    account: record.account,
    body: record.statement,
    personal,
    ...(context.signatures === undefined ? {} : { verdicts: context.signatures }),
    ...(clock === undefined
      ? {}
      : { now: clock.now, maxSkewMs: clock.maxSkewMs, maxDelayMs: clock.maxDelayMs }),
  });
  if (administratorOf !== undefined) checkAdministrator(administratorOf, verified.device);
  return verified;
}

/** Every active object of the catalog becomes inactive (the account's catalog ends here). */
function endObjects(objects: ReadonlyMap<string, ObjectState<SignedProfile>>): Objects {
  const ended: Objects = new Map();
  for (const [id, object] of objects)
    ended.set(id, object.status === 'active' ? { status: 'inactive' } : object);
  return ended;
}

function step(objects: Objects, id: string, next: ReturnType<typeof applyPublish<SignedProfile>>): void {
  if (!next.ok) throw new MeshError(next.code, `${id}: ${next.detail}`);
  objects.set(id, next.next);
}

/** The device profile is the one `personal` lists: same id and the same two keys. */
function checkListed(personal: PersonalProfile, device: DeviceProfile): void {
  const entry = findDevice(personal, device.signature.udf);
  if (entry === undefined || !keyHasId(entry.encryption, device.encryption.udf))
    throw new MeshError('publish.device-not-listed', `device ${device.id} is not listed with these keys`);
}

async function createAccount(
  state: AccountState | undefined,
  record: RecordOf<'CreateAccount'>,
  context: RecheckContext,
  clock: RequestClock | undefined,
): Promise<AccountState> {
  if (state?.status === 'active') throw new MeshError('account.exists', `account ${record.account} exists`);
  // A moved account does not come back in the log it left (its home is elsewhere).
  if (state?.status === 'moved')
    throw new MeshError(
      'account.moved',
      `account ${record.account} moved to ${state.movedTo ?? 'another portal'}`,
    );
  const { master, personal } = record;
  if (personal.profile.master !== master.profile.id)
    throw new MeshError('publish.wrong-account', 'the Personal Profile names another Master Profile');
  const view = accountView(master, personal);
  const verdicts = context.signatures;
  await checkProfileSigner(master, view, verdicts);
  await checkProfileSigner(personal, view, verdicts);
  for (const device of record.devices) {
    await checkProfileSigner(device, view, verdicts);
    checkListed(personal.profile, device.profile);
  }
  await authorise(record, personal.profile, context, clock, master.profile);
  // A deleted account's catalog ends with it: the re-created account starts from undefined objects.
  const objects: Objects = new Map();
  for (const signed of [master, personal, ...record.devices])
    step(
      objects,
      signed.profile.id,
      applyPublish(objects.get(signed.profile.id), { action: 'create', value: signed }),
    );
  return { account: record.account, status: 'active', master, personal, objects };
}

function checkSequence(current: SignedProfile | undefined, next: MasterProfile | PersonalProfile): void {
  const old = current?.profile;
  if (old !== undefined && old.kind === next.kind && next.sequence <= old.sequence)
    throw new MeshError(
      'publish.stale-sequence',
      `Sequence ${next.sequence} does not exceed ${old.sequence}`,
    );
}

async function publish(
  state: AccountState,
  record: RecordOf<'Publish'>,
  context: RecheckContext,
): Promise<AccountState> {
  const current = state.objects.get(record.id);
  const objects: Objects = new Map(state.objects);
  if (record.value === undefined) {
    if (current?.status === 'active' && ['master', 'personal'].includes(current.value.profile.kind))
      throw new MeshError(
        'publish.not-allowed',
        'a Master or Personal Profile is deleted only with its account',
      );
    step(objects, record.id, applyPublish(current, { action: 'delete' }));
    return { ...state, objects };
  }
  const value = record.value;
  const profile = value.profile;
  if (profile.id !== record.id)
    throw new MeshError('publish.id-mismatch', `the value is ${profile.id}, not ${record.id}`);
  if (current?.status === 'active' && current.value.profile.kind !== profile.kind)
    throw new MeshError('publish.id-mismatch', `${record.id} is a ${current.value.profile.kind} profile`);
  let next: AccountState = state;
  switch (profile.kind) {
    case 'master':
    case 'personal':
      if (record.action === 'create')
        throw new MeshError(
          'publish.not-allowed',
          `a ${profile.kind} profile is created only by CreateAccount`,
        );
      if (profile.kind === 'personal' && profile.master !== state.master.profile.id)
        throw new MeshError('publish.wrong-account', 'the Personal Profile names another Master Profile');
      checkSequence(current?.status === 'active' ? current.value : undefined, profile);
      // The current Personal Profile MUST stay signed by an administrator (000 §6.4) at every point
      // of the log: withdrawing the right of the key that signed it needs the Personal Profile
      // re-signed by another administrator first (issue #19).
      if (profile.kind === 'master' && !profile.administrators.some((k) => k.udf === state.personal.signer))
        throw new MeshError(
          'rule.personal-signer',
          `the current Personal Profile is signed by ${state.personal.signer}, which this Master Profile no longer lists: re-sign it by a remaining administrator first`,
        );
      if (profile.kind === 'master') next = { ...state, master: value as SignedProfile<MasterProfile> };
      else next = { ...state, personal: value as SignedProfile<PersonalProfile> };
      break;
    case 'application':
      if (profile.personal !== state.personal.profile.id)
        throw new MeshError(
          'publish.wrong-account',
          'the Application Profile names another Personal Profile',
        );
      break;
    case 'device':
      break;
  }
  // The signing rules are checked against the account's profiles BEFORE this change: a Master
  // Profile by its own key, a Personal Profile by an administrator of the current Master Profile.
  await checkProfileSigner(value, accountView(state.master, state.personal), context.signatures);
  step(objects, record.id, applyPublish(current, { action: record.action, value }));
  return { ...next, objects };
}

async function connectComplete(
  state: AccountState,
  record: RecordOf<'ConnectComplete'>,
  context: RecheckContext,
): Promise<AccountState> {
  const { personal, device } = record;
  if (personal.profile.id !== state.personal.profile.id)
    throw new MeshError('publish.wrong-account', "the Personal Profile is not the account's");
  checkSequence(state.personal, personal.profile);
  const view = accountView(state.master, state.personal);
  await checkProfileSigner(personal, view, context.signatures);
  await checkProfileSigner(device, view, context.signatures);
  checkListed(personal.profile, device.profile);
  const objects: Objects = new Map(state.objects);
  step(
    objects,
    personal.profile.id,
    applyPublish(objects.get(personal.profile.id), { action: 'update', value: personal }),
  );
  const existing = objects.get(device.profile.id);
  step(
    objects,
    device.profile.id,
    applyPublish(
      existing,
      existing === undefined ? { action: 'create', value: device } : { action: 'update', value: device },
    ),
  );
  return { ...state, personal, objects };
}
