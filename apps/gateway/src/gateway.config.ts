import { isIP } from 'node:net';
import { DEFAULT_MAX_SKEW_MS } from '@cryptomesh/mesh';
import { z } from 'zod';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519, KeyType, parseVerifierKey } from '@cryptomesh/log';
import { isValidPortalId } from '@cryptomesh/intermesh';
import {
  ConfigError,
  commonConfigShape,
  databaseConfigShape,
  integerVar,
  loadConfig,
  logBacklogConfigShape,
  workersConfigShape,
} from '@cryptomesh/service';

/** An IPv4 or IPv6 address, or a CIDR range of one (`10.0.0.0/8`, `fd00::/8`). */
function isAddressOrRange(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

function verifierKeyVar(type: KeyType, what: string) {
  return z
    .string({ required_error: `is required: the portal's ${what} verifier key, <name>+<hex id>+<base64>` })
    .trim()
    .refine(
      (s) => {
        try {
          parseVerifierKey(s, type);
          return true;
        } catch {
          return false;
        }
      },
      {
        message: `must be a C2SP verifier key of type 0x0${type} (the ${what} key), <name>+<hex id>+<base64>`,
      },
    );
}

/** The gateway's environment (docs/configuration.md lists every variable). */
export function gatewayConfigShape() {
  return {
    ...commonConfigShape(8081),
    ...databaseConfigShape(),
    ...logBacklogConfigShape(),
    ...workersConfigShape(),
    PORTAL_ID: z
      .string({ required_error: 'is required: this portal id, lower-case letters, digits and -' })
      .trim()
      .refine(isValidPortalId, { message: 'must be 1–63 of a–z 0–9 - (starting with a letter or digit)' }),
    LOG_ORIGIN: z
      .string({
        required_error: 'is required: the origin line of this portal’s checkpoints, e.g. alpha.example/log',
      })
      .trim()
      .min(1)
      .refine((s) => !/[\r\n]/.test(s), { message: 'must be a single line' }),
    LOG_VERIFIER_KEY: verifierKeyVar(KEY_TYPE_ED25519, 'log'),
    WITNESS_VERIFIER_KEY: z.preprocess(
      (v) => (v === '' ? undefined : v),
      verifierKeyVar(KEY_TYPE_COSIGNATURE_V1, 'witness').optional(),
    ),
    /**
     * Where clients read this portal's log, mirrors and proofs (the query service), answered by
     * Hello as `QueryUrl`. Unset: the query paths are served at the gateway's own URL (single portal).
     */
    QUERY_URL: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .trim()
        .url({ message: 'must be an http(s) URL' })
        .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http(s) URL' })
        .transform((u) => u.replace(/\/$/, ''))
        .optional(),
    ),
    /**
     * The peer cosignatures clients should demand on this portal's checkpoints, answered by Hello
     * (docs/design/federation.md); the replication service's value. Unset: not announced.
     */
    COSIGNATURE_QUORUM: z.preprocess(
      (v) => (v === '' ? undefined : v),
      integerVar({ min: 0, max: 1_000 }).optional(),
    ),
    /** Largest request body, in bytes (413 beyond). */
    MAX_REQUEST_BYTES: integerVar({ default: 65_536, min: 1_024, max: 16 * 1024 * 1024 }),
    /** Largest signed profile inside a request, in bytes. */
    MAX_PROFILE_BYTES: integerVar({ default: 32_768, min: 512, max: 8 * 1024 * 1024 }),
    /** Requests per minute from one client address (0 disables). */
    RATE_LIMIT_ADDRESS_PER_MINUTE: integerVar({ default: 600, min: 0, max: 1_000_000 }),
    /**
     * The reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the
     * client: the per-address limit then counts the client, not the proxy. Empty: the socket's address.
     */
    TRUSTED_PROXIES: z.preprocess(
      (v) => (v === undefined ? '' : v),
      z
        .string()
        .transform((s) =>
          s
            .split(',')
            .map((p) => p.trim())
            .filter((p) => p !== ''),
        )
        .refine((list) => list.every(isAddressOrRange), {
          message: 'must be comma-separated IP addresses or CIDR ranges, e.g. 10.0.0.0/8,127.0.0.1',
        }),
    ),
    /** Requests per minute for one account (0 disables). */
    RATE_LIMIT_ACCOUNT_PER_MINUTE: integerVar({ default: 120, min: 0, max: 1_000_000 }),
    /** Catalog objects one account may hold, deleted ones included (0: no quota). */
    QUOTA_OBJECTS_PER_ACCOUNT: integerVar({ default: 10_000, min: 0, max: 100_000_000 }),
    /** Bytes of signed profiles one account may hold (0: no quota). */
    QUOTA_BYTES_PER_ACCOUNT: integerVar({
      default: 16 * 1024 * 1024,
      min: 0,
      max: 1024 * 1024 * 1024 * 1024,
    }),
    /**
     * Megabytes of account states kept in memory by this process, to validate the next change of a
     * busy account without reading and parsing its rows again (0: none kept; issue #17).
     */
    ACCOUNT_STATE_CACHE_MB: integerVar({ default: 32, min: 0, max: 4_096 }),
    /**
     * The most fast-path changes written by one statement (group commit), and the most peeks read by
     * one (issue #17, docs/design/gateway.md "Group commit"). 1: every request alone.
     */
    GROUP_COMMIT_MAX_BATCH: integerVar({ default: 256, min: 1, max: 4_096 }),
    /**
     * How long, in ms, an idle group waits for more requests before its statement goes (0: none; the
     * requests that arrive while a statement is in flight go together in the next one anyway).
     */
    GROUP_COMMIT_WINDOW_MS: integerVar({ default: 0, min: 0, max: 50 }),
    /**
     * Group statements of each kind (peek, commit) in flight at once per process. 1: purely
     * self-clocking. More overlaps a slow disk's commit latency, with smaller groups; each takes a
     * pooled connection (keep it well below DB_POOL_SIZE).
     */
    GROUP_COMMIT_MAX_IN_FLIGHT: integerVar({ default: 1, min: 1, max: 16 }),
    /**
     * Catalog objects (docs/design/inbound.md "Catalog objects": contacts, application settings,
     * credentials) one account may hold, tombstones included (0: no quota). Apart from the profile
     * quotas above: catalogs are not logged, and filling one must not stop the account's profiles.
     */
    QUOTA_CATALOG_OBJECTS_PER_ACCOUNT: integerVar({ default: 10_000, min: 0, max: 100_000_000 }),
    /** Bytes of signed catalog values and tombstones one account may hold (0: no quota). */
    QUOTA_CATALOG_BYTES_PER_ACCOUNT: integerVar({
      default: 16 * 1024 * 1024,
      min: 0,
      max: 1024 * 1024 * 1024 * 1024,
    }),
    /** Escrow blobs one account may store (0: no quota). */
    QUOTA_ESCROW_PER_ACCOUNT: integerVar({ default: 64, min: 0, max: 1_000_000 }),
    /** UDF compression level a CreateAccount must show (0 = no proof of work). */
    PROOF_OF_WORK_LEVEL: integerVar({ default: 0, min: 0, max: 4 }),
    /**
     * How far a signed request's `Time` may be from the portal's clock, either way, in ms. Nonces are
     * kept for this window after the request's time (docs/design/gateway.md "Replays").
     */
    // At most the auditors' skew (DEFAULT_MAX_SKEW_MS): a wider window would accept requests that
    // every peer then reports as outside the clock window of their seal (docs/design/federation.md).
    CLOCK_SKEW_MS: integerVar({ default: DEFAULT_MAX_SKEW_MS, min: 1_000, max: DEFAULT_MAX_SKEW_MS }),
    /**
     * The proof-of-work level (UDF compression, 0–4; level 1 is about 4 s on one core) a contact
     * request from a stranger must show (docs/design/inbound.md "Proof of work"; Hello's
     * Policy.Inbound.ContactProofOfWork). 0: none demanded.
     */
    INBOUND_CONTACT_POW_LEVEL: integerVar({ default: 1, min: 0, max: 4 }),
    /** Stranger contact requests one sender account may have accepted by this portal per hour (0: none). */
    INBOUND_CONTACT_REQUESTS_PER_HOUR: integerVar({ default: 20, min: 0, max: 1_000_000 }),
    /**
     * Stranger contact requests accepted here per hour from the senders of one origin portal (this
     * portal's own accounts are one origin too): a member that mints accounts cannot flood.
     */
    INBOUND_CONTACT_REQUESTS_PER_ORIGIN_PER_HOUR: integerVar({ default: 200, min: 0, max: 100_000_000 }),
    /**
     * Undeleted inbound items of allowed senders one account may hold (beyond: 413 quota.exceeded,
     * Reason quota.inbound); strangers' contact requests never count against it.
     */
    INBOUND_SPOOL_MAX_PER_ACCOUNT: integerVar({ default: 1_000, min: 1, max: 10_000_000 }),
    /** Undeleted contact requests of strangers one account may hold (beyond: 413, Reason quota.inbound; 0: none). */
    INBOUND_STRANGER_MAX_PER_ACCOUNT: integerVar({ default: 50, min: 0, max: 10_000_000 }),
    /**
     * Largest inbound envelope, as UTF-8 JSON. It travels inside a request, so MAX_REQUEST_BYTES bounds
     * it too (keep that about 2 KiB larger to post envelopes of this size).
     */
    INBOUND_MAX_ENVELOPE_BYTES: integerVar({ default: 65_536, min: 1_024, max: 512 * 1024 }),
    /**
     * The oldest envelope (`Created`) a portal takes, and how long a spool row lasts — deleted ones
     * (tombstones) included — after it arrived, plus an hour, so that a replay after the purge is
     * refused as stale (docs/design/inbound.md "Access control" 6). Above CLOCK_SKEW_MS.
     */
    INBOUND_MAX_AGE_MS: integerVar({ default: 604_800_000, min: 60_000, max: 90 * 86_400_000 }),
    /** Pending connection requests one account may have (ConnectStart beyond: 429). */
    MAX_PENDING_CONNECTIONS: integerVar({ default: 16, min: 1, max: 1_000 }),
    /**
     * Connection requests of one account from one client address (an IPv6 address by its /64) that
     * may count at once: its pending ones, and its rejected ones younger than CONNECT_REQUEST_TTL_MS
     * (ConnectStart beyond: 429, Reason connect.address-limit; issue #15).
     */
    MAX_PENDING_CONNECTIONS_PER_ADDRESS: integerVar({ default: 2, min: 1, max: 1_000 }),
    /**
     * A connection request still pending after this long is dropped (frees its place under the caps);
     * a rejected one stops counting against its address after this long.
     */
    CONNECT_REQUEST_TTL_MS: integerVar({ default: 3_600_000, min: 1_000, max: 30 * 86_400_000 }),
  };
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv) {
  const config = loadConfig(gatewayConfigShape(), env);
  // The replication service checks the same (replication.config.ts): a tombstone must outlive every
  // envelope the portals still take, or a replayed item could be delivered twice.
  if (config.INBOUND_MAX_AGE_MS <= config.CLOCK_SKEW_MS)
    throw new ConfigError(
      'INBOUND_MAX_AGE_MS',
      `is ${config.INBOUND_MAX_AGE_MS} ms, not above CLOCK_SKEW_MS (${config.CLOCK_SKEW_MS} ms): a deleted inbound item could be delivered again by a replay; raise it (default 604800000, 7 days)`,
    );
  return config;
}
