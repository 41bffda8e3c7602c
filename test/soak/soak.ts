import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { fromBase64, openSeal, parseVerifierKey, toBase64, verifyLog } from '@cryptomesh/log';
import { decodeRecord } from '@cryptomesh/mesh';
import {
  FEDERATION_SERVICES,
  startFederation,
  type Federation,
  type StartFederationOptions,
} from '../support/federation';
import type { KnownPortal } from '../support/federation-oracle';
import { TestAccount, post } from '../support/mesh-client';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startBroker } = require('../../deploy/kafka/kafka-broker.js') as {
  startBroker: (o?: { log?: (m: string) => void }) => Promise<{
    brokers: string;
    stop: () => Promise<void>;
    restart: (o?: { hard?: boolean; downMs?: number }) => Promise<void>;
  }>;
};

/**
 * The soak (issue #15, docs/RELIABILITY.md): a three-portal federation of the built services under
 * a steady write load while services of random portals are killed with SIGKILL and restarted, and
 * the broker once (SIGKILL too). When the time is up the load stops, every service runs again, and
 * the oracle checks what is published: every portal's log and every mirror re-verifies from its
 * parts (seals, chain, digests, roots), each mirror is the owner's log, every acknowledged write
 * (a CreateAccount answered 200) is in its portal's log exactly once, and no portal raised a
 * finding. Bounded: `durationMs` of chaos, then at most `settleMs` to converge.
 */
export interface SoakOptions {
  readonly durationMs: number;
  /** Mean time between two kills. */
  readonly killEveryMs: number;
  /** Chaos (and load) go on past `durationMs` until this many kills and the broker's restart happened. */
  readonly minKills?: number;
  readonly settleMs?: number;
  /** Concurrent writers. */
  readonly writers?: number;
  /** The federation's options (the broker is the soak's own, restartable one). */
  readonly federation: (brokers: string) => StartFederationOptions;
  readonly log?: (message: string) => void;
}

export interface SoakFigures {
  readonly durationMs: number;
  readonly kills: number;
  readonly killsByService: Record<string, number>;
  readonly brokerRestarts: number;
  readonly writesAttempted: number;
  readonly writesAcknowledged: number;
  readonly writesFound: number;
  readonly writesMissing: number;
  readonly duplicates: number;
  readonly findings: number;
  readonly logsVerified: number;
  readonly mirrorsVerified: number;
  readonly entries: number;
}

async function getText(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text() };
}

