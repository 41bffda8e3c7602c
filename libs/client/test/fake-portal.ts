import { accountUdf, nobleEd25519, udfMatches } from '@cryptomesh/crypto/portable';
import {
  TILE_HEIGHT,
  TILE_WIDTH,
  addCosignature,
  encodeEntryBundle,
  entryLeafHash,
  hashChildren,
  parseTilePath,
  tileWidthAt,
  toBase64,
  type NoteSigner,
} from '@cryptomesh/log';
import {
  authoriseRecord,
  buildApplicationProfile,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  decodeRecord,
  encodeRecord,
  profilesSetBy,
  type DeviceProfile,
  type MasterProfile,
  type PersonalProfile,
  type RecordContent,
  type SignedProfile,
} from '@cryptomesh/mesh';
import { LogFixture, logSigner, witnessSigner } from '../../log/testdata/log-fixture';
import {
  ADMIN,
  countingRandom,
  createAccountEntry,
  fixedKey,
  NOW,
  PHONE,
  type Device,
} from '../../mesh/test/fixtures';
import type { FetchLike } from '../src/portal-http';
import type { PinnedPortal, PortalTrust } from '../src/trust';

/**
 * A fake federation for the SDK's unit tests: each FakePortal holds a REAL log (LogFixture: seals
 * signed with a test log key, RFC 9162 proofs from a MerkleTree, cosignature lines by test witness
 * keys) of REAL Mesh records, and answers the query API and Hello the way apps/query and
 * apps/gateway do — unless a test tampers with the answer. No I/O: `fakeFetch` routes URLs.
 */

const ed25519 = nobleEd25519;
/** POSIX seconds of every cosignature. */
const COSIGNED_AT = 1_800_000_000;

type Body = string | Uint8Array | Record<string, unknown>;
export interface FakeAnswer {
  status: number;
  body: Body;
}
/** Rewrites an answer before it is sent: `path` is the URL path with its query. */
export type Tamper = (path: string, answer: FakeAnswer) => FakeAnswer;

/** One log as a query service serves it: entries, the tree, one cosigned checkpoint per part. */
export class FakeLog {
  readonly fixture: LogFixture;
  readonly entries: Uint8Array[] = [];
  readonly checkpoints: string[] = [];

  constructor(origin: string, keyLabel = origin) {
    this.fixture = new LogFixture(origin, ed25519);
    // A log that signs with another key under the same origin (a forger's): LogFixture derives its
    // key from the origin, so replace its signer with one derived from another label.
    if (keyLabel !== origin)
      (this.fixture as { signer: NoteSigner }).signer = logSigner(origin, ed25519, keyLabel);
  }

  get tree() {
    return this.fixture.tree!;
  }

  /** Seals `entries` as the next part, cosigned by `witnesses`; returns the checkpoint text. */
  seal(entries: Uint8Array[], witnesses: readonly NoteSigner[] = []): string {
    const part = this.fixture.sealPart(entries);
    this.entries.push(...entries);
    const note = witnesses.reduce((text, witness) => addCosignature(text, witness, COSIGNED_AT), part.seal);
    this.checkpoints.push(note);
    return note;
  }

  /** The latest checkpoint whose size is `size`. */
  checkpointAt(size: number): string {
    const found = this.checkpoints.find((note) => note.split('\n')[1] === String(size));
    if (found === undefined) throw new Error(`no checkpoint of size ${size}`);
    return found;
  }

  get latest(): string | undefined {
    return this.checkpoints.at(-1);
  }

