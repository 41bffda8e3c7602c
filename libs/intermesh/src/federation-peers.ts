import {
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  parseVerifierKey,
  type KeyType,
  type VerifierKey,
} from '@cryptomesh/log';
import { isValidPortalId } from './topics';

/**
 * The federation's peers as the replication service is configured with them (docs/design/
 * federation.md "Configuration"): `FEDERATION_PEERS`, a JSON array of peers, or `FEDERATION_FILE`,
 * a JSON file `{"portals": [...]}` in the format of `.federation/portals.json`. Pure: the caller
 * reads the variable or the file and parses the JSON.
 */

/** One peer portal: whose log this portal mirrors, audits and cosigns. */
export interface FederationPeer {
  readonly id: string;
  /** The checkpoint origin of its log, also the name of its log key. */
  readonly origin: string;
  /** Its log key (signed-note type 0x01), which signs its seals. */
  readonly verifierKey: VerifierKey;
  /** Its witness key (type 0x04), which signs its cosignatures and findings. */
  readonly witnessKey: VerifierKey;
  /** The base URL of its query service, `http(s)://`, without a trailing slash. */
  readonly queryUrl: string;
}

/** The entry for this portal itself, when the configuration lists it (every field but id optional). */
export interface FederationSelf {
  readonly id: string;
  readonly origin?: string;
  readonly verifierKey?: VerifierKey;
  readonly witnessKey?: VerifierKey;
  readonly queryUrl?: string;
}

export interface FederationPeers {
  /** Every peer, in configuration order. */
  readonly peers: FederationPeer[];
  /** The entry whose id is `self`, if any: the caller MUST check its keys are this portal's. */
  readonly self?: FederationSelf;
}

/**
 * A configuration fault: `source` names the variable (or file), `path` the place in its JSON
 * (`[1].witnessKey`, `.portals[0].id`, or `` for the whole value); `reason` says what is wrong,
 * quoting at most ~200 characters of what was seen; the message is the one line
 * `<source><path>: <reason>`.
 */
export class FederationConfigError extends Error {
  override readonly name = 'FederationConfigError';

  constructor(
    readonly source: string,
    readonly path: string,
    /** What is wrong and what was seen, without the source and path. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}${path}: ${reason}`, options);
  }
}

const PEER_FIELDS = ['id', 'origin', 'verifierKey', 'witnessKey', 'queryUrl'] as const;
/** `.federation/portals.json` entries also carry the gateway's URL, which replication does not use. */
const PORTALS_FILE_FIELDS = [...PEER_FIELDS, 'gatewayUrl'];
const SEEN_MAX_CHARS = 200;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A seen value for a one-line message: JSON (so newlines stay escaped), cut at ~200 characters. */
function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : (JSON.stringify(value) ?? typeof value);
  return text.length > SEEN_MAX_CHARS ? `${text.slice(0, SEEN_MAX_CHARS)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Reader {
  constructor(readonly source: string) {}

  fail(path: string, what: string, cause?: unknown): never {
    throw new FederationConfigError(this.source, path, what, cause === undefined ? undefined : { cause });
  }

  id(value: unknown, path: string): string {
    if (typeof value !== 'string' || !isValidPortalId(value))
      this.fail(path, `must be a portal id (lower-case letters, digits and "-"), saw ${show(value)}`);
    return value;
  }

  origin(value: unknown, path: string): string {
    if (typeof value !== 'string' || value === '' || CONTROL.test(value))
      this.fail(path, `must be a non-empty one-line checkpoint origin, saw ${show(value)}`);
    return value;
  }

  key(value: unknown, path: string, type: KeyType): VerifierKey {
    const wanted = type === KEY_TYPE_ED25519 ? 'log key (type 0x01)' : 'witness key (type 0x04)';
    if (typeof value !== 'string')
      this.fail(path, `must be a ${wanted} verifier-key string, saw ${show(value)}`);
    try {
      return parseVerifierKey(value, type);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return this.fail(path, `must be a ${wanted} verifier key (${why}), saw ${show(value)}`, error);
    }
  }

  queryUrl(value: unknown, path: string): string {
    const bad = (why = ''): never =>
      this.fail(path, `must be an http:// or https:// URL${why}, saw ${show(value)}`);
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || /[\s\u0000-\u001f\u007f]/.test(value)) return bad();
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return bad();
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad();
    // Paths are appended to it (`${queryUrl}/logs/self/parts/7`), and it is shown by GET /federation.
    if (value.includes('?') || value.includes('#')) return bad(' without a query or fragment');
    if (url.username !== '' || url.password !== '') return bad(' without credentials');
    return value.endsWith('/') ? value.slice(0, -1) : value;
  }
}

