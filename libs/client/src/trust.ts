import {
  isLogError,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  parseVerifierKey,
  type VerifierKey,
} from '@cryptomesh/log';
import { ClientError } from './client-error';
import { globalFetch, joinUrl, portalRequest, refusal, type FetchLike } from './portal-http';
import { QueryClient, type FederationAnswer } from './query-client';

/**
 * One portal this client trusts: its identity and the keys it was pinned with on first use
 * (client.md "State", `trust.json`). `verifierKey` is the log key (C2SP verifier-key string, type
 * 0x01) that signs its seals; `witnessKey` (type 0x04) cosigns other portals' seals.
 */
export interface PinnedPortal {
  readonly id: string;
  /** The origin line of its seals. */
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey?: string;
  /** Its query service (`/logs`, `/profiles`, `/federation`). */
  readonly queryUrl: string;
  /** Its gateway; known for the home portal, and for peers once the client has talked to them. */
  readonly gatewayUrl?: string;
}

/**
 * What this client trusts: the home portal, the peers of its federation, and how many peer
 * cosignatures (by witness keys of the federation other than the log owner's) a checkpoint needs.
 * Pinned once (trust on first use) and kept in `trust.json`; nothing a portal serves later changes it.
 */
export interface PortalTrust {
  readonly home: PinnedPortal;
  readonly peers: readonly PinnedPortal[];
  readonly quorum: number;
  /**
   * Witness keys (type 0x04) of outside C2SP tlog-witnesses the user pinned (`mesh portal witness
   * add`): each MUST have validly cosigned every checkpoint accepted, beside the peers' quorum.
   */
  readonly requiredWitnesses?: readonly string[];
}

/** The store document that holds the trust (client.md "State"). */
export const TRUST_DOCUMENT = 'trust.json';

const TRUST_VERSION = 1;

/**
 * Parses a pinned key, or throws `failure` (`verify.answer` when a portal served it, `state.corrupt`
 * when trust.json holds it). Log keys MUST be type 0x01, witness keys type 0x04.
 */
function pinnedKey(
  text: string,
  kind: 'log' | 'witness',
  failure: (why: string) => ClientError,
): VerifierKey {
  try {
    return parseVerifierKey(text, kind === 'log' ? KEY_TYPE_ED25519 : KEY_TYPE_COSIGNATURE_V1);
  } catch (error) {
    if (!isLogError(error)) throw error;
    throw failure(
      `the ${kind} key ${JSON.stringify(text)} is not a C2SP ${kind === 'log' ? 'Ed25519 (0x01)' : 'cosignature (0x04)'} verifier key: ${error.message}`,
    );
  }
}

/** The log (verifier) key of a pinned portal, parsed. Throws `state.corrupt` if it does not parse. */
export function logKeyOf(portal: PinnedPortal): VerifierKey {
  return pinnedKey(portal.verifierKey, 'log', (why) => corrupt(`${portal.id}: ${why}`));
}

/**
 * The witness keys of every portal of the federation except `ownerId` — the keys whose
 * cosignatures count for a checkpoint of `ownerId`'s log (client.md "Verified reads" 2: the log
 * owner's own witness key does not count). Throws `state.corrupt` for a key that does not parse.
 */
export function cosignerKeysFor(trust: PortalTrust, ownerId: string): VerifierKey[] {
  return [trust.home, ...trust.peers]
    .filter((portal) => portal.id !== ownerId && portal.witnessKey !== undefined)
    .map((portal) => pinnedKey(portal.witnessKey!, 'witness', (why) => corrupt(`${portal.id}: ${why}`)));
}

/** The pinned portal whose log `logId` (a portal id, never `self`) is: the home portal or a peer. */
export function logOwner(trust: PortalTrust, logId: string): PinnedPortal | undefined {
  return trust.home.id === logId ? trust.home : trust.peers.find((peer) => peer.id === logId);
}

/** `HelloResponse` fields discoverTrust reads (DESIGN.md "HTTP"). */
interface Hello {
  readonly portalId: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey?: string;
  readonly quorum?: number;
  readonly queryUrl?: string;
}

