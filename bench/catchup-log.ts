/**
 * The catch-up benchmark's peer (bench/run.ts starts it as a process of its own): a portal log of
 * `entries` real Mesh entries — accounts created, each with an application profile, then signed
 * Publish updates of those profiles, every one of which a mirroring peer re-checks (two
 * signatures, the signing rules, the persistence model) — sealed in parts of `perPart` with this
 * peer's log key and written to its topic `intermesh.log.<id>` before the portal that will mirror
 * it starts ("a peer that joins late"). The entries are cached under bench/.cache for 45 minutes (signing a
 * million of them takes minutes); the seals are made fresh each run, ending about now.
 *
 * Input: one JSON argument (CatchupPlan). Output: the peer's federation entry as JSON on stdout.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  ensureTopics,
  encodePart,
  kafkaClientConfig,
  logProducerConfig,
  logTopic,
} from '@cryptomesh/intermesh';
import { authoriseRecord, encodeRecord, type RecordContent } from '@cryptomesh/mesh';
import { LogFixture, witnessSigner } from '../libs/log/testdata/log-fixture';
import { TestAccount } from '../test/support/mesh-client';

export interface CatchupPlan {
  readonly brokers: string;
  readonly id: string;
  readonly entries: number;
  readonly perPart: number;
}

const ACCOUNTS = 32;
const PROFILES = 16;
/** Under the broker's message.max.bytes (1 MiB), which bounds one produce batch. */
const BATCH_BYTES = 768 * 1024;
const CACHE = resolve(__dirname, '.cache');
/**
 * The oldest cached entries used: a request is re-checked against the seal that carries it, and the
 * seals are made now, so entries older than the auditors' window (65 minutes by default) would be
 * `request.stale` findings and nothing would be mirrored. Older ones are signed again.
 */
const CACHE_MAX_AGE_MS = 45 * 60_000;
const progress = (text: string) => process.stderr.write(`\r[catch-up] ${text}   `);

/** Length-prefixed entries: the cache file format. */
function pack(entries: Uint8Array[]): Buffer {
  const chunks: Buffer[] = [];
  for (const e of entries) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(e.length);
    chunks.push(length, Buffer.from(e));
  }
  return Buffer.concat(chunks);
}

function unpack(data: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length;) {
    const length = data.readUInt32BE(at);
    out.push(new Uint8Array(data.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

async function generate(count: number, origin: string): Promise<Uint8Array[]> {
  const entries: Uint8Array[] = [];
  const record = async (account: TestAccount, content: RecordContent) =>
    encodeRecord(
      await authoriseRecord(content, account.admin.signature, { portal: origin, time: Date.now() }),
    );
  const accounts: Array<{ account: TestAccount; appId: string }> = [];
  for (let a = 0; a < ACCOUNTS; a++) {
    const account = await TestAccount.create(`catchup${a}@bench.example`);
    entries.push(
      await record(account, {
        operation: 'CreateAccount',
        account: account.udf,
        master: account.master,
        personal: account.personal,
        devices: account.devices.map((d) => d.profile),
      }),
    );
    const app = await account.application('bench', 'catchup', { n: 0 });
    const personal = await account.nextPersonal({ applications: [app.entry] });
    entries.push(
      await record(account, {
        operation: 'Publish',
        account: account.udf,
        action: 'update',
        id: personal.profile.id,
        value: personal,
      }),
    );
    account.adopt(personal, account.devices, [app.entry]);
    entries.push(
      await record(account, {
        operation: 'Publish',
        account: account.udf,
        action: 'create',
        id: app.profile.profile.id,
        value: app.profile,
      }),
    );
    accounts.push({ account, appId: app.profile.profile.id });
  }
  // The updates set one of PROFILES signed versions of each account's application profile in turn:
  // each entry is a new authorisation (its own nonce and signature) over an already signed value,
  // which the mirror still verifies in full.
  const versions = await Promise.all(
    accounts.map(async ({ account }) =>
      Promise.all(
        Array.from(
          { length: PROFILES },
          async (_, n) => (await account.application('bench', 'catchup', { n: n + 1 })).profile,
        ),
      ),
    ),
  );
  const started = Date.now();
  for (let n = 0; entries.length < count; n++) {
    const { account, appId } = accounts[n % ACCOUNTS]!;
    const value = versions[n % ACCOUNTS]![Math.floor(n / ACCOUNTS) % PROFILES]!;
    entries.push(
      await record(account, {
        operation: 'Publish',
        account: account.udf,
        action: 'update',
        id: appId,
        value,
      }),
    );
    if (entries.length % 5000 === 0) {
      const s = (Date.now() - started) / 1000;
      progress(`signing entries: ${entries.length}/${count} (${Math.round(entries.length / s)}/s)`);
    }
  }
  process.stderr.write('\n');
  return entries.slice(0, count);
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2]!) as CatchupPlan;
  // Every request names the log's origin (issue #14), so the cached entries are per origin.
  const origin = `catchup.bench/${plan.id}`;
  const file = join(CACHE, `catchup-${plan.id}-${plan.entries}.bin`);
  let entries: Uint8Array[];
  if (existsSync(file) && statSync(file).mtimeMs > Date.now() - CACHE_MAX_AGE_MS) {
    entries = unpack(readFileSync(file));
    progress(`${entries.length} entries from ${file}\n`);
  } else {
    entries = await generate(plan.entries, origin);
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(`${file}.tmp`, pack(entries));
    renameSync(`${file}.tmp`, file);
  }

  const parts = Math.ceil(entries.length / plan.perPart);
  const fixture = new LogFixture(origin, nodeEd25519, { keepTree: false, timeMs: Date.now() - parts * 10 });
  const kafka = new Kafka({
    ...kafkaClientConfig({ brokers: plan.brokers.split(','), clientId: 'bench-catchup' }),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic: logTopic(plan.id), numPartitions: 1 }]);
  await admin.disconnect();
  const producer = kafka.producer(logProducerConfig);
  await producer.connect();
  const started = Date.now();
  for (let p = 0; p < parts; p++) {
    const part = fixture.sealPart(
      entries.slice(p * plan.perPart, (p + 1) * plan.perPart),
      fixture.timeMs + 10,
    );
    const seal = {
      part: part.value.part.index,
      first: part.value.part.first,
      size: part.value.size,
      note: part.seal,
    };
    const records = [...encodePart(plan.id, seal, part.entries)];
    for (let i = 0; i < records.length;) {
      let bytes = 0;
      let j = i;
      while (j < records.length && (j === i || bytes + records[j]!.value.length < BATCH_BYTES))
        bytes += records[j++]!.value.length;
      await producer.send({
        topic: logTopic(plan.id),
        acks: -1,
        messages: records
          .slice(i, j)
          .map((r) => ({ partition: 0, key: r.key, value: Buffer.from(r.value), headers: { type: r.type } })),
      });
      i = j;
    }
    if (p % 20 === 0)
      progress(
        `publishing parts: ${p + 1}/${parts} (${Math.round(((p + 1) * plan.perPart * 1000) / (Date.now() - started + 1))} entries/s)`,
      );
  }
  process.stderr.write('\n');
  await producer.disconnect();
  process.stdout.write(
    `${JSON.stringify({
      id: plan.id,
      origin,
      verifierKey: fixture.signer.verifierKey.text,
      witnessKey: witnessSigner(`${origin}/witness`, nodeEd25519).verifierKey.text,
      queryUrl: 'http://127.0.0.1:9',
      size: fixture.size,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`\ncatch-up peer failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
