/**
 * The benchmarks' load generator, a process of its own (bench/run.ts starts it) so that its
 * signing and its HTTP client never compete with the measured portal inside one measurement:
 *
 *   1. setup (not measured): `accounts` accounts created at each gateway, each with an
 *      application profile, then `perAccount` Publish updates of that profile per account signed
 *      in advance (each a new signed profile and a new authorisation: nothing is replayed);
 *   2. load: the pre-signed requests sent with `concurrency` requests in flight, or at `rate`
 *      requests per second spread over the gateways, until all are sent or `durationS` is up;
 *   3. query (optional): GET /profiles/{udf} with proof for the accounts' profiles;
 *   4. reads (optional): checkpoint and proof reads — each connection GETs /logs/self/checkpoint,
 *      then the inclusion proof of a random entry at that checkpoint's size, and again.
 *
 * Input: one JSON argument (LoadPlan). Output: LoadResult as JSON in `out`. Progress on stderr.
 */
import { writeFileSync } from 'node:fs';
import { Pool } from 'undici';
import { portalOrigin, TestAccount, type Fields } from '../test/support/mesh-client';

export interface LoadPlan {
  readonly gateways: string[];
  readonly queries?: string[];
  readonly accounts: number;
  readonly perAccount: number;
  readonly concurrency: number;
  /** Offered requests per second over all gateways (open loop); absent: as fast as answered. */
  readonly rate?: number;
  readonly durationS: number;
  readonly query?: { readonly durationS: number; readonly concurrency: number };
  /** Checkpoint and inclusion proof reads of the first query URL's own log (issue #17). */
  readonly reads?: { readonly durationS: number; readonly concurrency: number };
  readonly out: string;
  readonly label: string;
}

export interface RequestSample {
  /** Wall-clock ms at which the request was sent and answered. */
  readonly sentMs: number;
  readonly ackMs: number;
  readonly gateway: number;
  readonly ok: boolean;
  /** The request's Authorisation signature: the bench finds the request's entry in the log by it. */
  readonly signature?: string;
}

export interface LoadResult {
  readonly presignS: number;
  readonly presigned: number;
  readonly samples: RequestSample[];
  readonly errors: Record<string, number>;
  readonly query?: { readonly samples: Array<{ ms: number; ok: boolean }>; readonly durationS: number };
  readonly reads?: ReadsResult;
  /** The load generator's own CPU, % of one core, while it sent the load, the queries and the reads. */
  readonly ownCpuPercent: { readonly load: number; readonly query?: number; readonly reads?: number };
}

/** CPU used since `since` (process.cpuUsage), as % of one core over `wallMs`. */
function cpuPercent(since: NodeJS.CpuUsage, wallMs: number): number {
  const used = process.cpuUsage(since);
  return (100 * (used.user + used.system)) / 1000 / wallMs;
}

const progress = (label: string, text: string) => process.stderr.write(`\r[${label}] ${text}   `);