/** Log `name` at `queryUrl`, every part and entry, re-verified with `owner`'s key alone. */
async function verifiedLog(
  queryUrl: string,
  name: string,
  owner: KnownPortal,
): Promise<{ notes: string[]; entries: Uint8Array[] }> {
  const base = queryUrl.replace(/\/$/, '');
  const key = parseVerifierKey(owner.verifierKey);
  const head = await getText(`${base}/logs/${name}/checkpoint`);
  if (head.status !== 200) throw new Error(`${base}/logs/${name}/checkpoint: ${head.status}`);
  const last = openSeal(head.text, key, nodeEd25519, owner.origin).seal;
  const notes: string[] = [];
  const entries: Uint8Array[] = [];
  for (let n = 0; n <= last.part.index; n++) {
    const part = await getText(`${base}/logs/${name}/parts/${n}`);
    if (part.status !== 200) throw new Error(`${base}/logs/${name}/parts/${n}: ${part.status}`);
    const { first, size, seal } = JSON.parse(part.text) as { first: number; size: number; seal: string };
    notes.push(seal);
    for (let start = first; start < size; start += 1000) {
      const end = Math.min(size, start + 1000);
      const page = await getText(`${base}/logs/${name}/entries?start=${start}&end=${end}`);
      if (page.status !== 200) throw new Error(`${base}/logs/${name}/entries: ${page.status}`);
      entries.push(...(JSON.parse(page.text) as { entries: string[] }).entries.map((e) => fromBase64(e)));
    }
  }
  const seals = notes.map((note) => openSeal(note, key, nodeEd25519, owner.origin).seal);
  const verdict = await verifyLog(
    seals.map((seal, i) => ({ entries: entries.slice(seal.part.first, seal.size), seal: notes[i]! })),
    { logKey: key, ed25519: nodeEd25519, origin: owner.origin },
  );
  if (!verdict.ok) throw verdict.violation;
  return { notes, entries };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms${last === undefined ? '' : ` (${last instanceof Error ? last.message : JSON.stringify(last)})`}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(options: SoakOptions): Promise<SoakFigures> {
  const log = options.log ?? (() => undefined);
  const broker = await startBroker({ log: () => undefined });
  let federation: Federation | undefined;
  try {
    federation = await startFederation(options.federation(broker.brokers));
    const fed = federation;
    const portals: KnownPortal[] = fed.portals.map((p) => ({ ...p }));
    log(`soak: ${portals.map((p) => p.id).join(', ')} on ${broker.brokers}, ${options.durationMs} ms`);
    const started = Date.now();
    const deadline = started + options.durationMs;

    // The load: CreateAccount at a random portal; acknowledged = answered 200.
    const acknowledged = new Map<string, string>(); // account UDF → portal id
    let attempted = 0;
    let chaosOver = false;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !chaosOver; i++) {
        const portal = portals[randomInt(portals.length)]!;
        attempted++;
        try {
          const account = await TestAccount.create(`soak${w}-${i}@example.com`, undefined, portal.origin);
          const answer = await post(portal.gatewayUrl, 'CreateAccount', await account.createAccount());
          if (answer.status === 200) acknowledged.set(account.udf, portal.id);
        } catch {
          // A killed gateway: not acknowledged.
        }
        if (i % 10 === 9) await sleep(50);
      }
    };

    // The chaos: SIGKILL a random service of a random portal, restart it; the broker once, midway.
    const killsByService: Record<string, number> = {};
    let kills = 0;
    let brokerRestarts = 0;
    const chaos = async (): Promise<void> => {
      let brokerDone = false;
      // Kills are scheduled from the start, not after the previous restart, so that slow restarts
      // (a loaded machine) do not thin them out.
      let next = started + options.killEveryMs / 2;
      const done = () => Date.now() >= deadline && kills >= (options.minKills ?? 0) && brokerDone;
      for (;;) {
        await sleep(Math.max(0, next - Date.now()));
        if (done()) break;
        next += options.killEveryMs / 2 + randomInt(options.killEveryMs);
        if (!brokerDone && (Date.now() - started >= options.durationMs / 2 || kills >= 2)) {
          brokerDone = true;
          log('soak: SIGKILL of the broker');
          await broker.restart({ hard: true, downMs: 1_000 });
          brokerRestarts++;
          continue;
        }
        const portal = portals[randomInt(portals.length)]!;
        const service = FEDERATION_SERVICES[randomInt(FEDERATION_SERVICES.length)]!;
        log(`soak: SIGKILL ${portal.id} ${service}`);
        await fed.stopService(portal.id, service, 'SIGKILL');
        kills++;
        killsByService[service] = (killsByService[service] ?? 0) + 1;
        await sleep(200 + randomInt(1_500));
        await fed.startService(portal.id, service);
      }
    };
    await Promise.all([
      chaos().finally(() => (chaosOver = true)),
      ...Array.from({ length: options.writers ?? 2 }, (_, w) => writer(w)),
    ]);
    log(`soak: chaos over (${kills} kills, ${acknowledged.size} acknowledged writes); settling`);

    // Settle: every log holds what its portal acknowledged, and every mirror catches up.
    const settleMs = options.settleMs ?? 120_000;
    const logs = new Map<string, { notes: string[]; entries: Uint8Array[] }>();
    const creates = (entries: Uint8Array[]) =>
      entries.flatMap((e) => {
        const record = decodeRecord(e);
        return record.operation === 'CreateAccount' ? [record.account] : [];
      });
    for (const owner of portals) {
      const expected = [...acknowledged].filter(([, p]) => p === owner.id).map(([a]) => a);
      await until(
        `${owner.id}'s log holds its ${expected.length} acknowledged writes`,
        async () => {
          const own = await verifiedLog(owner.queryUrl, 'self', owner);
          logs.set(owner.id, own);
          const found = new Set(creates(own.entries));
          return expected.every((a) => found.has(a));
        },
        settleMs,
      );
    }
    let mirrorsVerified = 0;
    for (const owner of portals) {
      const own = logs.get(owner.id)!;
      for (const holder of portals.filter((p) => p.id !== owner.id)) {
        await until(
          `${holder.id} mirrors ${owner.id} up to ${own.entries.length} entries`,
          async () => {
            const mirror = await verifiedLog(holder.queryUrl, owner.id, owner);
            if (mirror.entries.length < own.entries.length) return false;
            // The mirror is the owner's log: its seals and entries are the owner's, as far as both go.
            const latest = await verifiedLog(owner.queryUrl, 'self', owner);
            const n = Math.min(mirror.notes.length, latest.notes.length);
            if (mirror.notes.slice(0, n).join('\n') !== latest.notes.slice(0, n).join('\n'))
              throw new Error(`${holder.id}'s mirror of ${owner.id} has other seals`);
            return mirror.entries.every((e, i) => toBase64(e) === toBase64(latest.entries[i]!));
          },
          settleMs,
        );
        mirrorsVerified++;
      }
    }

    let writesFound = 0;
    let duplicates = 0;
    let entries = 0;
    for (const owner of portals) {
      const own = logs.get(owner.id)!;
      entries += own.entries.length;
      const counts = new Map<string, number>();
      for (const account of creates(own.entries)) counts.set(account, (counts.get(account) ?? 0) + 1);
      for (const n of counts.values()) if (n > 1) duplicates += n - 1;
      for (const [account, portal] of acknowledged)
        if (portal === owner.id && counts.has(account)) writesFound++;
    }
    let findings = 0;
    for (const portal of portals) {
      const answer = await getText(`${portal.queryUrl.replace(/\/$/, '')}/findings?limit=1000`);
      findings += (JSON.parse(answer.text) as { findings: unknown[] }).findings.length;
    }
    return {
      durationMs: options.durationMs,
      kills,
      killsByService,
      brokerRestarts,
      writesAttempted: attempted,
      writesAcknowledged: acknowledged.size,
      writesFound,
      writesMissing: acknowledged.size - writesFound,
      duplicates,
      findings,
      logsVerified: logs.size,
      mirrorsVerified,
      entries,
    };
  } finally {
    await federation?.stop().catch(() => undefined);
    await broker.stop();
  }
}