async function hello(gatewayUrl: string, fetchImpl: FetchLike, timeoutMs?: number): Promise<Hello> {
  const url = joinUrl(gatewayUrl, '.well-known/mmm/');
  const answer = await portalRequest(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ HelloRequest: {} }),
    },
    { fetchImpl, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
  );
  if (answer.status < 200 || answer.status > 299) throw refusal(url, answer);
  const bad = (why: string): ClientError =>
    new ClientError('verify.answer', `${url} served a Hello answer ${why}`, {
      portal: gatewayUrl,
      check: 'hello',
      evidence: { url, answer: answer.text.slice(0, 2000) },
    });
  let fields: Record<string, unknown>;
  try {
    const value = (JSON.parse(answer.text) as { HelloResponse?: unknown }).HelloResponse;
    if (typeof value !== 'object' || value === null) throw bad('without HelloResponse');
    fields = value as Record<string, unknown>;
  } catch (error) {
    throw error instanceof ClientError ? error : bad('that is not JSON');
  }
  const { PortalId, Origin, VerifierKey, WitnessKey, CosignatureQuorum, QueryUrl } = fields;
  if (typeof PortalId !== 'string' || PortalId === '') throw bad('without PortalId');
  if (typeof Origin !== 'string' || Origin === '') throw bad('without Origin');
  if (typeof VerifierKey !== 'string') throw bad('without VerifierKey');
  if (WitnessKey !== undefined && typeof WitnessKey !== 'string')
    throw bad('whose WitnessKey is not a string');
  if (
    CosignatureQuorum !== undefined &&
    !(Number.isSafeInteger(CosignatureQuorum) && (CosignatureQuorum as number) >= 0)
  )
    throw bad('whose CosignatureQuorum is not a count');
  if (QueryUrl !== undefined && typeof QueryUrl !== 'string') throw bad('whose QueryUrl is not a string');
  pinnedKey(VerifierKey, 'log', bad);
  if (WitnessKey !== undefined) pinnedKey(WitnessKey, 'witness', bad);
  return {
    portalId: PortalId,
    origin: Origin,
    verifierKey: VerifierKey,
    ...(WitnessKey === undefined ? {} : { witnessKey: WitnessKey }),
    ...(CosignatureQuorum === undefined ? {} : { quorum: CosignatureQuorum as number }),
    ...(QueryUrl === undefined ? {} : { queryUrl: QueryUrl }),
  };
}

/**
 * Trust on first use (client.md "Layout"): asks the gateway's `Hello` who the portal is (id, origin,
 * log key, witness key, quorum, query URL), then its query service's `GET /federation` for the
 * peers, and pins what they say. The query service is `queryUrl`, else Hello's `QueryUrl`, else the
 * gateway URL itself (the single-portal mode serves both).
 *
 * It MUST refuse (`verify.answer`, naming the portal) when a key does not parse as a C2SP verifier
 * key of the right type (log 0x01, witness 0x04), when `/federation` names another portal id (or
 * witness key) than Hello, or when a peer repeats an id or is the portal itself. The quorum is
 * Hello's `CosignatureQuorum`, else `/federation`'s, else 0. What a portal says on first contact
 * is believed: the caller MUST show the user what was pinned (and SHOULD compare it out of band).
 * Network failures and refusals are `portal.unreachable` / `portal.refused`. Writes nothing.
 */
export async function discoverTrust(
  gatewayUrl: string,
  queryUrl?: string,
  fetchImpl: FetchLike = globalFetch,
  options: { timeoutMs?: number } = {},
): Promise<PortalTrust> {
  const said = await hello(gatewayUrl, fetchImpl, options.timeoutMs);
  const query = queryUrl ?? said.queryUrl ?? gatewayUrl;
  const federation: FederationAnswer = await new QueryClient(query, fetchImpl, {
    portal: said.portalId,
    ...options,
  }).federation();
  const bad = (why: string): ClientError =>
    new ClientError('verify.answer', `${said.portalId} (${gatewayUrl}, ${query}): ${why}`, {
      portal: said.portalId,
      check: 'trust on first use',
      evidence: { hello: said, federation: federation as unknown as Record<string, unknown> },
    });
  if (federation.portal.id !== null && federation.portal.id !== said.portalId)
    throw bad(`Hello says portal ${said.portalId} but /federation says ${federation.portal.id}`);
  const witnessKey = said.witnessKey ?? federation.portal.witnessKey ?? undefined;
  if (
    said.witnessKey !== undefined &&
    federation.portal.witnessKey !== null &&
    federation.portal.witnessKey !== said.witnessKey
  )
    throw bad(`Hello and /federation announce different witness keys`);
  if (witnessKey !== undefined) pinnedKey(witnessKey, 'witness', bad);
  const seen = new Set([said.portalId]);
  const peers = federation.peers.map((peer): PinnedPortal => {
    if (seen.has(peer.id)) throw bad(`/federation lists ${peer.id} twice or as a peer of itself`);
    seen.add(peer.id);
    pinnedKey(peer.verifierKey, 'log', (why) => bad(`peer ${peer.id}: ${why}`));
    pinnedKey(peer.witnessKey, 'witness', (why) => bad(`peer ${peer.id}: ${why}`));
    return {
      id: peer.id,
      origin: peer.origin,
      verifierKey: peer.verifierKey,
      witnessKey: peer.witnessKey,
      queryUrl: peer.queryUrl,
    };
  });
  const home: PinnedPortal = {
    id: said.portalId,
    origin: said.origin,
    verifierKey: said.verifierKey,
    ...(witnessKey === undefined ? {} : { witnessKey }),
    queryUrl: query,
    gatewayUrl,
  };
  return { home, peers, quorum: said.quorum ?? federation.portal.quorum };
}

