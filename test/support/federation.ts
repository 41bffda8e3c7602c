import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Typed access to deploy/federation/federation.js (plain CommonJS: it runs the built services) for
 * the tests. See docs/running.md "Local federation" for what it starts.
 */

export type FederationService = 'gateway' | 'query' | 'replication' | 'log-signer';

/** One entry of FEDERATION_PEERS. */
export interface FederationPeer {
  readonly id: string;
  readonly origin: string;
  /** Its log verifier key (type 0x01), named `origin`. */
  readonly verifierKey: string;
  /** Its witness verifier key (type 0x04). */
  readonly witnessKey: string;
  readonly queryUrl: string;
}

/** One entry of `<dir>/portals.json`, exactly these fields. */
export interface PortalsFileEntry {
  readonly id: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly witnessKey: string;
  readonly gatewayUrl: string;
  readonly queryUrl: string;
  /** Under `tls`: the CA the gateway's and query's certificates chain to. */
  readonly caFile?: string;
}

export interface PortalsFile {
  readonly portals: PortalsFileEntry[];
}

/** A running portal: its portals.json entry and more. `pids` follows stopService/startService. */
export interface FederationPortal extends PortalsFileEntry {
  readonly database: string;
  /** The owner's URL (the migrations ran as it): for tests that inspect or break the database. */
  readonly databaseUrl: string;
  /** What each service connects with: its own user, with only its role's rights (issue #15). */
  readonly serviceDatabaseUrls: Readonly<Record<FederationService, string>>;
  readonly urls: Readonly<Record<FederationService, string>>;
  readonly ports: Readonly<Record<FederationService, number>>;
  readonly logs: Readonly<Record<FederationService, string>>;
  /** null while the service is stopped. */
  readonly pids: Readonly<Record<FederationService, number | null>>;
}

export interface StartFederationOptions {
  /** Where keys, logs, portals.json and state.json go (default `.federation`, relative to the cwd). */
  dir?: string;
  /** Portal ids, in order (default alpha, beta, gamma). */
  portals?: readonly string[];
  /** An existing broker (default $KAFKA_BROKERS, else a test broker started detached and stopped by stop()). */
  kafkaBrokers?: string;
  /** PostgreSQL admin URL (default $FEDERATION_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres). */
  databaseUrl?: string;
  /** Database names are `<prefix>_<id>` (default cmp_fed); an existing one is dropped first. */
  prefix?: string;
  /** Added to every portal's FEDERATION_PEERS (after the other portals). */
  extraPeers?: readonly FederationPeer[];
  /** Extra environment of every service (overrides the federation's own; null/undefined unsets). */
  env?: Readonly<Record<string, string | number | null | undefined>>;
  /** Extra environment per portal and service, applied after `env`. */
  perPortalEnv?: (
    id: string,
    service: FederationService,
  ) => Readonly<Record<string, string | number | null | undefined>> | undefined;
  /** COSIGNATURE_QUORUM of the gateways and replications (default: unset, the services' default). */
  cosignatureQuorum?: number;
  log?: (message: string) => void;
  /** How long every /health may take to answer 200 (default 60000). */
  healthTimeoutMs?: number;
  /** SIGTERM to SIGKILL (default 15000). */
  stopTimeoutMs?: number;
  /** `'if-missing'` (default): `nest build --all` when a service's dist/ entry is missing; true: always; false: never. */
  build?: boolean | 'if-missing' | 'always' | 'never';
  /** With an existing broker: delete the portals' `intermesh.log.<id>` topics at start and stop (default true). */
  resetTopics?: boolean;
  /**
   * Stop the federation (as stopFederation does) once this process is gone, even when killed: a
   * detached watcher polls for it (default false: `npm run federation:up` outlives its command).
   */
  stopWithProcess?: boolean;
  /** Aborting it stops a start in progress, which then cleans up and rejects with "interrupted". */
  signal?: AbortSignal;
  /** HTTPS for every gateway and query service, with certificates of a local CA in `<dir>/tls` (default false). */
  tls?: boolean;
  /**
   * Arguments for node before each service's main script: the same for every service, or a function
   * of (service, portal id) giving each its own (the benchmarks' --cpu-prof of chosen services).
   */
  nodeArgs?: readonly string[] | ((service: FederationService, portal: string) => readonly string[]);
}

export interface StopFederationOptions {
  dir?: string;
  /** Keep the databases (and, on an existing broker, the log topics). */
  keepData?: boolean;
  log?: (message: string) => void;
  stopTimeoutMs?: number;
}