async function post(pool: Pool, name: string, body: Fields): Promise<{ status: number; text: string }> {
  const res = await pool.request({
    method: 'POST',
    path: '/.well-known/mmm/',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ [`${name}Request`]: body }),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

async function mustPost(pool: Pool, name: string, body: Fields): Promise<void> {
  const { status, text } = await post(pool, name, body);
  if (status !== 200) throw new Error(`${name}: ${status} ${text.slice(0, 300)}`);
}

interface Prepared {
  readonly gateway: number;
  readonly body: Fields;
  readonly profileIds: string[];
}

/** Accounts with an application profile each, and `perAccount` signed updates of it. */
async function prepare(
  plan: LoadPlan,
  pools: Pool[],
): Promise<{ requests: Prepared[]; profiles: string[][] }> {
  const requests: Prepared[][] = [];
  const profiles: string[][] = plan.gateways.map(() => []);
  for (let a = 0; a < plan.accounts; a++) {
    const gateway = a % pools.length;
    const pool = pools[gateway]!;
    const origin = await portalOrigin(plan.gateways[gateway]!);
    const account = await TestAccount.create(`bench${a}-${process.pid}@bench.example`, undefined, origin);
    await mustPost(pool, 'CreateAccount', await account.createAccount());
    const app = await account.application('bench', 'load', { n: 0 });
    const personal = await account.nextPersonal({ applications: [app.entry] });
    await mustPost(pool, 'Publish', await account.publish('update', personal));
    account.adopt(personal, account.devices, [app.entry]);
    await mustPost(pool, 'Publish', await account.publish('create', app.profile));
    profiles[gateway]!.push(account.master.profile.id, personal.profile.id, app.profile.profile.id);
    const own: Prepared[] = [];
    for (let n = 1; n <= plan.perAccount; n++) {
      const next = await account.application('bench', 'load', { n });
      own.push({ gateway, body: await account.publish('update', next.profile), profileIds: [] });
    }
    requests.push(own);
    progress(
      plan.label,
      `setup: ${a + 1}/${plan.accounts} accounts, ${(a + 1) * plan.perAccount} requests signed`,
    );
  }
  // Interleave the accounts, so that consecutive requests never wait on one account's row lock.
  const interleaved: Prepared[] = [];
  for (let n = 0; n < plan.perAccount; n++) for (const own of requests) interleaved.push(own[n]!);
  return { requests: interleaved, profiles };
}

async function load(plan: LoadPlan, pools: Pool[], requests: Prepared[]) {
  const samples: RequestSample[] = [];
  const errors: Record<string, number> = {};
  const deadline = Date.now() + plan.durationS * 1000;
  const started = Date.now();
  let next = 0;
  let inFlight = 0;
  const send = async (r: Prepared): Promise<void> => {
    inFlight++;
    const sentMs = Date.now();
    let ok = false;
    try {
      const { status, text } = await post(pools[r.gateway]!, 'Publish', r.body);
      ok = status === 200;
      if (!ok) {
        const code = /"Error":\s*"([^"]+)"/.exec(text)?.[1] ?? String(status);
        errors[code] = (errors[code] ?? 0) + 1;
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'network';
      errors[code] = (errors[code] ?? 0) + 1;
    }
    inFlight--;
    const signature = (r.body['Authorisation'] as { signature?: unknown } | undefined)?.signature;
    samples.push({
      sentMs,
      ackMs: Date.now(),
      gateway: r.gateway,
      ok,
      ...(typeof signature === 'string' ? { signature } : {}),
    });
  };
  const ticker = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    const ok = samples.filter((x) => x.ok).length;
    progress(
      plan.label,
      `load: ${s.toFixed(0)} s, ${ok} accepted (${(ok / s).toFixed(0)}/s), ${samples.length - ok} refused, ${inFlight} in flight`,
    );
  }, 1000);
  try {
    if (plan.rate === undefined) {
      await Promise.all(
        Array.from({ length: plan.concurrency }, async () => {
          while (next < requests.length && Date.now() < deadline) await send(requests[next++]!);
        }),
      );
    } else {
      // Open loop: request k is due at started + k / rate, whatever the answers' latency.
      const pending = new Set<Promise<void>>();
      while (next < requests.length && Date.now() < deadline) {
        const due = started + (next * 1000) / plan.rate;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (inFlight >= plan.concurrency) {
          errors['generator.saturated'] = (errors['generator.saturated'] ?? 0) + 1;
          await Promise.race(pending);
        }
        const p = send(requests[next++]!).finally(() => pending.delete(p));
        pending.add(p);
      }
      await Promise.all(pending);
    }
  } finally {
    clearInterval(ticker);
    process.stderr.write('\n');
  }
  return { samples, errors };
}

async function query(plan: LoadPlan, profiles: string[][]) {
  const spec = plan.query!;
  const targets = plan.queries!.map((url) => new Pool(url, { connections: spec.concurrency, pipelining: 1 }));
  const urls = profiles.flatMap((ids, g) => ids.map((id) => ({ g, path: `/profiles/${id}` })));
  const samples: Array<{ ms: number; ok: boolean }> = [];
  const deadline = Date.now() + spec.durationS * 1000;
  const started = Date.now();
  let k = 0;
  const ticker = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    progress(
      plan.label,
      `query: ${s.toFixed(0)} s, ${samples.length} answered (${(samples.length / s).toFixed(0)}/s)`,
    );
  }, 1000);
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (Date.now() < deadline) {
        const { g, path } = urls[k++ % urls.length]!;
        const t0 = performance.now();
        const res = await targets[g]!.request({ method: 'GET', path });
        const body = await res.body.text();
        samples.push({ ms: performance.now() - t0, ok: res.statusCode === 200 && body.includes('"proof"') });
      }
    }),
  );
  clearInterval(ticker);
  process.stderr.write('\n');
  await Promise.all(targets.map((t) => t.close()));
  return { samples, durationS: (Date.now() - started) / 1000 };
}

