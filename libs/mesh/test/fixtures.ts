import {
  accountUdf,
  fromBase64Url,
  fromUtf8,
  publicKeyOf,
  type KeyAlgorithm,
  type KeyPair,
  type RandomSource,
} from '@cryptomesh/crypto/portable';
import { forgeJws, IDENTITY_POINT } from '../../crypto/test/forged-jws';
import {
  authoriseRecord,
  canonicalJson,
  devicePayload,
  PROFILE_TYPES,
  profileKey,
  REQUEST_TYPE,
  encodeRecord,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  type DeviceProfile,
  type MasterProfile,
  type PersonalProfile,
  type SignedProfile,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import { signPayload } from '../src/profile-envelope';

/** Deterministic test fixtures: fixed keys, a fixed clock, a counting random source. */

export const ADDRESS = 'alice@example.com';
export const ACCOUNT = accountUdf(ADDRESS);
export const NOW = 1_800_000_000_000;
/** The origin of the portal the fixtures' requests are bound to (and of the log they are re-checked in). */
export const ORIGIN = 'alpha.test/log';
/** The re-check context of a log of ORIGIN. */
export const CONTEXT = { origin: ORIGIN } as const;

const SIZES: Record<KeyAlgorithm, number> = { Ed25519: 32, Ed448: 57, X25519: 32, X448: 56 };

/** A fixed key pair: the private key is `seed` repeated. */
export function fixedKey<A extends KeyAlgorithm>(algorithm: A, seed: number): KeyPair<A> {
  const privateKey = new Uint8Array(SIZES[algorithm]).fill(seed);
  return { algorithm, privateKey, publicKey: publicKeyOf(algorithm, privateKey) };
}

/** A random source that counts, so that nonces differ and runs repeat. */
export function countingRandom(start = 1): RandomSource {
  let n = start;
  return (length) => {
    const out = new Uint8Array(length);
    let v = n++;
    for (let i = 0; i < length && v > 0; i++, v = Math.floor(v / 256)) out[i] = v % 256;
    return out;
  };
}

export interface Device {
  readonly signature: KeyPair<'Ed25519'>;
  readonly encryption: KeyPair<'X25519'>;
}

export function device(seed: number): Device {
  return { signature: fixedKey('Ed25519', seed), encryption: fixedKey('X25519', seed) };
}

export const MASTER_KEY = fixedKey('Ed25519', 1);
export const ADMIN = device(2);
export const PHONE = device(3);
export const STRANGER = device(4);

export interface Account {
  readonly master: SignedProfile<MasterProfile>;
  readonly personal: SignedProfile<PersonalProfile>;
  readonly adminDevice: SignedProfile<DeviceProfile>;
  readonly create: TransactionRecord;
}

/**
 * The fixture account: its Master Profile has ADMIN as its only administrator, and ADMIN as its only
 * device; its CreateAccount is bound to `portal` (default ORIGIN) and signed at `time` (default NOW).
 */
export async function makeAccount(
  random: RandomSource = countingRandom(),
  portal: string = ORIGIN,
  time: number = NOW,
): Promise<Account> {
  const master = await buildMasterProfile({ administrators: [ADMIN.signature], created: NOW }, MASTER_KEY);
  const personal = await buildPersonalProfile(
    { master: master.profile.id, sequence: 0, devices: [ADMIN] },
    ADMIN.signature,
  );
  const adminDevice = await buildDeviceProfile(
    { encryption: ADMIN.encryption, description: 'laptop' },
    ADMIN.signature,
  );
  const create = await authoriseRecord(
    { operation: 'CreateAccount', account: ACCOUNT, master, personal, devices: [adminDevice] },
    ADMIN.signature,
    { portal, time, random },
  );
  return { master, personal, adminDevice, create };
}

/**
 * A valid `CreateAccount` entry (the record's canonical bytes) for `user<n>@example.com`, with its own
 * master key (seed `masterSeed + n`) and administrator device (seed `deviceSeed + n`): distinct
 * accounts that re-check, for test logs of `seeds.portal` (default ORIGIN), signed at `seeds.time`
 * (default NOW). Seeds MUST stay within 1..255.
 */
export async function createAccountEntry(
  n: number,
  seeds: {
    readonly masterSeed?: number;
    readonly deviceSeed?: number;
    readonly time?: number;
    readonly portal?: string;
    /** The request's `Nonce` as written, signed by the administrator device as any other value. */
    readonly nonce?: string;
  } = {},
): Promise<Uint8Array> {
  const masterSeed = (seeds.masterSeed ?? 0) + n;
  const deviceSeed = (seeds.deviceSeed ?? 2) + n;
  if (![masterSeed, deviceSeed].every((seed) => Number.isInteger(seed) && seed >= 1 && seed <= 255))
    throw new RangeError('key seeds must be 1..255');
  const admin = device(deviceSeed);
  const master = await buildMasterProfile(
    { administrators: [admin.signature], created: NOW },
    fixedKey('Ed25519', masterSeed),
  );
  const personal = await buildPersonalProfile(
    { master: master.profile.id, sequence: 0, devices: [admin] },
    admin.signature,
  );
  const adminDevice = await buildDeviceProfile(
    { encryption: admin.encryption, description: `device ${n}` },
    admin.signature,
  );
  const record = await authoriseRecord(
    {
      operation: 'CreateAccount',
      account: accountUdf(`user${n}@example.com`),
      master,
      personal,
      devices: [adminDevice],
    },
    admin.signature,
    { portal: seeds.portal ?? ORIGIN, time: seeds.time ?? NOW, random: countingRandom(n * 1000) },
  );
  if (seeds.nonce === undefined) return encodeRecord(record);
  const claims = JSON.parse(fromUtf8(fromBase64Url(record.authorisation.payload)!)) as object;
  const authorisation = await signPayload({ ...claims, Nonce: seeds.nonce }, REQUEST_TYPE, admin.signature);
  return encodeRecord({ ...record, authorisation });
}

/**
 * The requests accountRequestEntry makes. `connect`: ConnectComplete, by the administrator, of the
 * account's second device (an ordinary one; Personal Sequence 1). `set-administrators`: a Master
 * Profile (signed with the account's master key, default seeds) listing `administrators`, published
 * by `by` — by `second` while it is no administrator, the forged promotion of issue #19.
 */
export type AccountRequest =
  | { readonly kind: 'update-device'; readonly description: string }
  | { readonly kind: 'delete' }
  | { readonly kind: 'connect' }
  | {
      readonly kind: 'set-administrators';
      readonly administrators: readonly ('admin' | 'second')[];
      readonly sequence: number;
      readonly by: 'admin' | 'second';
      /** Also name an online escrow agent (issue #19 item 3): fixed Escrow and EscrowConsent keys. */
      readonly escrow?: boolean;
    };

/** The second device of account `n` (accountRequestEntry's `connect`); n MUST stay within 1..55. */
export function secondDevice(n: number): Device {
  if (!Number.isInteger(n) || n < 1 || n > 55) throw new RangeError('account numbers must be 1..55');
  return device(200 + n);
}

/**
 * A later request of the account of `createAccountEntry(n, seeds)`, authorised by its administrator
 * device: `update-device` republishes that device's profile with `description` (a Device Profile
 * update, what a portal could roll back by re-logging an older one), `delete` deletes the account.
 * `nonce` picks the request's nonce (distinct from the CreateAccount's for any value ≥ 1); `portal`
 * the origin it is signed for (default ORIGIN).
 */
export async function accountRequestEntry(
  n: number,
  request: AccountRequest,
  options: {
    readonly time: number;
    readonly nonce: number;
    readonly deviceSeed?: number;
    readonly portal?: string;
  },
): Promise<Uint8Array> {
  const admin = device((options.deviceSeed ?? 2) + n);
  const account = accountUdf(`user${n}@example.com`);
  const random = countingRandom(n * 1000 + 500 + options.nonce);
  const how = { portal: options.portal ?? ORIGIN, time: options.time, random };
  if (request.kind === 'connect' || request.kind === 'set-administrators') {
    const second = secondDevice(n);
    const master = await buildMasterProfile(
      { administrators: [admin.signature], created: NOW },
      fixedKey('Ed25519', n),
    );
    if (request.kind === 'connect') {
      const personal = await buildPersonalProfile(
        { master: master.profile.id, sequence: 1, devices: [admin, second] },
        admin.signature,
      );
      const profile = await buildDeviceProfile(
        { encryption: second.encryption, description: `second device ${n}` },
        second.signature,
      );
      return encodeRecord(
        await authoriseRecord(
          { operation: 'ConnectComplete', account, personal, device: profile },
          admin.signature,
          how,
        ),
      );
    }
    const pick = (who: 'admin' | 'second') => (who === 'admin' ? admin : second);
    const value = await buildMasterProfile(
      {
        administrators: request.administrators.map((who) => pick(who).signature),
        ...(request.escrow === true
          ? { escrow: fixedKey('X25519', 90), escrowConsent: fixedKey('Ed25519', 91) }
          : {}),
        sequence: request.sequence,
        created: NOW,
      },
      fixedKey('Ed25519', n),
    );
    return encodeRecord(
      await authoriseRecord(
        { operation: 'Publish', account, action: 'update', id: value.profile.id, value },
        pick(request.by).signature,
        how,
      ),
    );
  }
  if (request.kind === 'delete')
    return encodeRecord(
      await authoriseRecord({ operation: 'DeleteAccount', account }, admin.signature, {
        portal: options.portal ?? ORIGIN,
        time: options.time,
        random,
      }),
    );
  const value = await buildDeviceProfile(
    { encryption: admin.encryption, description: request.description },
    admin.signature,
  );
  return encodeRecord(
    await authoriseRecord(
      { operation: 'Publish', account, action: 'update', id: value.profile.id, value },
      admin.signature,
      { portal: options.portal ?? ORIGIN, time: options.time, random },
    ),
  );
}

/**
 * A Device Profile whose signature key is the Ed25519 identity point, "self-signed" with a forged
 * signature (issue #14, hole 5): what an attacker without any private key can make. Its JWS verifies
 * under OpenSSL's cofactorless check; the strict rules refuse it. Built without parsing (the parser
 * refuses it), so `profile` is what the payload says.
 */
export function forgedDeviceProfile(description = 'attacker'): SignedProfile<DeviceProfile> {
  const signature = profileKey({ algorithm: 'Ed25519', publicKey: IDENTITY_POINT }, 'signature');
  const profile: DeviceProfile = {
    kind: 'device',
    id: signature.udf,
    signature,
    encryption: profileKey(STRANGER.encryption, 'encryption'),
    description,
  };
  const jws = forgeJws(canonicalJson(devicePayload(profile)), PROFILE_TYPES.device);
  return { jws, signer: signature.udf, profile };
}
