import type { FlattenedJws } from '@cryptomesh/crypto/portable';
import type { JsonObject } from './json';
import type { ProfileKey } from './profile-key';

/** The four profile types of 000 §6. */
export type ProfileKind = 'master' | 'personal' | 'device' | 'application';

/** The JWS `typ` of each profile type (mesh-model.md "Envelopes"). */
export const PROFILE_TYPES: Readonly<Record<ProfileKind, string>> = {
  master: 'application/mmm-master-profile+json',
  personal: 'application/mmm-personal-profile+json',
  device: 'application/mmm-device-profile+json',
  application: 'application/mmm-application-profile+json',
};

/** 000 §6.1: the master signature key, the administrator keys, and the online escrow key (§6.5.2). */
export interface MasterProfile {
  readonly kind: 'master';
  /** The UDF of `signature`: persistent, one Master Profile only (000 §6.1). */
  readonly id: string;
  readonly signature: ProfileKey;
  /** Keys that may sign the Personal Profile; administrator devices sign requests with them. */
  readonly administrators: readonly ProfileKey[];
  /** The master escrow key of online escrow (000 §6.5.2), X25519/X448, if the user has one. */
  readonly escrow?: ProfileKey;
  /**
   * The escrow consent key (issue #19 item 3, docs/decisions.md "Online escrow"): an Ed25519/Ed448
   * key whose private part only the user holds (on paper); the escrow agent acts only on a restore
   * request it signed. Present exactly when `escrow` is.
   */
  readonly escrowConsent?: ProfileKey;
  /** Grows with every update, so an older signed value can never be published again. */
  readonly sequence: number;
  /** Unix milliseconds, as the user's device claims. */
  readonly created: number;
}

/** A device connected to a Personal Profile (002 §3.1.1.2): its profile id and its keys. */
export interface DeviceEntry {
  /** The device profile's identifier = UDF of `signature`. */
  readonly id: string;
  readonly signature: ProfileKey;
  readonly encryption: ProfileKey;
}

/** An application connected to a Personal Profile (000 §6.3 "Application Device Entry"). */
export interface ApplicationEntry {
  /** The Application Profile's identifier. */
  readonly id: string;
  /** The application type, which the Application Profile MUST carry too. */
  readonly type: string;
  /** The keys that may sign that Application Profile (000 §6.4). */
  readonly signers: readonly ProfileKey[];
}

/** 000 §6.1: the user's devices and applications. */
export interface PersonalProfile {
  readonly kind: 'personal';
  /** personalProfileId(master): persistent, like the Master Profile's (000 §6.1, last paragraph). */
  readonly id: string;
  /** The Master Profile's identifier. */
  readonly master: string;
  readonly sequence: number;
  readonly devices: readonly DeviceEntry[];
  readonly applications: readonly ApplicationEntry[];
}

/** 000 §6.2: a device's public keys and a description. */
export interface DeviceProfile {
  readonly kind: 'device';
  /** The UDF of `signature`. */
  readonly id: string;
  readonly signature: ProfileKey;
  readonly encryption: ProfileKey;
  readonly description: string;
}

/** 000 §6.3: public data for everyone, private data as a JWE to the devices' encryption keys. */
export interface ApplicationProfile {
  readonly kind: 'application';
  /** applicationProfileId(personal, type, name): stable across updates. */
  readonly id: string;
  /** The Personal Profile it belongs to. */
  readonly personal: string;
  readonly type: string;
  /** Tells two profiles of one application type apart ("work", "home"). */
  readonly name: string;
  readonly public: JsonObject;
  /** A general JWE (docs/crypto.md "JWE profile"); the portal cannot read it. */
  readonly private?: JsonObject;
}

export type Profile = MasterProfile | PersonalProfile | DeviceProfile | ApplicationProfile;

/** A profile as published: the JWS, its `kid`, and the payload it carries. Not yet verified. */
export interface SignedProfile<P extends Profile = Profile> {
  readonly jws: FlattenedJws;
  /** The `kid` of the protected header: the UDF of the key that claims to have signed. */
  readonly signer: string;
  readonly profile: P;
}
