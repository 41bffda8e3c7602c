import type { FlattenedJws } from '@cryptomesh/crypto/portable';
import { fromBase64, isLogError, toBase64 } from '@cryptomesh/log';
import { ClientError, isClientError } from './client-error';
import {
  globalFetch,
  joinUrl,
  portalRequest,
  refusal,
  portalUrlName,
  type FetchLike,
  type PortalAnswer,
} from './portal-http';
import { TiledLog } from './tiled-log';

/** `GET /profiles/{udf}` (docs/design/query.md), as served: nothing in it is checked yet. */
export interface ProfileAnswer {
  /** `self` (the serving portal's own log) or the peer id of the mirror that served it. */
  readonly log: string;
  readonly id: string;
  /** The account UDF of the entry that set it. */
  readonly account: string;
  /** The flattened JWS, as the entry carries it (claimed). */
  readonly profile: FlattenedJws;
  readonly index: number;
  /** The entry's bytes, base64. */
  readonly entry: string;
  readonly proof: { readonly index: number; readonly size: number; readonly path: readonly string[] };
  /** The seal the proof is against, with its cosignature lines. */
  readonly checkpoint: string;
}

/** `GET /logs/{log}/proofs/consistency` as served: `path` is base64 hashes. */
export interface ConsistencyAnswer {
  readonly from: number;
  readonly to: number;
  readonly path: readonly string[];
}

/** One peer of `GET /federation` (federation.md "Query"); the status fields are not read. */
export interface FederationPeerAnswer {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey: string;
  readonly queryUrl: string;
}

/** `GET /federation`: `portal` fields are null (quorum 0) before replication configured the portal. */
export interface FederationAnswer {
  readonly portal: {
    readonly id: string | null;
    readonly witnessKey: string | null;
    readonly quorum: number;
  };
  readonly peers: readonly FederationPeerAnswer[];
}

/**
 * Where a client's RFC 9162 proofs come from (client.md "Proofs from tiles"): `tiles` — built here
 * from the log's C2SP tlog-tiles (`/logs/{log}/tile/…`, immutable and cacheable by any HTTP cache);
 * `json` — the query service's own answers (`proof.path` of a profile, `/proofs/consistency`);
 * `auto` (the default) — tiles when the log serves them, the JSON answers when a tile is 404. The
 * source never decides what is accepted: every proof is verified against a signed checkpoint.
 */
export type ProofSource = 'auto' | 'tiles' | 'json';

/** A proof as base64 hashes, with where it came from. */
export interface ProofPath {
  readonly path: readonly string[];
  readonly source: 'tiles' | 'json';
}

type Shape = Record<string, unknown>;