/**
 * Parses the federation's peers. `value` is the parsed JSON of `FEDERATION_PEERS` (an array of
 * `{id, origin, verifierKey, witnessKey, queryUrl}`) or of `FEDERATION_FILE` (`{"portals": [...]}`,
 * whose entries MAY also carry `gatewayUrl`, ignored); `source` names it in errors.
 *
 * The entry whose id is `options.self` is not a peer: it is returned as `self`, its fields checked
 * when present (the caller MUST check its keys are this portal's, and MAY refuse it in the array form).
 * MUST throw FederationConfigError, naming the path, for: a value of another shape; an entry that is
 * not an object, lacks a field or has an unknown one; an id that is not a portal id, or that another
 * entry has; an origin that is empty or not one line; a `verifierKey` that is not a type 0x01 verifier
 * key whose name is the origin; a `witnessKey` that is not a type 0x04 verifier key; two entries with
 * the same origin or witness key (a witness MUST count once towards a quorum); a `queryUrl` that is
 * not an absolute http: or https: URL without credentials, query or fragment. One trailing slash of
 * `queryUrl` is removed. `undefined` and `[]` mean no peer.
 */
export function parseFederationPeers(
  value: unknown,
  options: { readonly self: string; readonly source: string },
): FederationPeers {
  const r: Reader = new Reader(options.source); // typed, so that `never` narrows
  let entries: unknown[];
  let prefix: string;
  let allowed: readonly string[];
  if (value === undefined) return { peers: [] };
  if (Array.isArray(value)) {
    [entries, prefix, allowed] = [value, '', PEER_FIELDS];
  } else if (isObject(value)) {
    const extra = Object.keys(value).find((k) => k !== 'portals');
    if (extra !== undefined) r.fail(`.${extra}`, 'is not a field of a portals file (only "portals")');
    if (!Array.isArray(value.portals))
      r.fail('.portals', `must be an array of portals, saw ${show(value.portals)}`);
    [entries, prefix, allowed] = [value.portals as unknown[], '.portals', PORTALS_FILE_FIELDS];
  } else {
    r.fail('', `must be a JSON array of peers or an object {"portals": [...]}, saw ${show(value)}`);
  }

  const peers: FederationPeer[] = [];
  let self: FederationSelf | undefined;
  const ids = new Map<string, string>();
  const origins = new Map<string, string>();
  const witnessKeys = new Map<string, string>();
  const unique = (seen: Map<string, string>, key: string, path: string, what: string): void => {
    const first = seen.get(key);
    if (first !== undefined) r.fail(path, `${what} ${show(key)} is already the one of ${first}`);
    seen.set(key, path);
  };

  entries.forEach((entry, i) => {
    const at = `${prefix}[${i}]`;
    if (!isObject(entry)) r.fail(at, `must be an object, saw ${show(entry)}`);
    const extra = Object.keys(entry).find((k) => !allowed.includes(k));
    if (extra !== undefined) r.fail(`${at}.${extra}`, `is not a field of a peer (${PEER_FIELDS.join(', ')})`);
    const id = r.id(entry.id, `${at}.id`);
    unique(ids, id, `${at}.id`, 'the id');
    const isSelf = id === options.self;
    if (!isSelf) {
      const missing = PEER_FIELDS.find((k) => entry[k] === undefined);
      if (missing !== undefined) r.fail(`${at}.${missing}`, `is missing (peer ${id})`);
    }
    const origin = entry.origin === undefined ? undefined : r.origin(entry.origin, `${at}.origin`);
    if (origin !== undefined) unique(origins, origin, `${at}.origin`, 'the origin');
    const verifierKey =
      entry.verifierKey === undefined
        ? undefined
        : r.key(entry.verifierKey, `${at}.verifierKey`, KEY_TYPE_ED25519);
    if (verifierKey !== undefined && origin !== undefined && verifierKey.name !== origin)
      r.fail(
        `${at}.verifierKey`,
        `must be named after the origin ${show(origin)}, saw ${show(verifierKey.name)}`,
      );
    const witnessKey =
      entry.witnessKey === undefined
        ? undefined
        : r.key(entry.witnessKey, `${at}.witnessKey`, KEY_TYPE_COSIGNATURE_V1);
    if (witnessKey !== undefined) unique(witnessKeys, witnessKey.text, `${at}.witnessKey`, 'the witness key');
    const queryUrl = entry.queryUrl === undefined ? undefined : r.queryUrl(entry.queryUrl, `${at}.queryUrl`);
    if (isSelf) {
      self = {
        id,
        ...(origin !== undefined && { origin }),
        ...(verifierKey !== undefined && { verifierKey }),
        ...(witnessKey !== undefined && { witnessKey }),
        ...(queryUrl !== undefined && { queryUrl }),
      };
    } else {
      peers.push({
        id,
        origin: origin!,
        verifierKey: verifierKey!,
        witnessKey: witnessKey!,
        queryUrl: queryUrl!,
      });
    }
  });
  return self === undefined ? { peers } : { peers, self };
}

/**
 * The default `COSIGNATURE_QUORUM`: ⌈peers/2⌉ — with the portal itself, a majority of the
 * federation vouches for each checkpoint, and one peer of three portals may be down without a
 * portal's new checkpoints falling short of it (federation.md "Configuration"). 0 with no peer.
 * MUST throw RangeError unless `peers` is a non-negative integer.
 */
export function defaultCosignatureQuorum(peers: number): number {
  if (!Number.isSafeInteger(peers) || peers < 0) throw new RangeError(`invalid number of peers ${peers}`);
  return Math.ceil(peers / 2);
}