export interface ReadsResult {
  readonly durationS: number;
  readonly checkpoints: number;
  readonly proofs: number;
  readonly failed: number;
  /** Latency of every read that answered 200 with what it should (ms, not sorted). */
  readonly ms: number[];
}

/**
 * Checkpoint and proof reads (docs/BENCHMARKS.md): `concurrency` connections, each in a loop GETs
 * /logs/self/checkpoint, then /logs/self/proofs/inclusion for a random entry at the size that
 * checkpoint names — what a verifying client or a monitor does — until `durationS` is up.
 */
async function reads(plan: LoadPlan): Promise<ReadsResult> {
  const spec = plan.reads!;
  const pool = new Pool(plan.queries![0]!, { connections: spec.concurrency, pipelining: 1 });
  const ms: number[] = [];
  let checkpoints = 0;
  let proofs = 0;
  let failed = 0;
  const deadline = Date.now() + spec.durationS * 1000;
  const started = Date.now();
  const ticker = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    progress(plan.label, `reads: ${s.toFixed(0)} s, ${ms.length} answered (${(ms.length / s).toFixed(0)}/s)`);
  }, 1000);
  const get = async (path: string, ok: (status: number, body: string) => boolean): Promise<string> => {
    const t0 = performance.now();
    const res = await pool.request({ method: 'GET', path });
    const body = await res.body.text();
    if (ok(res.statusCode, body)) ms.push(performance.now() - t0);
    else failed++;
    return body;
  };
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (Date.now() < deadline) {
        const checkpoint = await get('/logs/self/checkpoint', (status) => status === 200);
        checkpoints++;
        const size = Number(checkpoint.split('\n')[1]);
        if (!(size > 0)) continue;
        const index = Math.floor(Math.random() * size);
        await get(
          `/logs/self/proofs/inclusion?index=${index}&size=${size}`,
          (status, body) => status === 200 && body.includes('"path"'),
        );
        proofs++;
      }
    }),
  );
  clearInterval(ticker);
  process.stderr.write('\n');
  await pool.close();
  return { durationS: (Date.now() - started) / 1000, checkpoints, proofs, failed, ms };
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2]!) as LoadPlan;
  const pools = plan.gateways.map((url) => new Pool(url, { connections: plan.concurrency, pipelining: 1 }));
  const t0 = Date.now();
  const { requests, profiles } = await prepare(plan, pools);
  const presignS = (Date.now() - t0) / 1000;
  // phase lines on stdout: the bench measures the services' CPU over each phase (bench/run.ts)
  process.stdout.write('phase load\n');
  let cpu = process.cpuUsage();
  let wall = Date.now();
  const { samples, errors } = await load(plan, pools, requests);
  const loadCpu = cpuPercent(cpu, Date.now() - wall);
  if (plan.query) process.stdout.write('phase query\n');
  cpu = process.cpuUsage();
  wall = Date.now();
  const queried = plan.query ? await query(plan, profiles) : undefined;
  const queryCpu = queried ? cpuPercent(cpu, Date.now() - wall) : undefined;
  if (plan.reads) process.stdout.write('phase reads\n');
  cpu = process.cpuUsage();
  wall = Date.now();
  const read = plan.reads ? await reads(plan) : undefined;
  const result: LoadResult = {
    presignS,
    presigned: requests.length,
    samples,
    errors,
    ...(queried ? { query: queried } : {}),
    ...(read ? { reads: read } : {}),
    ownCpuPercent: {
      load: loadCpu,
      ...(queryCpu === undefined ? {} : { query: queryCpu }),
      ...(read ? { reads: cpuPercent(cpu, Date.now() - wall) } : {}),
    },
  };
  process.stdout.write('phase done\n');
  await Promise.all(pools.map((p) => p.close()));
  writeFileSync(plan.out, JSON.stringify(result));
}

main().catch((error: unknown) => {
  process.stderr.write(`\nload generator failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
