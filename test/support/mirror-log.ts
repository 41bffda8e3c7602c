// Real logs for the query service's mirror tests (test/integration/query-mirrors.spec.ts): built with
// @cryptomesh/log exactly as the log-signer builds its own (entries, every complete subtree of level
// ≥ 1, seals with part digest and chain, signed with the log key), then written into this portal's
// `log_*` tables or a peer's `mirror_*` tables as the log-signer and the replication service store them.
import type { DataSource } from 'typeorm';
import type { LogSealRecord } from '@cryptomesh/persistence';
import { accountUdf } from '@cryptomesh/crypto';
import {
  CompactRange,
  GENESIS_CHAIN,
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  cosign,
  formatSignatureLine,
  makeNoteSigner,
  nextChain,
  parseNote,
  signSeal,
  type Hash,
  type NoteSigner,
  type StoredNode,
} from '@cryptomesh/log';
import { nodeEd25519 } from '@cryptomesh/crypto';
import { randomBytes } from 'node:crypto';
import {
  authoriseRecord,
  buildDeviceProfile,
  buildMasterProfile,
  buildPersonalProfile,
  decodeRecord,
  encodeRecord,
  profilesSetBy,
  type TransactionRecord,
} from '@cryptomesh/mesh';
import { countingRandom, device, fixedKey } from '../../libs/mesh/test/fixtures';

/** A seal the builder signed, in the shape the stores keep. */
export type BuiltSeal = LogSealRecord;

export interface BuiltLog {
  readonly origin: string;
  readonly logKey: NoteSigner;
  readonly entries: readonly Uint8Array[];
  readonly leafHashes: readonly Hash[];
  /** Every complete subtree of level ≥ 1 (the log-signer's `log_tree_nodes`). */
  readonly nodes: readonly StoredNode[];
  readonly seals: readonly BuiltSeal[];
}

export function logKey(origin: string): NoteSigner {
  return makeNoteSigner(origin, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519);
}

export function witnessKey(name: string): NoteSigner {
  return makeNoteSigner(name, KEY_TYPE_COSIGNATURE_V1, randomBytes(32), nodeEd25519);
}

/**
 * A log of `entries` sealed in parts ending at `partEnds` (increasing, the last = entries.length),
 * part n sealed at `timeMs(n)` — as the log-signer's planBatch/planSeal would.
 */
export function buildLog(
  origin: string,
  key: NoteSigner,
  entries: readonly Uint8Array[],
  partEnds: readonly number[],
  timeMs: (part: number) => number,
): BuiltLog {
  const tree = CompactRange.empty();
  const nodes: StoredNode[] = [];
  const leafHashes: Hash[] = [];
  const seals: BuiltSeal[] = [];
  let chain = GENESIS_CHAIN;
  let first = 0;
  partEnds.forEach((end, part) => {
    const own = CompactRange.empty();
    for (const entry of entries.slice(first, end)) {
      const leaf = tree.appendEntry(entry, (node) => {
        if (node.level > 0) nodes.push(node);
      });
      own.appendLeafHash(leaf);
      leafHashes.push(leaf);
    }
    const partDigest = own.root();
    chain = nextChain(chain, partDigest);
    const root = tree.root();
    const seal = {
      origin,
      size: end,
      root,
      part: { index: part, first, digest: partDigest },
      chain,
      timeMs: timeMs(part),
    };
    seals.push({
      part,
      first,
      size: end,
      partDigest,
      chain,
      root,
      timeMs: seal.timeMs,
      note: signSeal(seal, key),
    });
    first = end;
  });
  return { origin, logKey: key, entries, leafHashes, nodes, seals };
}

/** The profile index rows of entry `idx`, as the log-signer derives them (`profilesSetBy`). */
function indexRows(entry: Uint8Array, idx: number): Array<[string, number, string, string]> {
  let record;
  try {
    record = decodeRecord(entry);
  } catch {
    return [];
  }
  return profilesSetBy(record).map((c) => [c.id, idx, record.account, c.state]);
}

