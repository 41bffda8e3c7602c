import {
  decryptJwe,
  encryptJwe,
  generateKeyPair,
  isCryptoError,
  keyUdf,
  privateJwk,
  publicJwk,
  readJwk,
  defaultRandom,
  fromBase64Url,
  type FlattenedJws,
  type JweRecipient,
  type KeyPair,
  type OkpJwk,
} from '@cryptomesh/crypto/portable';
import {
  accountView,
  buildMasterProfile,
  personalProfileId,
  type MasterProfile,
  type PersonalProfile,
  type PublicKeyInput,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { publishApplications, readApplications } from './application-data';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';
import { loadMasterKey, parseJson, readPrivateKey } from './device-keys';
import { loadTrust, saveTrust } from './log-check';
import {
  checkRestoreRequest,
  consentKeyPair,
  formatConsentCode,
  restoreRequestDigest,
  sealRestorePackage,
  signRestoreRequest,
  type RestoredApplication,
} from './online-escrow-consent';
import type { MeshProfileManager, PortalOptions } from './profile-manager';
import { accountName, requireAdministrator, writeProfileDocument } from './profile-document';
import { fetchVerifiedProfile } from './verified-profile';

/**
 * Online escrow (000 §6.5.2, 002 §3.2; issue #19 item 3; docs/decisions.md "Online escrow"). The
 * user names an escrow agent's X25519 key: the Master Profile's `Escrow` (with `EscrowConsent`, the
 * public half of a consent code printed once for the user's paper), signed by the master key and
 * published by this administrator device, so the gateway and every auditor check it as any Master
 * Profile change. Every application's private data is then encrypted to it "as if it was another
 * device" (application-data.ts). Once the user's devices are lost, a new device signs a restore
 * request with the consent code; the agent checks it against the logged Master Profile and sends
 * the new device the applications' data, encrypted to that device's key only. The agent restores
 * application data, never account control: it holds no administrator or master key.
 */

/** The agent's own X25519 key pair (secret document of the agent's MESH_HOME). */
export const ESCROW_AGENT_KEY_DOCUMENT = 'keys/escrow-agent.json';
/** The new device's X25519 key the restore package is encrypted to (secret). */
export const RESTORE_KEY_DOCUMENT = 'keys/restore.json';
/** The new device's last restore request (the package must answer it: online-escrow-open.ts). */
export const RESTORE_REQUEST_DOCUMENT = 'restore-request.json';
/** Where the new device keeps what a restore package held: `restored/<type>.<name>.json`. */
export const RESTORED_DOCUMENTS = 'restored/';

/** The escrow entry of a Master Profile, as `mesh escrow online list` shows it. */
export interface EscrowAgentInfo {
  readonly agent: string;
  readonly consent: string;
}

/** An X25519 key pair kept under `name`, or undefined. */
async function loadAgreementKey(store: ClientStore, name: string): Promise<KeyPair<'X25519'> | undefined> {
  const text = await store.read(name);
  if (text === undefined) return undefined;
  const value = parseJson(text, name) as { Encryption?: unknown } | null;
  return readPrivateKey(value?.Encryption, 'X25519', `${name} "Encryption"`);
}

async function saveAgreementKey(store: ClientStore, name: string, key: KeyPair<'X25519'>): Promise<void> {
  await store.write(name, `${JSON.stringify({ Encryption: privateJwk(key) }, null, 2)}\n`, { secret: true });
}

/**
 * `mesh escrow online agent-key` (agent side): the agent's X25519 key, drawn once and kept in its home;
 * resolves with the public JWK to hand to users. Drawing it again would orphan every escrow made to it.
 */
export async function agentKey(store: ClientStore): Promise<OkpJwk> {
  let key = await loadAgreementKey(store, ESCROW_AGENT_KEY_DOCUMENT);
  if (key === undefined) {
    key = generateKeyPair('X25519');
    await saveAgreementKey(store, ESCROW_AGENT_KEY_DOCUMENT, key);
  }
  return publicJwk('X25519', key.publicKey);
}

/** The agent's public key in a JWK file's JSON; `usage.invalid` for anything else (a private key too). */
export function readAgentPublicKey(value: unknown): PublicKeyInput & { readonly algorithm: 'X25519' } {
  let key;
  try {
    key = readJwk(value);
  } catch (cause) {
    throw new ClientError('usage.invalid', 'the agent key is not a JWK', { check: 'agent key', cause });
  }
  if (key.privateKey !== undefined)
    throw new ClientError('usage.invalid', "this JWK holds a private key: give the agent's public key only", {
      check: 'agent key',
    });
  if (key.algorithm !== 'X25519')
    throw new ClientError('usage.invalid', `the agent key must be an X25519 key, not ${key.algorithm}`, {
      check: 'agent key',
    });
  return { algorithm: 'X25519', publicKey: key.publicKey };
}

/**
 * `usage.invalid` (check `agent key`) for an agent key nothing can be encrypted to — a small-order
 * X25519 point, whose key agreement fails: named, it would make every later application write of
 * every device fail until the agent is removed.
 */
export async function checkAgentKey(agent: PublicKeyInput): Promise<void> {
  try {
    await encryptJwe(new Uint8Array(1), [agent as JweRecipient]);
  } catch (cause) {
    throw new ClientError(
      'usage.invalid',
      'nothing can be encrypted to this agent key (a small-order point, or no X25519/X448 key)',
      {
        check: 'agent key',
        cause,
      },
    );
  }
}

/** The Master Profile after `doc.master` with `escrow` (or without any), signed with the master key. */
async function masterWithEscrow(
  store: ClientStore,
  master: MasterProfile,
  escrow: { readonly escrow: PublicKeyInput; readonly escrowConsent: PublicKeyInput } | undefined,
): Promise<SignedProfile<MasterProfile>> {
  const masterKey = await loadMasterKey(store);
  if (masterKey === undefined)
    throw new ClientError(
      'usage.invalid',
      'only the device that holds the master key can name an escrow agent',
      {
        check: 'master key',
      },
    );
  return buildMasterProfile(
    {
      administrators: master.administrators,
      ...(escrow ?? {}),
      sequence: master.sequence + 1,
      created: master.created,
    },
    masterKey,
  );
}

/**
 * Publishes `next` (a Master Profile with another escrow entry), then every application re-encrypted
 * to the devices and to the new escrow key (or to the devices only). The applications are read before
 * anything is published; a crash in between leaves some encrypted to the old set until their next write.
 */
async function changeEscrow(
  manager: MeshProfileManager,
  change: (master: MasterProfile) => Promise<SignedProfile<MasterProfile>>,
): Promise<SignedProfile<MasterProfile>> {
  const opened = await manager.open();
  const session = opened.session;
  const doc = await manager.refresh(session, opened.doc);
  requireAdministrator(doc, session.deviceId, 'online escrow');
  const next = await change(doc.master.profile);
  const contents = await readApplications(session, doc.master, doc.personal);
  await session.publish('update', next);
  await writeProfileDocument(manager.store, { ...doc, master: next });
  await publishApplications(session, doc.personal, contents, manager.store, next.profile.escrow);
  return next;
}

/**
 * `mesh escrow online add` (the administrator that holds the master key): names `agent` the account's
 * escrow agent, replacing any other. Resolves with the consent code to keep on paper — shown once,
 * kept nowhere — and what the restore request needs (account and fingerprint).
 */
export async function nameEscrowAgent(
  manager: MeshProfileManager,
  agent: PublicKeyInput,
): Promise<EscrowAgentInfo & { code: string; account: string; fingerprint: string }> {
  await checkAgentKey(agent);
  const seed = (manager.options.random ?? defaultRandom)(32);
  const consent = consentKeyPair(seed);
  const master = await changeEscrow(manager, (m) =>
    masterWithEscrow(manager.store, m, { escrow: agent, escrowConsent: consent }),
  );
  const doc = (await manager.open()).doc;
  return {
    agent: master.profile.escrow!.udf,
    consent: master.profile.escrowConsent!.udf,
    code: formatConsentCode(seed),
    account: doc.account,
    fingerprint: master.profile.id,
  };
}

/**
 * `mesh escrow online remove` (the master key holder): the Master Profile names no agent any more and
 * every application is re-encrypted without it. `agent`, when given, must be the one named
 * (`usage.invalid` otherwise, and when none is).
 */
export async function removeEscrowAgent(manager: MeshProfileManager, agent?: string): Promise<string> {
  let removed = '';
  await changeEscrow(manager, (m) => {
    if (m.escrow === undefined)
      throw new ClientError('usage.invalid', 'this account names no escrow agent', { check: 'escrow agent' });
    if (agent !== undefined && agent !== m.escrow.udf)
      throw new ClientError('usage.invalid', `the escrow agent is ${m.escrow.udf}, not ${agent}`, {
        check: 'escrow agent',
      });
    removed = m.escrow.udf;
    return masterWithEscrow(manager.store, m, undefined);
  });
  return removed;
}

/** `mesh escrow online list`: the current Master Profile's escrow entry (read from the portal). */
export async function escrowAgents(manager: MeshProfileManager): Promise<EscrowAgentInfo[]> {
  const opened = await manager.open();
  const doc = await manager.refresh(opened.session, opened.doc);
  const m = doc.master.profile;
  return m.escrow === undefined || m.escrowConsent === undefined
    ? []
    : [{ agent: m.escrow.udf, consent: m.escrowConsent.udf }];
}

/**
 * `mesh escrow online request` (the new device): a restore request signed with the consent code,
 * asking for the data of `account` (fingerprint `fingerprint`) encrypted to this home's restore key
 * (drawn on first use and kept in `keys/restore.json`). The request is kept too: `open` accepts only a
 * package answering it.
 */
export async function requestRestore(
  store: ClientStore,
  request: { readonly account: string; readonly fingerprint: string; readonly seed: Uint8Array },
  env: { readonly now: number; readonly random: (n: number) => Uint8Array },
): Promise<{ request: FlattenedJws; deviceKey: string }> {
  const { account } = accountName(request.account);
  let key = await loadAgreementKey(store, RESTORE_KEY_DOCUMENT);
  if (key === undefined) {
    key = generateKeyPair('X25519');
    await saveAgreementKey(store, RESTORE_KEY_DOCUMENT, key);
  }
  const jws = await signRestoreRequest(
    { account, fingerprint: request.fingerprint, device: key, created: env.now },
    request.seed,
    env.random(16),
  );
  await store.write(RESTORE_REQUEST_DOCUMENT, `${JSON.stringify(jws)}\n`);
  return { request: jws, deviceKey: keyUdf('X25519', key.publicKey) };
}

/** The new device's restore key (`state.missing` when this home made no request). */
export async function restoreKey(store: ClientStore): Promise<KeyPair<'X25519'>> {
  const key = await loadAgreementKey(store, RESTORE_KEY_DOCUMENT);
  if (key === undefined)
    throw new ClientError('state.missing', `no ${RESTORE_KEY_DOCUMENT}: this home made no restore request`, {
      check: RESTORE_KEY_DOCUMENT,
    });
  return key;
}

/** Keeps each restored application in the new device's home (secret: it is plaintext). */
export async function keepRestored(
  store: ClientStore,
  applications: readonly RestoredApplication[],
): Promise<void> {
  for (const a of applications)
    await store.write(`${RESTORED_DOCUMENTS}${a.type}.${a.name}.json`, `${JSON.stringify(a, null, 2)}\n`, {
      secret: true,
    });
}

/** The unverified Account and Fingerprint a request claims: which Master Profile to read first. */
function claimed(jws: unknown): { account: string; fingerprint: string } {
  try {
    const bytes = fromBase64Url(String((jws as FlattenedJws | null)?.payload));
    const payload = JSON.parse(new TextDecoder().decode(bytes)) as {
      Account?: unknown;
      Fingerprint?: unknown;
    };
    if (typeof payload.Account === 'string' && typeof payload.Fingerprint === 'string')
      return { account: accountName(payload.Account).account, fingerprint: payload.Fingerprint };
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
  }
  throw new ClientError('usage.invalid', 'this is not a restore request', { check: 'escrow consent' });
}

/**
 * `mesh escrow online restore` (the agent, in its own home): reads the account's Master, Personal and
 * Application Profiles from the portal's log (verified reads, client.md), checks the request's consent
 * against the logged Master Profile (checkRestoreRequest), decrypts each application with the agent
 * key and resolves with the package, encrypted to the request's device key. `unreadable` lists the
 * applications not encrypted to this agent (written before it was named by an older client).
 */
export async function restoreForRequest(
  manager: MeshProfileManager,
  jws: unknown,
  options: PortalOptions & { readonly now: number },
): Promise<{ package: string; account: string; applications: string[]; unreadable: string[] }> {
  const agent = await loadAgreementKey(manager.store, ESCROW_AGENT_KEY_DOCUMENT);
  if (agent === undefined)
    throw new ClientError('state.missing', `no ${ESCROW_AGENT_KEY_DOCUMENT}: this home is no escrow agent`, {
      check: ESCROW_AGENT_KEY_DOCUMENT,
    });
  const { account, fingerprint } = claimed(jws);
  let trust = await loadTrust(manager.store);
  if (trust === undefined) {
    const hello = await manager.gateway(options.gatewayUrl).hello();
    trust = (await manager.discover(options, hello.portalId, hello.queryUrl)).trust;
    await saveTrust(manager.store, trust);
  }
  const read = async (
    id: string,
    kind: 'master' | 'personal' | 'application',
    known?: ReturnType<typeof accountView>,
  ) =>
    fetchVerifiedProfile(`mmm:${id}:${account}`, {
      trust: trust,
      via: trust.home,
      store: manager.store,
      kind,
      ...(known === undefined ? {} : { known }),
      ...(manager.options.fetchImpl === undefined ? {} : { fetchImpl: manager.options.fetchImpl }),
    });
  const master = (await read(fingerprint, 'master')).signed as SignedProfile<MasterProfile>;
  const request = await checkRestoreRequest(
    jws,
    master.profile,
    keyUdf('X25519', agent.publicKey),
    options.now,
  );
  const personal = (await read(personalProfileId(fingerprint), 'personal', accountView(master, undefined)))
    .signed as SignedProfile<PersonalProfile>;
  const applications: RestoredApplication[] = [];
  const unreadable: string[] = [];
  for (const entry of personal.profile.applications) {
    const signed = (await read(entry.id, 'application', accountView(master, personal))).signed;
    if (signed.profile.kind !== 'application') continue;
    const app = signed.profile;
    let data;
    if (app.private !== undefined)
      try {
        data = JSON.parse(new TextDecoder().decode(await decryptJwe(app.private, agent))) as Record<
          string,
          never
        >;
      } catch (cause) {
        if (!isCryptoError(cause, 'jwe.no-recipient')) throw cause;
        unreadable.push(`${app.type}/${app.name}`);
        continue;
      }
    applications.push({
      type: app.type,
      name: app.name,
      public: app.public,
      ...(data === undefined ? {} : { private: data }),
    });
  }
  const sealed = await sealRestorePackage({ account, fingerprint, applications }, request, {
    privateKey: agent.privateKey,
    requestDigest: restoreRequestDigest(jws as FlattenedJws),
  });
  return {
    package: sealed,
    account,
    applications: applications.map((a) => `${a.type}/${a.name}`),
    unreadable,
  };
}