const isObject = (value: unknown): value is Shape =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * Raw, UNTRUSTED reads of one query service (DESIGN.md "HTTP", federation.md "Query"): what it
 * answers is only checked for shape, never for truth — that is checkpoint-verifier.ts and
 * verified-profile.ts. Every method:
 *  - MUST bound each request by `timeoutMs` (default 10 s);
 *  - MUST reject with ClientError `portal.unreachable` (network, timeout), `portal.refused` (an HTTP
 *    error status, with the service's code in `evidence.code`) or `verify.answer` (an answer of the
 *    wrong shape), each naming the portal (`portal`, else the URL's origin) and the URL;
 *  - MUST NOT retry and keeps no state between calls.
 */
export class QueryClient {
  private readonly fetchImpl: FetchLike;
  private readonly portal: string;
  private readonly timeoutMs: number | undefined;
  private readonly tiledLogs = new Map<string, TiledLog>();

  constructor(
    readonly queryUrl: string,
    fetchImpl: FetchLike = globalFetch,
    options: { portal?: string; timeoutMs?: number } = {},
  ) {
    this.fetchImpl = fetchImpl;
    this.portal = options.portal ?? portalUrlName(queryUrl);
    this.timeoutMs = options.timeoutMs;
  }

  /** The name errors give this service's portal. */
  get portalName(): string {
    return this.portal;
  }

  /**
   * `GET /logs/{log}/checkpoint`: the latest seal of `log` (`self` or a peer id as this service names
   * it) with its cosignature lines, as text; undefined when the log has no seal yet (`404 log.empty`).
   */
  async checkpoint(log: string): Promise<string | undefined> {
    const url = joinUrl(this.queryUrl, `logs/${encodeURIComponent(log)}/checkpoint`);
    const answer = await this.get(url);
    if (answer.status === 404 && refusalCodeOf(answer) === 'log.empty') return undefined;
    if (answer.status < 200 || answer.status > 299) throw refusal(url, answer, this.portal);
    if (answer.text.length === 0) throw this.malformed(url, 'an empty checkpoint');
    return answer.text;
  }

  /**
   * `GET /logs/{log}/key-transitions`: the log key transition entries (bytes, oldest first) the
   * latest seal covers. Untrusted: `followLogKeys` checks each one's signatures.
   */
  async keyTransitions(log: string): Promise<Uint8Array[]> {
    const url = joinUrl(this.queryUrl, `logs/${encodeURIComponent(log)}/key-transitions`);
    const value = await this.json(url);
    const list = value['transitions'];
    if (!Array.isArray(list) || !list.every((t) => isObject(t) && typeof t['entry'] === 'string'))
      throw this.malformed(url, 'a key-transitions answer that is not {transitions: [{index, entry}]}');
    try {
      return list.map((t) => fromBase64((t as Record<string, string>)['entry']!, 'entry'));
    } catch {
      throw this.malformed(url, 'a key transition entry that is not base64');
    }
  }

  /** `GET /profiles/{udf}`: the claimed current signed profile with its proof (query.md). */
  async profile(udf: string): Promise<ProfileAnswer> {
    const url = joinUrl(this.queryUrl, `profiles/${encodeURIComponent(udf)}`);
    const value = await this.json(url);
    const { proof, profile } = value;
    if (
      typeof value['log'] !== 'string' ||
      typeof value['id'] !== 'string' ||
      typeof value['account'] !== 'string' ||
      !isCount(value['index']) ||
      typeof value['entry'] !== 'string' ||
      typeof value['checkpoint'] !== 'string' ||
      !isObject(proof) ||
      !isCount(proof['index']) ||
      !isCount(proof['size']) ||
      !isStrings(proof['path']) ||
      !isObject(profile) ||
      typeof profile['protected'] !== 'string' ||
      typeof profile['payload'] !== 'string' ||
      typeof profile['signature'] !== 'string'
    )
      throw this.malformed(
        url,
        'a profile answer without log, id, account, profile, index, entry, proof or checkpoint',
      );
    return {
      log: value['log'],
      id: value['id'],
      account: value['account'],
      profile: {
        protected: profile['protected'],
        payload: profile['payload'],
        signature: profile['signature'],
      },
      index: value['index'],
      entry: value['entry'],
      proof: { index: proof['index'], size: proof['size'], path: proof['path'] },
      checkpoint: value['checkpoint'],
    };
  }

  /** `GET /logs/{log}/proofs/consistency?from=&to=`: the claimed RFC 9162 consistency proof. */
  async consistency(log: string, from: number, to: number): Promise<ConsistencyAnswer> {
    const url = joinUrl(
      this.queryUrl,
      `logs/${encodeURIComponent(log)}/proofs/consistency?from=${from}&to=${to}`,
    );
    const value = await this.json(url);
    if (value['from'] !== from || value['to'] !== to || !isStrings(value['path']))
      throw this.malformed(
        url,
        `a consistency answer that is not {from: ${from}, to: ${to}, path: [base64…]}`,
      );
    return { from, to, path: value['path'] };
  }

  /**
   * `log` (`self` or a peer id) as tlog-tiles under `<query URL>/logs/{log}/`: one TiledLog per log
   * and QueryClient, so that the proofs of one read share the tiles they need.
   */
  tiles(log: string): TiledLog {
    let tiled = this.tiledLogs.get(log);
    if (tiled === undefined) {
      tiled = new TiledLog(
        joinUrl(this.queryUrl, `logs/${encodeURIComponent(log)}`),
        this.fetchImpl,
        this.timeoutMs,
        this.portal,
      );
      this.tiledLogs.set(log, tiled);
    }
    return tiled;
  }

  /**
   * The inclusion proof of entry `index` in the tree of `size` of `log`: from its tiles, or — with
   * `json`, or with `auto` when the log serves no tiles — `served`, the path the query service
   * answered with the entry (a profile answer's `proof.path`). An index outside the tree is
   * `verify.inclusion` whatever the source.
   */
  async inclusionPath(
    log: string,
    index: number,
    size: number,
    source: ProofSource,
    served: readonly string[],
  ): Promise<ProofPath> {
    if (!(Number.isSafeInteger(index) && index >= 0 && index < size))
      throw new ClientError(
        'verify.inclusion',
        `${this.portal} served entry ${index} of ${log} with a checkpoint of size ${size}`,
        { portal: this.portal, check: 'inclusion proof', evidence: { log, index, size } },
      );
    const path = await this.fromTiles(source, () => this.tiles(log).inclusionProof(index, size));
    return path === undefined ? { path: served, source: 'json' } : { path, source: 'tiles' };
  }

  /** The consistency proof from `from` to `to` of `log`: from its tiles, or `consistency` (as inclusionPath). */
  async consistencyPath(log: string, from: number, to: number, source: ProofSource): Promise<ProofPath> {
    const path = await this.fromTiles(source, () => this.tiles(log).consistencyProof(from, to));
    if (path !== undefined) return { path, source: 'tiles' };
    return { path: (await this.consistency(log, from, to)).path, source: 'json' };
  }

  /**
   * The proof from tiles as base64; undefined for `json`, and for `auto` when a tile is 404. A
   * proof the tiles cannot make (the log library's refusal) is `verify.answer`.
   */
  private async fromTiles(
    source: ProofSource,
    build: () => Promise<Uint8Array[]>,
  ): Promise<string[] | undefined> {
    if (source === 'json') return undefined;
    try {
      return (await build()).map((hash) => toBase64(hash));
    } catch (error) {
      const notServed = isClientError(error, 'portal.refused') && error.evidence?.['status'] === 404;
      if (source === 'auto' && notServed) return undefined;
      if (isLogError(error))
        throw new ClientError('verify.answer', `${this.portal}'s tiles make no proof: ${error.message}`, {
          portal: this.portal,
          check: 'answer shape',
          cause: error,
        });
      throw error;
    }
  }

  /** `GET /federation`: this portal and its peers, as it claims them (trust on first use). */
  async federation(): Promise<FederationAnswer> {
    const url = joinUrl(this.queryUrl, 'federation');
    const value = await this.json(url);
    const { portal, peers } = value;
    const nullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
    if (
      !isObject(portal) ||
      !nullableString(portal['id']) ||
      !nullableString(portal['witnessKey']) ||
      !isCount(portal['quorum']) ||
      !Array.isArray(peers)
    )
      throw this.malformed(url, 'a federation answer without portal {id, witnessKey, quorum} and peers');
    const read = peers.map((peer: unknown): FederationPeerAnswer => {
      const fields = ['id', 'origin', 'verifierKey', 'witnessKey', 'queryUrl'] as const;
      if (!isObject(peer) || fields.some((field) => typeof peer[field] !== 'string'))
        throw this.malformed(url, `a peer without ${fields.join(', ')}`);
      const [id, origin, verifierKey, witnessKey, queryUrl] = fields.map((field) => peer[field] as string);
      return {
        id: id!,
        origin: origin!,
        verifierKey: verifierKey!,
        witnessKey: witnessKey!,
        queryUrl: queryUrl!,
      };
    });
    return {
      portal: { id: portal['id'], witnessKey: portal['witnessKey'], quorum: portal['quorum'] },
      peers: read,
    };
  }

  private get(url: string): Promise<PortalAnswer> {
    return portalRequest(
      url,
      { method: 'GET' },
      {
        portal: this.portal,
        fetchImpl: this.fetchImpl,
        ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
      },
    );
  }

  /** A 2xx JSON object, else the refusal or `verify.answer`. */
  private async json(url: string): Promise<Shape> {
    const answer = await this.get(url);
    if (answer.status < 200 || answer.status > 299) throw refusal(url, answer, this.portal);
    let value: unknown;
    try {
      value = JSON.parse(answer.text);
    } catch {
      throw this.malformed(url, 'an answer that is not JSON');
    }
    if (!isObject(value)) throw this.malformed(url, 'an answer that is not a JSON object');
    return value;
  }

  private malformed(url: string, what: string): ClientError {
    return new ClientError('verify.answer', `${url} served ${what}`, {
      portal: this.portal,
      check: 'answer shape',
      evidence: { url },
    });
  }
}

function refusalCodeOf(answer: PortalAnswer): string | undefined {
  try {
    const value = JSON.parse(answer.text) as { error?: { code?: unknown } };
    return typeof value.error?.code === 'string' ? value.error.code : undefined;
  } catch {
    return undefined;
  }
}