/** The federation options of `npm run soak`: its own temp dir and databases, stopped with it. */
function soakFederation(brokers: string): StartFederationOptions {
  const tag = `soak_${randomBytes(3).toString('hex')}`;
  return {
    dir: mkdtempSync(join(tmpdir(), `cryptomesh-${tag}-`)),
    kafkaBrokers: brokers,
    prefix: tag,
    build: false,
    stopWithProcess: true,
    log: () => undefined,
    env: SOAK_ENV,
  };
}

/** Short seals and checks, so that kills and restarts show within seconds. */
export const SOAK_ENV = {
  LOG_LEVEL: 'warn',
  SEAL_INTERVAL_MS: 300,
  HEARTBEAT_MS: 2_000,
  CATCHUP_INTERVAL_MS: 1_000,
  CATCHUP_TIMEOUT_MS: 5_000,
  // A service restarted after a kill is not a stale peer.
  STALE_AFTER_MS: 120_000,
} as const;

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const minutesArg = argv.find((a) => a.startsWith('--minutes='));
  const minutes = minutesArg === undefined ? (quick ? 1 : 10) : Number(minutesArg.slice('--minutes='.length));
  if (!(minutes > 0 && minutes <= 120)) {
    console.error('soak: --minutes=N takes 0 < N ≤ 120');
    return 2;
  }
  const figures = await runSoak({
    durationMs: minutes * 60_000,
    killEveryMs: quick ? 8_000 : 20_000,
    federation: soakFederation,
    log: (m) => console.error(`[${new Date().toISOString()}] ${m}`),
  });
  console.log(JSON.stringify({ date: new Date().toISOString().slice(0, 10), ...figures }, null, 2));
  const ok = figures.writesMissing === 0 && figures.duplicates === 0 && figures.findings === 0;
  console.error(ok ? 'soak: passed' : 'soak: FAILED (missing writes, duplicates or findings)');
  return ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`soak: ${error instanceof Error ? error.stack : String(error)}`);
      process.exit(1);
    },
  );
}
