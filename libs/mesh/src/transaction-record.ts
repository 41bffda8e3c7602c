import {
  escapeControls,
  type FlattenedJws,
  type JwsSigningKey,
  type RandomSource,
} from '@cryptomesh/crypto/portable';
import { decodeEntry, encodeEntry, isLogError } from '@cryptomesh/log';
import { JsonReader, type JsonObject } from './json';
import { MeshError } from './mesh-error';
import type { PublishAction } from './persistence-model';
import type { PublicKeyInput } from './profile-key';
import type { DeviceProfile, MasterProfile, PersonalProfile, Profile, SignedProfile } from './profile-types';
import { readProfile, readProfileOf } from './signed-profile';
import { signRequest } from './signed-request';
import { keepStatementBytes } from './statement-bytes';

/** The logged operations (mesh-model.md "Records"). EscrowPut and connection requests are not logged. */
export type Operation = 'CreateAccount' | 'DeleteAccount' | 'Publish' | 'ConnectComplete' | 'MoveAccount';

/** An account created with its Master, Personal and initial Device Profiles. */
export interface CreateAccountRecord {
  readonly operation: 'CreateAccount';
  readonly account: string;
  readonly master: SignedProfile<MasterProfile>;
  readonly personal: SignedProfile<PersonalProfile>;
  readonly devices: readonly SignedProfile<DeviceProfile>[];
}

export interface DeleteAccountRecord {
  readonly operation: 'DeleteAccount';
  readonly account: string;
}

/**
 * The account moved to another portal (federation.md "Which value is current"): signed by an
 * administrator device, logged at the OLD portal, naming the new home by its log origin. It closes the
 * account here: no later record of the account is valid in this log.
 */
export interface MoveAccountRecord {
  readonly operation: 'MoveAccount';
  readonly account: string;
  /** The new home portal's log origin (DESIGN.md "The log": the seal's first line). */
  readonly to: string;
}

/** One persistence-model event (000 §3.2.1) on one object of the account's catalog. */
export interface PublishRecord {
  readonly operation: 'Publish';
  readonly account: string;
  readonly action: PublishAction;
  readonly id: string;
  /** The new signed value; absent for delete. */
  readonly value?: SignedProfile;
}

/** An administrator's acceptance of a device: the updated Personal Profile and the device's profile. */
export interface ConnectCompleteRecord {
  readonly operation: 'ConnectComplete';
  readonly account: string;
  readonly personal: SignedProfile<PersonalProfile>;
  readonly device: SignedProfile<DeviceProfile>;
}

export type RecordContent =
  CreateAccountRecord | DeleteAccountRecord | MoveAccountRecord | PublishRecord | ConnectCompleteRecord;

/** A parsed record: its content, its signed statement, and the authorisation over that statement. */
export type TransactionRecord = RecordContent & {
  /** The record without `Authorisation`: exactly the body the authorisation signs. */
  readonly statement: JsonObject;
  readonly authorisation: FlattenedJws;
};

const jws = (j: FlattenedJws): JsonObject => ({
  protected: j.protected,
  payload: j.payload,
  signature: j.signature,
});

/**
 * The statement of a record (its JSON without `Authorisation`): what the client signs as the request
 * body and what the gateway rebuilds from the request to check that signature. Only UDFs name the
 * account: the address never appears.
 */
export function recordStatement(content: RecordContent): JsonObject {
  const base = { Operation: content.operation, Account: content.account };
  switch (content.operation) {
    case 'CreateAccount':
      return {
        ...base,
        Master: jws(content.master.jws),
        Personal: jws(content.personal.jws),
        Devices: content.devices.map((d) => jws(d.jws)),
      };
    case 'DeleteAccount':
      return base;
    case 'MoveAccount':
      return { ...base, To: content.to };
    case 'Publish':
      return {
        ...base,
        Action: content.action,
        Id: content.id,
        ...(content.value === undefined ? {} : { Value: jws(content.value.jws) }),
      };
    case 'ConnectComplete':
      return { ...base, Personal: jws(content.personal.jws), Device: jws(content.device.jws) };
  }
}

/** The record: the statement plus the authorisation (a signed request whose body is the statement). */
export function recordJson(statement: JsonObject, authorisation: FlattenedJws): JsonObject {
  return { ...statement, Authorisation: jws(authorisation) };
}

/**
 * Client side: signs the statement of `content` with a device key (request name = operation) and
 * returns the record as the gateway will log it.
 */
