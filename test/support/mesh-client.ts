import { randomBytes } from 'node:crypto';
import { accountUdf, generateKeyPair, publicKeyOf, toBase64Url, type KeyPair } from '@cryptomesh/crypto';
import {
  applicationProfileId,
  authoriseRecord,
  buildApplicationProfile,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  requestBodyUdf,
  signRequest,
  solveProofOfWork,
  type ApplicationEntryInput,
  type ApplicationProfile,
  type DeviceProfile,
  type JsonObject,
  type MasterProfile,
  type PersonalProfile,
  type RecordContent,
  type SignedProfile,
} from '@cryptomesh/mesh';

/**
 * A test client of the Mesh Portal protocol, built on `@cryptomesh/mesh`: keys, profiles and signed
 * requests exactly as docs/PROTOCOL.md describes them. Not the SDK (issue #7): no retries, no
 * storage, and it can build deliberately wrong requests.
 */

export type Fields = Record<string, unknown>;

export interface Answer {
  readonly status: number;
  /** The member name of the answer, e.g. `PublishResponse` or `ErrorResponse`. */
  readonly member: string;
  readonly fields: Fields;
  readonly headers: Headers;
}

/** POSTs `{"<name>Request": body}` (or a raw string) to the gateway. */
export async function post(gatewayUrl: string, name: string, body: Fields | string): Promise<Answer> {
  const res = await fetch(`${gatewayUrl}/.well-known/mmm/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify({ [`${name}Request`]: body }),
  });
  const json = (await res.json()) as Record<string, Fields>;
  const [member, fields] = Object.entries(json)[0] ?? ['', {}];
  return { status: res.status, member, fields, headers: res.headers };
}

/** The flattened JWS of a signed profile, as requests carry it. */
export function jws(signed: SignedProfile): JsonObject {
  return { protected: signed.jws.protected, payload: signed.jws.payload, signature: signed.jws.signature };
}

export interface TestDevice {
  readonly signature: KeyPair<'Ed25519'>;
  readonly encryption: KeyPair<'X25519'>;
  readonly profile: SignedProfile<DeviceProfile>;
}

/** A key pair: fresh, or — with `seed` — fixed (the private key is `seed` repeated), for known answers. */
export function testKey<A extends 'Ed25519' | 'X25519'>(algorithm: A, seed?: number): KeyPair<A> {
  if (seed === undefined) return generateKeyPair(algorithm);
  const privateKey = new Uint8Array(32).fill(seed);
  const pair: KeyPair<A> = { algorithm, privateKey, publicKey: publicKeyOf(algorithm, privateKey) };
  return pair;
}

/** A new device with fresh (or, with `seed`, fixed) keys and its self-signed Device Profile. */
export async function newDevice(description: string, seed?: number): Promise<TestDevice> {
  const signature = testKey('Ed25519', seed);
  const encryption = testKey('X25519', seed);
  const profile = await buildDeviceProfile({ encryption, description }, signature);
  return { signature, encryption, profile };
}

/** A ConnectStart nonce: 16 random bytes, base64url, chosen by the new device (issue #14, hole 1). */
export function connectNonce(): string {
  return toBase64Url(randomBytes(16));
}

/** The origin of test-gateway.ts's portal (its LOG_ORIGIN): what test requests are bound to by default. */
export const TEST_PORTAL_ORIGIN = 'alpha.example/log';

/** The origin a portal's Hello answers: what requests to it must be bound to (issue #14). */
export async function portalOrigin(gatewayUrl: string): Promise<string> {
  const answer = await post(gatewayUrl, 'Hello', {});
  if (typeof answer.fields.Origin !== 'string') throw new Error(`${gatewayUrl}: Hello without Origin`);
  return answer.fields.Origin;
}

/** A signed request over `body` (what `Authentication` carries), by `device`, for the portal `portal`. */
export async function authentication(
  name: string,
  account: string,
  body: Fields,
  device: TestDevice,
  time = Date.now(),
  portal = TEST_PORTAL_ORIGIN,
): Promise<JsonObject> {
  const signed = await signRequest(
    { request: name, portal, account: accountUdf(account), body, time },
    device.signature,
  );
  return signed as unknown as JsonObject;
}

/** `body` plus its `Authentication`, signed by `device`. */
export async function authenticated(
  name: string,
  body: Fields & { Account: string },
  device: TestDevice,
  time = Date.now(),
  portal = TEST_PORTAL_ORIGIN,
): Promise<Fields> {
  return { ...body, Authentication: await authentication(name, body.Account, body, device, time, portal) };
}

/**
 * One account as its owner holds it: the master key, the administrator device, the current
 * profiles. The methods build requests; they do not change this object — `adopt` does, once the
 * portal accepted a change.
 */
export class TestAccount {
  readonly udf: string;

  private constructor(
    readonly address: string,
    readonly masterKey: KeyPair<'Ed25519'>,
    readonly admin: TestDevice,
    readonly master: SignedProfile<MasterProfile>,
    public personal: SignedProfile<PersonalProfile>,
    public devices: TestDevice[],
    public applications: ApplicationEntryInput[] = [],
    /** The origin of the portal this account's requests are bound to (issue #14). */
    public portal: string = TEST_PORTAL_ORIGIN,
  ) {
    this.udf = accountUdf(address);
  }

  /**
   * A new account whose only device (`admin`) is its only administrator. With `fixed`, its keys and
   * profiles are always the same (Ed25519 signatures are deterministic), so a CreateAccount statement
   * — and a proof of work over it — is a known answer.
   */
  static async create(
    address: string,
    fixed?: { seed: number; created: number },
    portal: string = TEST_PORTAL_ORIGIN,
  ): Promise<TestAccount> {
    const masterKey = testKey('Ed25519', fixed?.seed);
    const admin = await newDevice('administrator laptop', fixed === undefined ? undefined : fixed.seed + 1);
    const created = fixed?.created ?? Date.now();
    const master = await buildMasterProfile({ administrators: [admin.signature], created }, masterKey);
    const personal = await buildPersonalProfile(
      { master: master.profile.id, sequence: 0, devices: [admin] },
      admin.signature,
    );
    return new TestAccount(address, masterKey, admin, master, personal, [admin], [], portal);
  }

  /** The statement digest a CreateAccount's proof of work is over (mesh-model.md "Proof of work"). */
  createAccountBody(): string {
    return requestBodyUdf({
      Operation: 'CreateAccount',
      Account: this.udf,
      Master: jws(this.master),
      Personal: jws(this.personal),
      Devices: this.devices.map((d) => jws(d.profile)),
    });
  }

  /** The body of a CreateAccount, with a proof of work solved at `level`, or the given one. */
  async createAccount(
    options: { proofOfWorkLevel?: number; proofOfWork?: string; signer?: TestDevice } = {},
  ): Promise<Fields> {
    const record = await this.authorise(
      {
        operation: 'CreateAccount',
        account: this.udf,
        master: this.master,
        personal: this.personal,
        devices: this.devices.map((d) => d.profile),
      },
      options.signer,
    );
    const level = options.proofOfWorkLevel ?? 0;
    return {
      Account: this.address,
      Master: jws(this.master),
      Personal: jws(this.personal),
      Devices: this.devices.map((d) => jws(d.profile)),
      Authorisation: record.authorisation,
      ...(options.proofOfWork !== undefined ? { ProofOfWork: options.proofOfWork } : {}),
      ...(level > 0 ? { ProofOfWork: solveProofOfWork(requestBodyUdf(record.statement), level) } : {}),
    };
  }

  async deleteAccount(signer?: TestDevice): Promise<Fields> {
    const record = await this.authorise({ operation: 'DeleteAccount', account: this.udf }, signer);
    return { Account: this.address, Authorisation: record.authorisation };
  }

  /** The body of a Publish of `value` (create/update) or of a delete of `id`. */
  async publish(
    action: 'create' | 'update' | 'delete',
    target: SignedProfile | string,
    signer?: TestDevice,
  ): Promise<Fields> {
    const value = typeof target === 'string' ? undefined : target;
    const id = typeof target === 'string' ? target : target.profile.id;
    const record = await this.authorise(
      { operation: 'Publish', account: this.udf, action, id, ...(value ? { value } : {}) },
      signer,
    );
    return {
      Account: this.address,
      Action: action,
      Id: id,
      ...(value ? { Value: jws(value) } : {}),
      Authorisation: record.authorisation,
    };
  }

  /** The next Personal Profile: `change` applied, Sequence + 1, signed by the administrator. */
  async nextPersonal(change: {
    devices?: readonly TestDevice[];
    applications?: readonly ApplicationEntryInput[];
  }): Promise<SignedProfile<PersonalProfile>> {
    return buildPersonalProfile(
      {
        master: this.master.profile.id,
        sequence: this.personal.profile.sequence + 1,
        devices: change.devices ?? this.devices,
        applications: change.applications ?? this.applications,
      },
      this.admin.signature,
    );
  }

  /** An Application Profile of this account, and the entry the Personal Profile needs to authorise it. */
  async application(
    type: string,
    name: string,
    publicData: JsonObject,
    signer: TestDevice = this.admin,
  ): Promise<{ profile: SignedProfile<ApplicationProfile>; entry: ApplicationEntryInput }> {
    const personalId = this.personal.profile.id;
    const entry = { id: applicationProfileId(personalId, type, name), type, signers: [this.admin.signature] };
    const profile = await buildApplicationProfile(
      { personal: personalId, type, name, public: publicData },
      signer.signature,
    );
    return { profile, entry };
  }

  /** The body of an accepting ConnectComplete for `device`'s request `requestId`. */
  async acceptConnection(
    requestId: string,
    device: TestDevice,
    personal: SignedProfile<PersonalProfile>,
    signer?: TestDevice,
  ): Promise<Fields> {
    const record = await this.authorise(
      { operation: 'ConnectComplete', account: this.udf, personal, device: device.profile },
      signer,
    );
    return {
      Account: this.address,
      RequestId: requestId,
      Accept: true,
      Personal: jws(personal),
      Device: jws(device.profile),
      Authorisation: record.authorisation,
    };
  }

  /** `body` with `Account` and an `Authentication` by `signer` (default: the administrator). */
  async authenticated(
    name: string,
    body: Fields = {},
    signer: TestDevice = this.admin,
    time?: number,
  ): Promise<Fields> {
    return authenticated(name, { Account: this.address, ...body }, signer, time, this.portal);
  }

  /** Records that the portal accepted `personal` (and the devices it lists). */
  adopt(
    personal: SignedProfile<PersonalProfile>,
    devices: TestDevice[],
    applications: ApplicationEntryInput[],
  ): void {
    this.personal = personal;
    this.devices = devices;
    this.applications = applications;
  }

  private async authorise(content: RecordContent, signer: TestDevice = this.admin) {
    return authoriseRecord(content, signer.signature, { portal: this.portal, time: Date.now() });
  }
}