export interface Federation {
  readonly dir: string;
  readonly portalsFile: string;
  readonly stateFile: string;
  readonly kafkaBrokers: string;
  /** The admin URL the databases were created with. */
  readonly databaseUrl: string;
  /** The local CA's certificate (PEM file) under `tls`, else null. */
  readonly caFile: string | null;
  readonly services: readonly FederationService[];
  readonly portals: readonly FederationPortal[];
  portal(id: string): FederationPortal;
  /** Signals the service's process group and waits for its exit (SIGKILL after stopTimeoutMs); its exit if this process started it. */
  stopService(
    id: string,
    service: FederationService,
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Starts a stopped service again, same environment (with `env`'s changes, kept for later starts;
   * null unsets) and port, and waits until /health answers 200.
   */
  startService(
    id: string,
    service: FederationService,
    env?: Readonly<Record<string, string | number | null | undefined>>,
  ): Promise<void>;
  stopPortal(id: string, signal?: NodeJS.Signals): Promise<void>;
  startPortal(id: string): Promise<void>;
  /** stopFederation() of this federation's dir. */
  stop(options?: Omit<StopFederationOptions, 'dir'>): Promise<{ stopped: boolean }>;
}

export interface FederationStatus {
  readonly dir: string;
  readonly kafka: { brokers: string; external: boolean; pid?: number; alive?: boolean };
  readonly portals: ReadonlyArray<{
    id: string;
    database: string;
    services: Record<
      FederationService,
      { pid: number | null; alive: boolean; url: string; health: number | null; detail: string }
    >;
  }>;
}

interface FederationModule {
  startFederation: (options?: StartFederationOptions) => Promise<Federation>;
  stopFederation: (options?: StopFederationOptions) => Promise<{ stopped: boolean }>;
  federationStatus: (options?: { dir?: string }) => Promise<FederationStatus | null>;
  SERVICES: readonly FederationService[];
  SERVICE_NODE_FLAGS: Readonly<Partial<Record<FederationService, readonly string[]>>>;
}

/** The path of deploy/federation/federation.js (its CLI: `node <path> up|down|status`). */
export const FEDERATION_SCRIPT = join(__dirname, '../../deploy/federation/federation.js');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const federation = require(FEDERATION_SCRIPT) as FederationModule;

export const startFederation = federation.startFederation;
export const stopFederation = federation.stopFederation;
export const federationStatus = federation.federationStatus;
export const FEDERATION_SERVICES = federation.SERVICES;
/** Node's flags of each service, as every shipped deployment starts it (docs/configuration.md). */
export const SERVICE_NODE_FLAGS = federation.SERVICE_NODE_FLAGS;
/** A service's main script, as the deployments name it: its service in group 1. */
export const SERVICE_MAIN = /^dist\/apps\/([\w-]+)\/apps\/\1\/src\/main\.js$/;

/**
 * The options a test federation needs under `npm test`: a fresh temp dir, the run's broker and
 * PostgreSQL, and database names under the run's tag (so the runner drops them whatever happens).
 * The federation stops by itself if the test process dies. Portal ids get a random suffix (`alpha-3f9c1a`) unless `uniqueIds` is false: the broker is shared
 * by every test file of the run, and `intermesh.log.<id>` and the consumer groups must not be.
 */
export function testFederationOptions(
  options: StartFederationOptions & { uniqueIds?: boolean } = {},
): StartFederationOptions {
  const tag = process.env.CMP_TEST_RUN_TAG;
  const kafkaBrokers = process.env.KAFKA_BROKERS;
  const databaseUrl = process.env.TEST_DATABASE_ADMIN_URL;
  if (!tag || !kafkaBrokers || !databaseUrl) {
    throw new Error(
      'CMP_TEST_RUN_TAG, KAFKA_BROKERS and TEST_DATABASE_ADMIN_URL are not set: run the tests with npm test',
    );
  }
  const { uniqueIds = true, ...rest } = options;
  const suffix = randomBytes(3).toString('hex');
  const portals = (rest.portals ?? ['alpha', 'beta', 'gamma']).map((id) =>
    uniqueIds ? `${id}-${suffix}` : id,
  );
  return {
    dir: mkdtempSync(join(tmpdir(), `${tag}-federation-`)),
    kafkaBrokers,
    databaseUrl,
    prefix: `${tag}_fed${suffix}`,
    log: () => {},
    build: false,
    stopWithProcess: true,
    ...rest,
    portals,
  };
}

/** startFederation(testFederationOptions(options)). */
export function startTestFederation(
  options: StartFederationOptions & { uniqueIds?: boolean } = {},
): Promise<Federation> {
  return startFederation(testFederationOptions(options));
}