  /**
   * The C2SP tlog-tiles resource `path` (`tile/…`) as of the latest checkpoint, computed from the
   * entries (the simple reference: each hash of a level-L tile is the root of 256^L leaves), or
   * undefined when it is past the checkpoint.
   */
  tile(path: string): Uint8Array | undefined {
    const size = this.latest === undefined ? 0 : sizeOf(this.latest);
    let coord;
    try {
      coord = parseTilePath(path);
    } catch {
      return undefined;
    }
    const { level, index, width } = coord;
    if (width > tileWidthAt(level, index, size)) return undefined;
    if (level === 'entries')
      return encodeEntryBundle(this.entries.slice(index * TILE_WIDTH, index * TILE_WIDTH + width));
    const span = 2 ** (TILE_HEIGHT * level);
    const leaves = this.entries.slice(0, size).map((entry) => entryLeafHash(entry));
    const root = (start: number, count: number): Uint8Array =>
      count === 1 ? leaves[start]! : hashChildren(root(start, count / 2), root(start + count / 2, count / 2));
    const out = new Uint8Array(32 * width);
    for (let k = 0; k < width; k++) out.set(root((index * TILE_WIDTH + k) * span, span), 32 * k);
    return out;
  }
}

const sizeOf = (note: string): number => Number(note.split('\n')[1]);

export class FakePortal {
  readonly url: string;
  readonly origin: string;
  readonly witness: NoteSigner;
  log: FakeLog;
  /** Peer id → the log this portal serves as that peer's mirror. */
  readonly mirrors = new Map<string, FakeLog>();
  peers: FakePortal[] = [];
  quorum = 0;
  tamper: Tamper | undefined;
  /** Overrides of Hello's fields (undefined deletes one). */
  hello: Record<string, unknown> = {};
  /** Where its query service answers: the gateway URL (single-portal mode) or a URL below it. */
  queryUrl: string;
  /** Whether `/logs/{log}/tile/…` is served (C2SP tlog-tiles); off, a tile is 404 as on an older portal. */
  servesTiles = false;

  constructor(readonly id: string) {
    this.url = `https://${id}.example`;
    this.origin = `${id}.example/log`;
    this.witness = witnessSigner(`${id}.example/witness`, ed25519);
    this.log = new FakeLog(this.origin);
    this.queryUrl = this.url;
  }

  get verifierKey(): string {
    return this.log.fixture.signer.verifierKey.text;
  }

  pinned(): PinnedPortal {
    return {
      id: this.id,
      origin: this.origin,
      verifierKey: this.verifierKey,
      witnessKey: this.witness.verifierKey.text,
      queryUrl: this.queryUrl,
      gatewayUrl: this.url,
    };
  }

  private logNamed(name: string): FakeLog | undefined {
    return name === 'self' ? this.log : this.mirrors.get(name);
  }

  /** The query API and Hello (DESIGN.md "HTTP"; query.md; federation.md "Query"). */
  answer(method: string, path: string): FakeAnswer {
    const refuse = (status: number, code: string) => ({ status, body: { error: { code, message: code } } });
    const url = new URL(path, this.url);
    const q = (name: string) => Number(url.searchParams.get(name));
    if (method === 'POST' && url.pathname === '/.well-known/mmm/') {
      const fields: Record<string, unknown> = {
        Status: 200,
        StatusDescription: 'OK',
        PortalId: this.id,
        Origin: this.origin,
        VerifierKey: this.verifierKey,
        WitnessKey: this.witness.verifierKey.text,
        CosignatureQuorum: this.quorum,
        ...this.hello,
      };
      for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
      return { status: 200, body: { HelloResponse: fields } };
    }
    if (url.pathname === '/federation')
      return {
        status: 200,
        body: {
          portal: { id: this.id, witnessKey: this.witness.verifierKey.text, quorum: this.quorum },
          peers: this.peers.map((p) => ({
            id: p.id,
            origin: p.origin,
            verifierKey: p.verifierKey,
            witnessKey: p.witness.verifierKey.text,
            queryUrl: p.queryUrl,
            configured: true,
            head: null,
          })),
        },
      };
    const tilePath = /^\/logs\/([^/]+)\/(tile\/.+)$/.exec(url.pathname);
    if (tilePath) {
      const tile = this.servesTiles
        ? this.logNamed(decodeURIComponent(tilePath[1]!))?.tile(tilePath[2]!)
        : undefined;
      return tile === undefined ? refuse(404, 'tile.not-found') : { status: 200, body: tile };
    }
    const logPath = /^\/logs\/([^/]+)\/(checkpoint|proofs\/consistency)$/.exec(url.pathname);
    if (logPath) {
      const log = this.logNamed(decodeURIComponent(logPath[1]!));
      if (log === undefined) return refuse(404, 'peer.unknown');
      if (logPath[2] === 'checkpoint')
        return log.latest === undefined ? refuse(404, 'log.empty') : { status: 200, body: log.latest };
      const [from, to] = [q('from'), q('to')];
      if (from > to) return refuse(400, 'range.reversed');
      const path = from === 0 ? [] : log.tree.consistencyProof(from, to);
      return { status: 200, body: { from, to, path: path.map(toBase64) } };
    }
    const profile = /^\/profiles\/(.+)$/.exec(url.pathname);
    if (profile) return this.profile(decodeURIComponent(profile[1]!)) ?? refuse(404, 'profile.not-found');
    return refuse(404, 'route.unknown');
  }

