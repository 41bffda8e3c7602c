import { randomBytes } from 'node:crypto';
import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  KEY_TYPE_ED25519,
  MemoryHashStore,
  MerkleTree,
  encodeEntry,
  isKeyTransitionEntry,
  makeNoteSigner,
  parseNote,
  toBase64,
  verifyLog,
  type Hash,
  type NodeId,
  type PartInput,
} from '@cryptomesh/log';
import { LogHead, type SealSigning } from './log-head';
import type { SealRecord, SealStore, SequencedLog } from './signer-store';

function signing(name = 'head.test/log'): SealSigning {
  return {
    logKey: makeNoteSigner(name, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519),
    origin: name,
    ed25519: nodeEd25519,
  };
}

/** What the database would hold: entries with leaf hashes, stored nodes, seals (a plain in-memory port). */
class MemoryLog implements SequencedLog, Pick<SealStore, 'lastSeal'> {
  readonly stored: Uint8Array[] = [];
  readonly leaves: Hash[] = [];
  readonly nodes = new MemoryHashStore();
  readonly seals: SealRecord[] = [];

  apply(head: LogHead, entries: Uint8Array[]): LogHead {
    const { batch, next } = head.planBatch(entries);
    expect(batch.first).toBe(this.stored.length);
    batch.leafHashes.forEach((leaf, i) => {
      this.stored.push(entries[i]!);
      this.leaves.push(leaf);
      this.nodes.writeNode(0, batch.first + i, leaf);
    });
    for (const node of batch.nodes) this.nodes.writeNode(node.level, node.index, node.hash);
    return next;
  }

  seal(head: LogHead, nowMs: number, s: SealSigning): LogHead {
    const { record, transition, next } = head.planSeal(nowMs, s);
    if (transition !== undefined) {
      // The store writes the transition as the part's last entry, in the seal's transaction.
      expect(this.stored.length).toBe(record.size - 1);
      this.stored.push(transition.entry);
      this.leaves.push(transition.leafHash);
      this.nodes.writeNode(0, record.size - 1, transition.leafHash);
      for (const node of transition.nodes) this.nodes.writeNode(node.level, node.index, node.hash);
    }
    this.seals.push(record);
    return next;
  }

  async entries(begin: number, end: number): Promise<Uint8Array[]> {
    return Promise.resolve(this.stored.slice(begin, end));
  }

  async lastSeal(): Promise<SealRecord | undefined> {
    return Promise.resolve(this.seals.at(-1));
  }
  async sequencedSize(): Promise<number> {
    return Promise.resolve(this.stored.length);
  }
  async leafHashes(begin: number, end: number): Promise<Hash[]> {
    return Promise.resolve(this.leaves.slice(begin, end));
  }
  readNodes(ids: readonly NodeId[]): Hash[] {
    return this.nodes.readNodes(ids);
  }

  parts(): PartInput[] {
    return this.seals.map((s) => ({ entries: this.stored.slice(s.first, s.size), seal: s.note }));
  }
}

const entry = (n: number): Uint8Array => encodeEntry({ n });