function corrupt(why: string): ClientError {
  return new ClientError('state.corrupt', `${TRUST_DOCUMENT}: ${why}`, { check: 'local state' });
}

/** `trust.json`'s text (a version, the home portal, the peers, the quorum). */
export function trustToJson(trust: PortalTrust): string {
  return `${JSON.stringify({ version: TRUST_VERSION, ...trust }, null, 2)}\n`;
}

/**
 * Reads `trust.json` back. MUST throw `state.corrupt` for anything trustToJson could not have
 * written: bad JSON, another version, a missing field, a key that does not parse.
 */
export function trustFromJson(text: string): PortalTrust {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw corrupt('not a JSON object');
  const { version, home, peers, quorum, requiredWitnesses } = value as Record<string, unknown>;
  if (version !== TRUST_VERSION)
    throw corrupt(`version ${JSON.stringify(version)}, expected ${TRUST_VERSION}`);
  if (!Number.isSafeInteger(quorum) || (quorum as number) < 0) throw corrupt('quorum is not a count');
  if (!Array.isArray(peers)) throw corrupt('peers is not a list');
  if (
    requiredWitnesses !== undefined &&
    (!Array.isArray(requiredWitnesses) || requiredWitnesses.some((k) => typeof k !== 'string'))
  )
    throw corrupt('requiredWitnesses is not a list of keys');
  for (const key of (requiredWitnesses ?? []) as string[])
    pinnedKey(key, 'witness', (why) => corrupt(`requiredWitnesses: ${why}`));
  return {
    home: pinnedFromJson(home, 'home'),
    peers: peers.map((p, i) => pinnedFromJson(p, `peers[${i}]`)),
    quorum: quorum as number,
    ...(requiredWitnesses === undefined ? {} : { requiredWitnesses: requiredWitnesses as string[] }),
  };
}

function pinnedFromJson(value: unknown, where: string): PinnedPortal {
  if (typeof value !== 'object' || value === null) throw corrupt(`${where} is not an object`);
  const v = value as Record<string, unknown>;
  for (const field of ['id', 'origin', 'verifierKey', 'queryUrl'])
    if (typeof v[field] !== 'string') throw corrupt(`${where}.${field} is not a string`);
  for (const field of ['witnessKey', 'gatewayUrl'])
    if (v[field] !== undefined && typeof v[field] !== 'string')
      throw corrupt(`${where}.${field} is not a string`);
  const portal: PinnedPortal = {
    id: v['id'] as string,
    origin: v['origin'] as string,
    verifierKey: v['verifierKey'] as string,
    ...(v['witnessKey'] === undefined ? {} : { witnessKey: v['witnessKey'] as string }),
    queryUrl: v['queryUrl'] as string,
    ...(v['gatewayUrl'] === undefined ? {} : { gatewayUrl: v['gatewayUrl'] as string }),
  };
  pinnedKey(portal.verifierKey, 'log', (why) => corrupt(`${where}: ${why}`));
  if (portal.witnessKey !== undefined)
    pinnedKey(portal.witnessKey, 'witness', (why) => corrupt(`${where}: ${why}`));
  return portal;
}