  /** `GET /profiles/{udf}` (a UDF or prefix, or `mmm:<udf>[:<account>]`): self, then the mirrors by peer id. */
  private profile(name: string): FakeAnswer | undefined {
    const [udf, address] = /^mmm:/i.test(name) ? name.slice(4).split(':') : [name];
    const account = address === undefined ? undefined : accountUdf(address);
    const logs: [string, FakeLog][] = [
      ['self', this.log],
      ...[...this.mirrors].sort(([a], [b]) => a.localeCompare(b)),
    ];
    for (const [logName, log] of logs) {
      const checkpoint = log.latest;
      if (checkpoint === undefined) continue;
      const size = sizeOf(checkpoint);
      for (let index = size - 1; index >= 0; index--) {
        let change;
        try {
          const record = decodeRecord(log.entries[index]!);
          if (account !== undefined && record.account !== account) continue;
          change = profilesSetBy(record).find((c) => udfMatches(udf!, c.id));
        } catch {
          continue;
        }
        if (change === undefined) continue;
        if (change.state !== 'set') return undefined;
        const entry = log.entries[index]!;
        return {
          status: 200,
          body: {
            log: logName,
            id: change.id,
            account: decodeRecord(entry).account,
            profile: { ...change.value.jws },
            index,
            entry: toBase64(entry),
            proof: { index, size, path: log.tree.inclusionProof(index, size).map(toBase64) },
            checkpoint,
          },
        };
      }
    }
    return undefined;
  }
}

/** A `fetch` over fake portals, routed by URL origin; it records each request as `METHOD url`. */
export function fakeFetch(portals: readonly FakePortal[]): FetchLike & { calls: string[] } {
  const calls: string[] = [];
  const fetchImpl = (url: string, init?: RequestInit): Promise<Response> => {
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    const parsed = new URL(url);
    const portal = portals.find((p) => p.url === parsed.origin);
    const base = portal === undefined ? undefined : new URL(portal.queryUrl).pathname.replace(/\/$/, '');
    if (portal === undefined)
      return Promise.reject(new TypeError(`fetch failed: getaddrinfo ENOTFOUND ${parsed.host}`));
    // The query service may live below the gateway (`queryUrl`): its paths are relative to that.
    const relative =
      base && parsed.pathname.startsWith(`${base}/`) ? parsed.pathname.slice(base.length) : parsed.pathname;
    const path = `${relative}${parsed.search}`;
    let answer = portal.answer(method, path);
    if (portal.tamper) answer = portal.tamper(path, structuredClone(answer));
    const { body } = answer;
    if (body instanceof Uint8Array)
      return Promise.resolve(
        new Response(body, {
          status: answer.status,
          headers: { 'content-type': 'application/octet-stream' },
        }),
      );
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8';
    return Promise.resolve(new Response(text, { status: answer.status, headers: { 'content-type': type } }));
  };
  return Object.assign(fetchImpl, { calls });
}

