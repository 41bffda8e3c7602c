import {
  BoundedMemo,
  contentDigestUdf,
  encryptJwe,
  isCryptoError,
  jweRecipientIds,
  type AgreementKeyAlgorithm,
  type JwsSigningKey,
} from '@cryptomesh/crypto/portable';
import { canonicalJson, JsonReader, type JsonObject } from './json';
import { MeshError } from './mesh-error';
import { profileKey, type PublicKeyInput } from './profile-key';
import { signProfilePayload } from './profile-envelope';
import type { ApplicationProfile, SignedProfile } from './profile-types';

/** The Content-ID of an Application Profile identifier (mesh-model.md "Identifiers"). */
export const APPLICATION_PROFILE_CONTENT_ID = 'MeshApplicationProfile';

/** Identifiers by their three strings and lengths; a key of more than 1,024 characters is not kept. */
const applicationIds = new BoundedMemo<string, string>(4096, 1024);

/**
 * The identifier of an Application Profile: the content digest UDF, Content-ID
 * 'MeshApplicationProfile', of the JCS of {Name, Personal, Type}. Stable across updates, and bound to
 * its Personal Profile so no other account can take it.
 */
export function applicationProfileId(personal: string, type: string, name: string): string {
  const compute = (): string =>
    contentDigestUdf(
      canonicalJson({ Name: name, Personal: personal, Type: type }),
      APPLICATION_PROFILE_CONTENT_ID,
    );
  // Each Application Profile a portal or an auditor reads is checked against its identifier, and an
  // account publishes the same few applications again and again (issue #17): the answer is kept, by
  // the three strings with their lengths (so no two triples share a key).
  if (typeof personal !== 'string' || typeof type !== 'string' || typeof name !== 'string') return compute();
  return applicationIds.get(`${personal.length}:${type.length}:${personal}${type}${name}`, compute);
}

export interface ApplicationProfileInput {
  readonly personal: string;
  readonly type: string;
  readonly name: string;
  readonly public?: JsonObject;
  /** Private data, encrypted to `recipients` (the devices' encryption keys, 000 §6.3). */
  readonly private?: JsonObject;
  readonly recipients?: readonly PublicKeyInput[];
}

/** The payload JSON of an Application Profile (mesh-model.md "Application Profile"). */
export function applicationPayload(profile: ApplicationProfile): JsonObject {
  return {
    Id: profile.id,
    Personal: profile.personal,
    Type: profile.type,
    Name: profile.name,
    Public: profile.public,
    ...(profile.private === undefined ? {} : { Private: profile.private }),
  };
}

/**
 * Builds an Application Profile, encrypting its private data as a JWE to `recipients`, and signs it
 * with `signerKey`. The signing rule (000 §6.4: a key the Personal Profile authorises for this
 * application) is NOT checked here. The JWE draws its randomness inside jose.
 */
export async function buildApplicationProfile(
  input: ApplicationProfileInput,
  signerKey: JwsSigningKey & PublicKeyInput,
): Promise<SignedProfile<ApplicationProfile>> {
  let encrypted: JsonObject | undefined;
  if (input.private !== undefined) {
    const recipients = (input.recipients ?? []).map((k) => {
      const key = profileKey(k, 'encryption');
      return { algorithm: key.algorithm as AgreementKeyAlgorithm, publicKey: key.publicKey };
    });
    try {
      encrypted = (await encryptJwe(canonicalJson(input.private), recipients, {
        contentType: 'application/json',
      })) as unknown as JsonObject;
    } catch (cause) {
      throw new MeshError('input.invalid', 'cannot encrypt the private data', { cause });
    }
  }
  const profile: ApplicationProfile = {
    kind: 'application',
    id: applicationProfileId(input.personal, input.type, input.name),
    personal: input.personal,
    type: input.type,
    name: input.name,
    public: input.public ?? {},
    ...(encrypted === undefined ? {} : { private: encrypted }),
  };
  const jws = await signProfilePayload('application', applicationPayload(profile), signerKey);
  return { jws, signer: profileKey(signerKey, 'signature').udf, profile };
}

/** Parses an Application Profile payload. Throws 'profile.malformed', or 'profile.bad-id'. */
export function parseApplicationProfile(payload: unknown): ApplicationProfile {
  const r: JsonReader = JsonReader.object(payload, 'Application Profile', 'profile.malformed');
  r.members(['Id', 'Personal', 'Type', 'Name', 'Public', 'Private']);
  const id = r.string('Id');
  const personal = r.string('Personal');
  const type = r.string('Type');
  const name = r.string('Name');
  const publicData = r.object('Public').value as JsonObject;
  let privateData: JsonObject | undefined;
  if (r.has('Private')) {
    privateData = r.object('Private').value as JsonObject;
    try {
      jweRecipientIds(privateData); // the shape of docs/crypto.md "JWE profile"; the portal can read no more
    } catch (cause) {
      r.fail(`"Private" is not a JWE: ${isCryptoError(cause) ? cause.message : String(cause)}`, cause);
    }
  }
  if (id !== applicationProfileId(personal, type, name))
    throw new MeshError(
      'profile.bad-id',
      `Application Profile Id ${id} is not derived from its Personal, Type, Name`,
    );
  return {
    kind: 'application',
    id,
    personal,
    type,
    name,
    public: publicData,
    ...(privateData === undefined ? {} : { private: privateData }),
  };
}