describe('LogHead', () => {
  it('seals parts of every shape — empty, odd starts, one entry, 2^k — into a log that verifies', async () => {
    const s = signing();
    const log = new MemoryLog();
    const reference = new MerkleTree();
    let head = LogHead.empty();
    let n = 0;
    let time = 1_000;
    for (const sizes of [[], [1], [2], [3, 2], [], [8], [1, 1, 1], [16], [5]]) {
      for (const size of sizes) {
        const batch = Array.from({ length: size }, () => entry(n++));
        head = log.apply(head, batch);
        batch.forEach((e) => reference.append(e));
      }
      head = log.seal(head, (time += 10), s);
      const seal = log.seals.at(-1)!;
      // Independent oracle: the in-memory reference tree of @cryptomesh/log.
      expect(toBase64(seal.partDigest)).toBe(toBase64(reference.rangeRoot(seal.first, seal.size)));
      expect(toBase64(seal.root)).toBe(toBase64(reference.root()));
    }
    const verdict = await verifyLog(log.parts(), { logKey: s.logKey.verifierKey, ed25519: nodeEd25519 });
    expect(verdict).toMatchObject({ ok: true, parts: 9 });
    expect(log.seals.map((r) => r.part)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('never dates a seal before the previous one, whatever the wall clock says', () => {
    const s = signing();
    const log = new MemoryLog();
    log.seal(log.seal(LogHead.empty(), 5_000, s), 4_000, s);
    expect(log.seals.map((r) => r.timeMs)).toEqual([5_000, 5_000]);
  });

  it('recovers from the stored state exactly: the next seal is the one the running head would sign', async () => {
    const s = signing();
    const log = new MemoryLog();
    let head = LogHead.empty();
    head = log.apply(head, [entry(0), entry(1), entry(2)]);
    head = log.seal(head, 10, s);
    // An open part starting at an odd index, with entries sequenced but not sealed (a crash here).
    head = log.apply(head, [entry(3), entry(4), entry(5), entry(6)]);
    const recovered = await LogHead.recover(log, s);
    expect(recovered.size).toBe(7);
    expect(recovered.sealedSize).toBe(3);
    expect(recovered.openEntries).toBe(4);
    expect(recovered.planSeal(20, s).record).toEqual(head.planSeal(20, s).record);
  });

  it('refuses a database whose last seal another key signed (signer.key-mismatch)', async () => {
    const log = new MemoryLog();
    log.seal(log.apply(LogHead.empty(), [entry(0)]), 10, signing());
    await expect(LogHead.recover(log, signing())).rejects.toMatchObject({ code: 'signer.key-mismatch' });
    await expect(LogHead.recover(log, signing('other.test/log'))).rejects.toMatchObject({
      code: 'signer.key-mismatch',
    });
  });

  it('refuses a stored tree that does not lead to the last seal (signer.state)', async () => {
    const s = signing();
    const log = new MemoryLog();
    log.seal(log.apply(LogHead.empty(), [entry(0), entry(1)]), 10, s);
    log.leaves.length = 1;
    log.stored.length = 1;
    await expect(LogHead.recover(log, s)).rejects.toMatchObject({ code: 'signer.state' });

    const tampered = new MemoryLog();
    tampered.seal(tampered.apply(LogHead.empty(), [entry(0), entry(1)]), 10, s);
    const other = new MemoryLog();
    other.apply(LogHead.empty(), [entry(0), entry(9)]);
    (tampered as { nodes: MemoryHashStore }).nodes = other.nodes;
    await expect(LogHead.recover(tampered, s)).rejects.toMatchObject({ code: 'signer.state' });
  });

  it('refuses an entry that does not decode: no index for it, the next entry closes up the gap', () => {
    const head = LogHead.empty();
    const bad = [new TextEncoder().encode('{"b":1, "a":2}'), new TextEncoder().encode('[1]')];
    const planned = head.planBatch([entry(0), bad[0]!, entry(1), bad[1]!]);
    expect(planned.refused).toEqual([
      { position: 1, reason: expect.stringMatching(/^entry\.not-canonical: /) as string },
      { position: 3, reason: expect.stringMatching(/^entry\.malformed: /) as string },
    ]);
    // Exactly the log of the good entries alone.
    const good = LogHead.empty().planBatch([entry(0), entry(1)]);
    expect(good.refused).toEqual([]);
    expect(planned.batch).toEqual(good.batch);
    expect(planned.next.size).toBe(2);
    expect(head.size).toBe(0);
    // Nothing but refusals: nothing sequenced.
    const none = head.planBatch(bad);
    expect(none.refused.map((r) => r.position)).toEqual([0, 1]);
    expect(none.batch.leafHashes).toEqual([]);
    expect(none.next.size).toBe(0);
  });

  it('gives no index to an entry the record re-check refused, with its reason, in position order', () => {
    const planned = LogHead.empty().planBatch(
      [entry(0), entry(1), new TextEncoder().encode('[1]'), entry(2)],
      new Map([[1, 'request.replayed: nonce seen']]),
    );
    expect(planned.refused).toEqual([
      { position: 1, reason: 'request.replayed: nonce seen' },
      { position: 2, reason: expect.stringMatching(/^entry\.malformed: /) as string },
    ]);
    expect(planned.batch).toEqual(LogHead.empty().planBatch([entry(0), entry(2)]).batch);
  });

  describe('key rotation (LOG_KEY_NEXT)', () => {
    const rotating = (): SealSigning => {
      const s = signing();
      return { ...s, nextKey: makeNoteSigner(s.origin, KEY_TYPE_ED25519, randomBytes(32), nodeEd25519) };
    };

    it('closes the next part with a transition sealed by the old key, then seals with the new key only', async () => {
      const s = rotating();
      const log = new MemoryLog();
      let head = log.seal(log.apply(LogHead.empty(), [entry(0), entry(1)]), 10, { ...s, nextKey: undefined });
      head = log.seal(log.apply(head, [entry(2)]), 20, s);
      expect(log.stored).toHaveLength(4);
      expect(isKeyTransitionEntry(log.stored[3]!)).toBe(true);
      head = log.seal(log.apply(head, [entry(3)]), 30, s);
      log.seal(head, 40, s);
      const verdict = await verifyLog(log.parts(), { logKey: s.logKey.verifierKey, ed25519: nodeEd25519 });
      expect(verdict).toMatchObject({ ok: true, parts: 4 });
      expect(verdict.state?.keys?.current).toBe(s.nextKey!.verifierKey.text);
      expect(parseNote(log.seals[1]!.note).signatures[0]!.keyId).toBe(s.logKey.verifierKey.keyId);
      expect(parseNote(log.seals[2]!.note).signatures[0]!.keyId).toBe(s.nextKey!.verifierKey.keyId);
    });

    it('a restarted signer reads the current key from the log, whichever way the operator configured it', async () => {
      const s = rotating();
      const log = new MemoryLog();
      const head = log.seal(log.apply(LogHead.empty(), [entry(0)]), 10, s);
      const next = s.nextKey!;
      // Right after the transition part, and after a later part sealed by the new key.
      for (const stage of [0, 1]) {
        if (stage === 1) log.seal(log.apply(await LogHead.recover(log, s), [entry(1)]), 20, s);
        for (const config of [s, { ...s, logKey: next, nextKey: undefined }]) {
          const recovered = await LogHead.recover(log, config);
          expect(recovered.signingKeys(config)).toEqual({ current: next });
        }
        // Only the old key: refused, naming the key the log moved to.
        await expect(LogHead.recover(log, { ...s, nextKey: undefined })).rejects.toMatchObject({
          code: 'signer.key-mismatch',
          message: expect.stringContaining(stage === 0 ? next.verifierKey.text : 'LOG_KEY') as string,
        });
      }
      expect(head.size).toBe(2);
    });

    it('never sequences a key transition from the queue', () => {
      const s = rotating();
      const log = new MemoryLog();
      log.seal(log.apply(LogHead.empty(), [entry(0)]), 10, s);
      const planned = LogHead.empty().planBatch([log.stored[1]!, entry(5)]);
      expect(planned.refused).toEqual([
        { position: 0, reason: expect.stringMatching(/^verify\.transition: /) as string },
      ]);
    });
  });
});