export async function authoriseRecord(
  content: RecordContent,
  deviceKey: JwsSigningKey & PublicKeyInput,
  options: { readonly portal: string; readonly time: number; readonly random?: RandomSource },
): Promise<TransactionRecord> {
  const statement = recordStatement(content);
  const authorisation = await signRequest(
    { request: content.operation, account: content.account, body: statement, ...options },
    deviceKey,
  );
  return { ...content, statement, authorisation };
}

/** The entry bytes of a record: RFC 8785 JCS (`@cryptomesh/log` encodeEntry). */
export function encodeRecord(record: TransactionRecord): Uint8Array {
  return encodeEntry(recordJson(record.statement, record.authorisation));
}

/** The longest origin a MoveAccount may name (a C2SP origin is one line; this bounds the entry). */
const MAX_ORIGIN_LENGTH = 255;

const MEMBERS: Readonly<Record<Operation, readonly string[]>> = {
  CreateAccount: ['Master', 'Personal', 'Devices'],
  DeleteAccount: [],
  MoveAccount: ['To'],
  Publish: ['Action', 'Id', 'Value'],
  ConnectComplete: ['Personal', 'Device'],
};

/**
 * Parses a record object (no signature is checked here: applyRecord does that). Throws
 * 'record.malformed', or the profile codes of a malformed profile inside it.
 */
export function parseRecord(value: unknown): TransactionRecord {
  const r: JsonReader = JsonReader.object(value, 'the record', 'record.malformed');
  const operation = r.string('Operation');
  if (!(operation in MEMBERS)) r.fail(`unknown operation ${JSON.stringify(operation)}`);
  r.members(['Operation', 'Account', 'Authorisation', ...(MEMBERS[operation as Operation] ?? [])]);
  const account = r.udf('Account');
  const authorisation = r.object('Authorisation').value as unknown as FlattenedJws;
  const statement = Object.fromEntries(
    Object.entries(r.value).filter(([k]) => k !== 'Authorisation'),
  ) as JsonObject;
  const content = ((): RecordContent => {
    switch (operation as Operation) {
      case 'CreateAccount':
        return {
          operation: 'CreateAccount',
          account,
          master: readProfileOf(r.raw('Master'), 'master'),
          personal: readProfileOf(r.raw('Personal'), 'personal'),
          devices: r.array('Devices').map((d) => readProfileOf(d, 'device')),
        };
      case 'DeleteAccount':
        return { operation: 'DeleteAccount', account };
      case 'MoveAccount': {
        const to = r.string('To');
        if (to.length === 0 || to.length > MAX_ORIGIN_LENGTH || /[\s]/.test(to) || escapeControls(to) !== to)
          r.fail(
            `"To" must be a log origin: 1 to ${MAX_ORIGIN_LENGTH} characters, no white space or control character`,
          );
        return { operation: 'MoveAccount', account, to };
      }
      case 'Publish': {
        const action = r.string('Action');
        if (action !== 'create' && action !== 'update' && action !== 'delete')
          r.fail(`unknown action ${action}`);
        if ((action === 'delete') === r.has('Value')) r.fail(`"Value" is required by create/update only`);
        const signed: SignedProfile<Profile> | undefined = r.has('Value')
          ? readProfile(r.raw('Value'))
          : undefined;
        return {
          operation: 'Publish',
          account,
          action,
          id: r.udf('Id'),
          ...(signed ? { value: signed } : {}),
        };
      }
      case 'ConnectComplete':
        return {
          operation: 'ConnectComplete',
          account,
          personal: readProfileOf(r.raw('Personal'), 'personal'),
          device: readProfileOf(r.raw('Device'), 'device'),
        };
    }
  })();
  return { ...content, statement, authorisation };
}

/**
 * Decodes entry bytes (which MUST be canonical JCS) into a record. Throws 'record.malformed' et al.
 * `keepStatement`, for a caller that re-checks the record's request: the statement's canonical bytes
 * are cut from the entry and kept for its digest (statement-bytes.ts), and the statement is frozen.
 */
export function decodeRecord(
  entry: Uint8Array,
  options: { readonly keepStatement?: boolean } = {},
): TransactionRecord {
  let value: JsonObject;
  try {
    value = decodeEntry(entry);
  } catch (cause) {
    if (!isLogError(cause)) throw cause;
    throw new MeshError('record.malformed', `the entry is not canonical JSON: ${cause.message}`, { cause });
  }
  const record = parseRecord(value);
  if (options.keepStatement === true) keepStatementBytes(entry, value, record.statement);
  return record;
}