/** Writes `log` as this portal's own log (`log_entries`, `log_tree_nodes`, `log_seals`, `log_profile_index`). */
export async function storeOwnLog(db: DataSource, log: BuiltLog): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [idx, entry] of log.entries.entries()) {
      await tx.query('INSERT INTO log_entries (idx, entry, leaf_hash) VALUES ($1, $2, $3)', [
        idx,
        Buffer.from(entry),
        Buffer.from(log.leafHashes[idx]!),
      ]);
      for (const row of indexRows(entry, idx))
        await tx.query(
          'INSERT INTO log_profile_index (profile_id, idx, account, state) VALUES ($1, $2, $3, $4)',
          row,
        );
    }
    for (const n of log.nodes)
      await tx.query('INSERT INTO log_tree_nodes (level, idx, hash) VALUES ($1, $2, $3)', [
        n.level,
        n.index,
        Buffer.from(n.hash),
      ]);
    for (const s of log.seals)
      await tx.query(
        `INSERT INTO log_seals (part, first, size, part_digest, chain, root, time_ms, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          s.part,
          s.first,
          s.size,
          Buffer.from(s.partDigest),
          Buffer.from(s.chain),
          Buffer.from(s.root),
          s.timeMs,
          s.note,
        ],
      );
  });
}

/** Writes `log` as the mirror of `peer` (`mirror_*` tables), as the replication service stores a verified part. */
export async function storeMirror(db: DataSource, peer: string, log: BuiltLog): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [idx, entry] of log.entries.entries()) {
      const rows = indexRows(entry, idx);
      await tx.query(
        'INSERT INTO mirror_entries (peer, idx, entry, leaf_hash, account) VALUES ($1, $2, $3, $4, $5)',
        [peer, idx, Buffer.from(entry), Buffer.from(log.leafHashes[idx]!), rows[0]?.[2] ?? null],
      );
      for (const row of rows)
        await tx.query(
          'INSERT INTO mirror_profile_index (peer, profile_id, idx, account, state) VALUES ($1, $2, $3, $4, $5)',
          [peer, ...row],
        );
    }
    for (const n of log.nodes)
      await tx.query('INSERT INTO mirror_tree_nodes (peer, level, idx, hash) VALUES ($1, $2, $3, $4)', [
        peer,
        n.level,
        n.index,
        Buffer.from(n.hash),
      ]);
    for (const s of log.seals)
      await tx.query(
        `INSERT INTO mirror_seals (peer, part, first, size, part_digest, chain, root, time_ms, note, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'topic')`,
        [
          peer,
          s.part,
          s.first,
          s.size,
          Buffer.from(s.partDigest),
          Buffer.from(s.chain),
          Buffer.from(s.root),
          s.timeMs,
          s.note,
        ],
      );
  });
}

/**
 * Stores `witness`'s cosignature of `subject`'s part as replication does (`cosignatures`): the line
 * over the seal's body; `seal` the body, or the whole note with `over: 'note'`. With `forge`, the
 * line is by the right key name and key ID but over another text, so that it does not verify.
 */
export async function storeCosignature(
  db: DataSource,
  subject: string,
  seal: BuiltSeal,
  witnessId: string,
  signer: NoteSigner,
  options: { over?: 'body' | 'note'; forge?: boolean; sealColumn?: string } = {},
): Promise<string> {
  const body = parseNote(seal.note).text;
  const line = formatSignatureLine(
    cosign(options.forge ? `${body}forged\n` : body, signer, 1_800_000_000 + seal.part),
  );
  await db.query(
    'INSERT INTO cosignatures (subject, part, witness, seal, line, cosigned_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [
      subject,
      seal.part,
      witnessId,
      options.sealColumn ?? (options.over === 'note' ? seal.note : body),
      line,
      1_800_000_000_000,
    ],
  );
  return line;
}

export interface TestAccountRecords {
  readonly address: string;
  readonly account: string;
  readonly create: TransactionRecord;
  readonly masterId: string;
  readonly personalId: string;
  readonly deviceId: string;
  /** A Publish delete of the device profile, signed by the account's admin device. */
  readonly deleteDevice: () => Promise<TransactionRecord>;
}

/** A CreateAccount record with keys of its own (`seed` 1–250, distinct per account). */
export async function accountRecords(
  address: string,
  seed: number,
  portal = 'beta.test/log',
): Promise<TestAccountRecords> {
  const account = accountUdf(address);
  const admin = device(seed + 1);
  const options = { portal, time: 1_800_000_000_000, random: countingRandom(seed * 1000) };
  const master = await buildMasterProfile(
    { administrators: [admin.signature], created: options.time },
    fixedKey('Ed25519', seed),
  );
  const personal = await buildPersonalProfile(
    { master: master.profile.id, sequence: 0, devices: [admin] },
    admin.signature,
  );
  const laptop = await buildDeviceProfile(
    { encryption: admin.encryption, description: 'laptop' },
    admin.signature,
  );
  const create = await authoriseRecord(
    { operation: 'CreateAccount', account, master, personal, devices: [laptop] },
    admin.signature,
    options,
  );
  return {
    address,
    account,
    create,
    masterId: master.profile.id,
    personalId: personal.profile.id,
    deviceId: laptop.profile.id,
    deleteDevice: () =>
      authoriseRecord(
        { operation: 'Publish', account, action: 'delete', id: laptop.profile.id },
        admin.signature,
        options,
      ),
  };
}

export { encodeRecord };
