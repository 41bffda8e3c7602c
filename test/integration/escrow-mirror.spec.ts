import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { encryptJwe, fromBase64Url, keyUdf, nodeEd25519, publicKeyOf, toBase64Url } from '@cryptomesh/crypto';
import {
  encodeEscrowMessage,
  escrowStatement,
  kafkaClientConfig,
  logProducerConfig,
  logTopic,
  signEscrow,
  type EscrowMessage,
} from '@cryptomesh/intermesh';
import type { NoteSigner } from '@cryptomesh/log';
import { loadWitnessKey } from '../../apps/replication/src/witness-key';
import { freshHome, meshJson } from '../../apps/cli/test/built-mesh';
import { witnessSigner } from '../../libs/log/testdata/log-fixture';
import { queryDatabase } from '../support/db-snapshot';
import { startTestFederation, type Federation } from '../support/federation';
import { cosignersOf, fetchLog, waitFor, type KnownPortal } from '../support/federation-oracle';
import { post } from '../support/mesh-client';
import { RoguePortal } from '../support/rogue-portal';

/**
 * Issue #19 item 2, escrow that survives its portal, through the BUILT `mesh` binary on a real
 * three-portal federation (plus a rogue member that holds its own witness key): an escrow made at A
 * is replicated, signed by A's witness key, to B's and C's mirrors; with A's services stopped,
 * `mesh escrow recover … --portal B` registers the account at B from B's mirror of A's log and the
 * recovered device reads the account's passwords. Then what a peer or the broker may send: the same
 * key with flipped bytes (an `escrow-conflict` finding, the held row unchanged), a signature that is
 * not the origin's, a JWE whose kid is not its key, a blob over the cap (refused, nothing stored).
 */
const QUORUM = 1;
const ACCOUNT = 'frank@example.com';
const utf8 = new TextEncoder();

interface MirroredRow extends Record<string, unknown> {
  key_udf: string;
  peer: string;
  blob: Buffer;
}