/** Portals that know each other as peers, each with the given quorum. */
export function federation(ids: readonly string[], quorum: number): FakePortal[] {
  const portals = ids.map((id) => new FakePortal(id));
  for (const portal of portals) {
    portal.peers = portals.filter((p) => p !== portal);
    portal.quorum = quorum;
  }
  return portals;
}

/** The trust a client pins at `home` (what discoverTrust would pin). */
export function trustAt(home: FakePortal, quorum = home.quorum): PortalTrust {
  return { home: home.pinned(), peers: home.peers.map((p) => p.pinned()), quorum };
}

/** The life of alice@example.com as real records: create, connect PHONE, authorise mail, publish mail. */
export interface AliceLog {
  readonly entries: Uint8Array[];
  readonly master: SignedProfile<MasterProfile>;
  readonly personal: SignedProfile<PersonalProfile>;
  readonly admin: SignedProfile<DeviceProfile>;
  readonly phone: SignedProfile<DeviceProfile>;
  readonly mail: SignedProfile;
  /** Signs a record of alice's account with `by`, encoded as a log entry. */
  entry(content: RecordContent, by?: Device): Promise<Uint8Array>;
}

export const ALICE = 'alice@example.com';
/** The origin alice's requests are bound to: the fake alpha portal's. */
export const ALPHA_ORIGIN = 'alpha.example/log';

export async function aliceLog(): Promise<AliceLog> {
  const random = countingRandom(500);
  const account = accountUdf(ALICE);
  const entry = (content: RecordContent, by: Device = ADMIN) =>
    authoriseRecord(content, by.signature, { portal: ALPHA_ORIGIN, time: NOW, random }).then(encodeRecord);
  const master = await buildMasterProfile(
    { administrators: [ADMIN.signature], created: NOW },
    fixedKey('Ed25519', 1),
  );
  const personalOf = (
    sequence: number,
    devices: Device[],
    applications: { id: string; type: string; signers: Device[] }[] = [],
  ) =>
    buildPersonalProfile(
      {
        master: master.profile.id,
        sequence,
        devices,
        applications: applications.map((a) => ({ ...a, signers: a.signers.map((d) => d.signature) })),
      },
      ADMIN.signature,
    );
  const admin = await buildDeviceProfile(
    { encryption: ADMIN.encryption, description: 'laptop' },
    ADMIN.signature,
  );
  const phone = await buildDeviceProfile(
    { encryption: PHONE.encryption, description: 'phone' },
    PHONE.signature,
  );
  const created = await personalOf(0, [ADMIN]);
  const mail = await buildApplicationProfile(
    {
      personal: created.profile.id,
      type: 'mail',
      name: 'home',
    },
    PHONE.signature,
  );
  const personal = await personalOf(
    2,
    [ADMIN, PHONE],
    [{ id: mail.profile.id, type: 'mail', signers: [PHONE] }],
  );
  const entries = [
    await entry({
      operation: 'CreateAccount',
      account,
      master,
      personal: created,
      devices: [admin],
    }),
    await entry({
      operation: 'ConnectComplete',
      account,
      personal: await personalOf(1, [ADMIN, PHONE]),
      device: phone,
    }),
    await entry({
      operation: 'Publish',
      account,
      action: 'update',
      id: personal.profile.id,
      value: personal,
    }),
    await entry({ operation: 'Publish', account, action: 'create', id: mail.profile.id, value: mail }, PHONE),
  ];
  return { entries, master, personal, admin, phone, mail, entry };
}

/** `count` CreateAccount entries of other accounts (user<n>@example.com), to pad a log. */
/** `count` other accounts' CreateAccount entries, keys apart from alice's fixtures. */
export async function otherAccounts(first: number, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let n = first; n < first + count; n++)
    out.push(await createAccountEntry(n, { masterSeed: 50, deviceSeed: 100 }));
  return out;
}