describe('escrow that survives its portal (issue #19 item 2)', () => {
  const homes: string[] = [];
  const home = (label: string) => {
    const dir = freshHome(label);
    homes.push(dir);
    return dir;
  };
  let federation: Federation;
  let rogue: RoguePortal;
  let producer: Producer;
  let A: KnownPortal;
  let B: KnownPortal;
  let C: KnownPortal;
  let alphaWitness: NoteSigner;
  let escrow: { key: string; shares: string[] };

  beforeAll(async () => {
    const brokers = process.env.KAFKA_BROKERS!.split(',');
    rogue = new RoguePortal(`escrow-rogue-${Date.now().toString(36)}`, brokers);
    await rogue.connect();
    federation = await startTestFederation({
      extraPeers: [rogue.peer],
      // One peer cosignature suffices: with A stopped and the rogue never cosigning, B's seals get C's.
      env: { SEAL_INTERVAL_MS: 300, HEARTBEAT_MS: 2_000, LOG_LEVEL: 'warn', COSIGNATURE_QUORUM: QUORUM },
    });
    const portals: KnownPortal[] = federation.portals.map((p) => ({ ...p }));
    [A, B, C] = portals as [KnownPortal, KnownPortal, KnownPortal];
    alphaWitness = loadWitnessKey({ WITNESS_KEY_FILE: join(federation.dir, A.id, 'witness.key') })!;
    // Anyone with write access to A's topic (the broker is untrusted): a plain producer.
    const kafka = new Kafka({
      ...kafkaClientConfig({ brokers, clientId: 'escrow-mirror-spec' }),
      logLevel: logLevel.NOTHING,
    });
    producer = kafka.producer(logProducerConfig);
    await producer.connect();
  }, 240_000);

  afterAll(async () => {
    await producer?.disconnect().catch(() => undefined);
    await rogue?.close().catch(() => undefined);
    await federation?.stop();
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  const mirrored = (portal: KnownPortal, key: string) =>
    queryDatabase<MirroredRow>(
      federation.portal(portal.id).databaseUrl,
      'SELECT key_udf, peer, blob FROM mirror_escrow_blobs WHERE key_udf = $1',
      [key],
    );
  const findings = (portal: KnownPortal, kind: string) =>
    queryDatabase<{ subject: string; code: string; evidence: Record<string, unknown> }>(
      federation.portal(portal.id).databaseUrl,
      'SELECT subject, code, evidence FROM findings WHERE kind = $1',
      [kind],
    );
  /** Publishes an escrow message on `portal`'s log topic, as the broker would deliver anyone's. */
  const publish = async (portal: string, message: EscrowMessage) => {
    const record = encodeEscrowMessage(message);
    await producer.send({
      topic: logTopic(portal),
      acks: -1,
      messages: [
        { partition: 0, key: record.key, value: Buffer.from(record.value), headers: { type: record.type } },
      ],
    });
  };
  /** A well-formed escrow blob (a JWE to a fresh X25519 key) of about `bytes` bytes. */
  const freshBlob = async (bytes = 64) => {
    const secret = crypto.getRandomValues(new Uint8Array(32));
    const pair = {
      algorithm: 'X25519' as const,
      privateKey: secret,
      publicKey: publicKeyOf('X25519', secret),
    };
    const jwe = await encryptJwe(new Uint8Array(bytes), [pair], { contentType: 'application/json' });
    return { key: keyUdf('X25519', pair.publicKey), blob: utf8.encode(JSON.stringify(jwe)) };
  };
  /** A marker blob published after a bad case: once a member holds it, the bad message before it was read. */
  const readPast = async (portal: string, signer: NoteSigner, holders: KnownPortal[]) => {
    const marker = await freshBlob();
    await publish(portal, signEscrow(portal, marker.key, marker.blob, signer));
    for (const holder of holders)
      await waitFor(
        `${holder.id} read past the bad message`,
        async () => (await mirrored(holder, marker.key)).length === 1,
        60_000,
      );
  };

  it("replicates A's escrow to B and C, and recovers it at B through the built CLI while A is stopped", async () => {
    const owner = home('escrow-owner');
    const created = await meshJson<{ fingerprint: string }>(owner, [
      'profile',
      'create',
      '--portal',
      A.gatewayUrl,
      '--account',
      ACCOUNT,
    ]);
    await meshJson(owner, [
      'password',
      'add',
      'bank.example',
      '--username',
      'frank',
      '--password',
      'kept at A',
    ]);
    escrow = await meshJson<{ key: string; shares: string[] }>(owner, [
      'escrow',
      'create',
      '--threshold',
      '2',
      '--shares',
      '3',
    ]);
    await meshJson(owner, [
      'password',
      'add',
      'mail.example',
      '--username',
      'f',
      '--password',
      'after escrow',
    ]);
    const atA = await post(A.gatewayUrl, 'EscrowGet', { Key: escrow.key });
    expect(atA.status).toBe(200);
    const blob = fromBase64Url(String(atA.fields['Blob']))!;

    // B's and C's mirrors hold the very blob, from A; EscrowGet answers it there.
    for (const holder of [B, C]) {
      await waitFor(
        `${holder.id} holds the escrow blob`,
        async () => (await mirrored(holder, escrow.key)).length === 1,
        60_000,
      );
      const [row] = await mirrored(holder, escrow.key);
      expect(row).toMatchObject({ peer: A.id });
      expect(Buffer.compare(row!.blob, Buffer.from(blob))).toBe(0);
    }
    // A's log as the owner last saw it, mirrored and cosigned at B, before A goes.
    const own = await fetchLog(A.queryUrl, 'self', A);
    await waitFor(
      `B holds A's log up to ${own!.seal.size}, cosigned by ${QUORUM} peer`,
      async () => {
        const mirror = await fetchLog(B.queryUrl, A.id, A);
        return (
          mirror !== undefined &&
          mirror.seal.size >= own!.seal.size &&
          cosignersOf(mirror.checkpoint, [B, C]).length >= QUORUM
        );
      },
      60_000,
    );
    await federation.stopPortal(A.id);
    const fromB = await post(B.gatewayUrl, 'EscrowGet', { Key: escrow.key });
    expect(fromB.status).toBe(200);
    expect(fromB.fields['Blob']).toBe(toBase64Url(blob));

    // Without the feature B knows neither the blob nor the account: recovery fails there.
    const heir = home('escrow-heir');
    const recovered = await meshJson<{ fingerprint: string; account: string }>(heir, [
      'escrow',
      'recover',
      escrow.shares[0]!,
      escrow.shares[2]!,
      '--portal',
      B.gatewayUrl,
      '--account',
      ACCOUNT,
    ]);
    expect(recovered).toMatchObject({ fingerprint: created.fingerprint, account: ACCOUNT });
    // The recovered device's home is B; it reads the passwords stored at A, before and after the escrow.
    expect(await meshJson(heir, ['password', 'get', 'bank.example'])).toMatchObject({
      password: 'kept at A',
    });
    expect(await meshJson(heir, ['password', 'get', 'mail.example'])).toMatchObject({
      password: 'after escrow',
    });
    const shown = await meshJson<{ fingerprint: string; verified: { via: string } }>(heir, [
      'profile',
      'show',
      '--verify',
    ]);
    expect(shown.fingerprint).toBe(created.fingerprint);
    expect(shown.verified.via).toBe(B.id);
    // And it writes there.
    await meshJson(heir, ['password', 'add', 'new.example', '--username', 'f', '--password', 'at B']);
    expect(await meshJson(heir, ['password', 'get', 'new.example'])).toMatchObject({ password: 'at B' });
  }, 480_000);

  it('refuses the same key with flipped bytes (escrow-conflict finding, the held row unchanged)', async () => {
    const [held] = await mirrored(B, escrow.key);
    const flipped = Buffer.from(held!.blob);
    const jwe = JSON.parse(flipped.toString('utf8')) as { ciphertext: string };
    const last = jwe.ciphertext.at(-2)!;
    jwe.ciphertext = `${jwe.ciphertext.slice(0, -2)}${last === 'A' ? 'B' : 'A'}${jwe.ciphertext.at(-1)!}`;
    const tampered = utf8.encode(JSON.stringify(jwe));

    // 1. A member republishes it on its own topic, signed by its own witness key.
    const rogueWitness = witnessSigner(`${rogue.origin}/witness`, nodeEd25519);
    await publish(rogue.id, signEscrow(rogue.id, escrow.key, tampered, rogueWitness));
    // 2. Whoever holds A's witness key publishes it on A's topic.
    await publish(A.id, signEscrow(A.id, escrow.key, tampered, alphaWitness));

    for (const holder of [B, C]) {
      await waitFor(
        `${holder.id} records both escrow conflicts`,
        async () => (await findings(holder, 'escrow-conflict')).length === 2,
        60_000,
      );
      const found = await findings(holder, 'escrow-conflict');
      expect(found.map((f) => f.subject).sort()).toEqual([A.id, rogue.id].sort());
      for (const f of found) {
        expect(f.code).toBe('escrow.conflict');
        expect(f.evidence).toMatchObject({ key: escrow.key, held: { portal: A.id } });
      }
      const [row] = await mirrored(holder, escrow.key);
      expect(row).toMatchObject({ peer: A.id });
      expect(Buffer.compare(row!.blob, held!.blob)).toBe(0);
    }
    // The flipped copy is what the share holder would have been served: it does not open.
    expect(Buffer.compare(Buffer.from(tampered), held!.blob)).not.toBe(0);
  }, 120_000);

  it("refuses a signature that is not the origin's and a JWE whose kid is not its key: nothing stored", async () => {
    // Signed by another member's witness key, on A's topic in A's name.
    const stranger = await freshBlob();
    const byRogue = signEscrow(
      A.id,
      stranger.key,
      stranger.blob,
      witnessSigner(`${rogue.origin}/witness`, nodeEd25519),
    );
    await publish(A.id, byRogue);
    // The broker flipped bytes of a message A signed.
    const broken = await freshBlob();
    const signed = signEscrow(A.id, broken.key, broken.blob, alphaWitness);
    const changed = broken.blob.slice();
    changed[changed.length - 3] = changed[changed.length - 3] === 0x41 ? 0x42 : 0x41;
    await publish(A.id, { ...signed, blob: changed });
    // Signed by A, but the JWE's single recipient is another key than the one it is filed under.
    const other = await freshBlob();
    const misfiled = { portal: A.id, key: other.key, blob: stranger.blob };
    await publish(A.id, {
      ...misfiled,
      signature: alphaWitness.sign(escrowStatement(A.id, other.key, stranger.blob)),
    });
    await readPast(A.id, alphaWitness, [B, C]);
    for (const holder of [B, C])
      for (const key of [stranger.key, broken.key, other.key])
        expect(await mirrored(holder, key)).toEqual([]);
    const atB = await post(B.gatewayUrl, 'EscrowGet', { Key: other.key });
    expect(atB.status).toBe(404);
  }, 120_000);

  it('refuses a blob over MIRROR_ESCROW_MAX_BYTES: nothing stored', async () => {
    const large = await freshBlob(40 * 1024);
    expect(large.blob.length).toBeGreaterThan(32 * 1024);
    await publish(A.id, signEscrow(A.id, large.key, large.blob, alphaWitness));
    await readPast(A.id, alphaWitness, [B, C]);
    for (const holder of [B, C]) expect(await mirrored(holder, large.key)).toEqual([]);
  }, 120_000);
});
