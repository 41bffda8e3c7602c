import { nodeEd25519 } from '@cryptomesh/crypto';
import { cosign, formatSignatureLine, parseNote, signSeal, type NoteSigner } from '@cryptomesh/log';
import { beta, gamma, logKey, ORIGIN, witness } from '../test/note-signers';
import { cosignedCheckpoint } from './cosigned-checkpoint';
import type { StoredCosignature } from './federation-reader';
import type { CosignedSeal, LogHead } from './log-heads';
import type { PublishedLog, PublishedSeal } from './published-log';
import { ServedLog, type SealCosignatures } from './served-log';

/** A key with a name no cosigner uses: its rows never verify. */
const stranger = witness('beta.test/witness');

const PARTS = 2_000;
/** Part p holds entries [10 p, 10 p + 10). */
const sealOf = (part: number): PublishedSeal => {
  const size = 10 * (part + 1);
  const note = signSeal(
    {
      origin: ORIGIN,
      size,
      root: new Uint8Array(32).fill(part % 251),
      part: { index: part, first: 10 * part, digest: new Uint8Array(32).fill(1) },
      chain: new Uint8Array(32).fill(2),
      timeMs: 1_800_000_000_000 + part,
    },
    logKey,
  );
  return { part, first: 10 * part, size, timeMs: 1_800_000_000_000 + part, note };
};
const seals = Array.from({ length: PARTS }, (_, p) => sealOf(p));
const line = (signer: NoteSigner, note: string) =>
  formatSignatureLine(cosign(parseNote(note).text, signer, 1_800_000_000));

/**
 * A log of PARTS parts with two stored cosignature rows on each: valid ones (beta and gamma) on
 * the parts in `valid`, rows that do not verify (a stranger's key under the members' names) on
 * every other part — a quorum of 2 is then a candidate on every part and met only on `valid`.
 * Records every range the search asks the database for.
 */
function setup(valid: ReadonlySet<number>) {
  const asked: Array<{ from: number; before: number | undefined }> = [];
  const rows = (part: number): StoredCosignature[] => {
    const note = seals[part]!.note;
    const text = parseNote(note).text;
    return valid.has(part)
      ? [
          { witness: 'beta', seal: text, line: line(beta, note) },
          { witness: 'gamma', seal: text, line: line(gamma, note) },
        ]
      : [
          { witness: 'beta', seal: text, line: line(stranger, note) },
          { witness: 'gamma', seal: text, line: line(stranger, note) },
        ];
  };
  const cosignatures: SealCosignatures = {
    of: (part) => Promise.resolve(rows(part)),
    parts: (from, witnesses, limit, before) => {
      asked.push({ from, before });
      const out: number[] = [];
      for (let p = (before ?? PARTS) - 1; p >= from && out.length < limit; p--)
        if (witnesses <= 2) out.push(p);
      return Promise.resolve(out);
    },
    witnessKeys: () => Promise.resolve([beta.verifierKey, gamma.verifierKey]),
  };
  const log = {
    firstSealCovering: (index: number) => Promise.resolve(seals[Math.floor(index / 10)]),
    sealOfPart: (part: number) => Promise.resolve(seals[part]),
  } as unknown as PublishedLog;
  const served = (head?: LogHead) =>
    new ServedLog('self', log, cosignatures, nodeEd25519, head, undefined, 256);
  const cosigned = (part: number): CosignedSeal => ({
    seal: seals[part]!,
    checkpoint: cosignedCheckpoint(seals[part]!.note, rows(part)),
  });
  /** The lowest part any statement of the search could read. */
  const lowest = () => Math.min(...asked.map((a) => a.from));
  return { served, cosigned, asked, lowest };
}

describe('ServedLog.provingSeal without a snapshot of the request\'s seal (query.md "Log heads")', () => {
  const latest = seals[PARTS - 1]!;

  it('finds the newest part that meets the quorum within the window, and proves against it', async () => {
    const { served, lowest } = setup(new Set([5, PARTS - 100]));
    const proving = await served().provingSeal(3, 2, latest);
    expect(proving.seal.part).toBe(PARTS - 100);
    expect(lowest()).toBe(PARTS - 256);
  });

  it('with no quorum anywhere, searches one window below the seal, not the whole log, and serves the seal', async () => {
    const { served, asked, lowest } = setup(new Set());
    const proving = await served().provingSeal(3, 2, latest);
    expect(proving.seal.part).toBe(PARTS - 1);
    expect(lowest()).toBe(PARTS - 256);
    // every part of the window was a candidate that failed: 256 parts in pages of 16
    expect(asked.length).toBe(256 / 16);
  });

  it("a quorum beyond the window is not searched for: the snapshot's cosigned seal answers when it holds the entry", async () => {
    const { served, cosigned, lowest } = setup(new Set([40, 1_000]));
    // The snapshot is of an older part (the request's seal came after it) and knows part 1,000.
    const head: LogHead = { latest: cosigned(1_500), cosigned: cosigned(1_000) };
    const proving = await served(head).provingSeal(3, 2, latest);
    expect(proving.seal.part).toBe(1_000);
    expect(proving.checkpoint).toBe(cosigned(1_000).checkpoint);
    expect(lowest()).toBe(PARTS - 256);
  });

  it("never searches at or below the snapshot's cosigned seal, and still prefers a newer one found above it", async () => {
    const { served, cosigned, lowest } = setup(new Set([PARTS - 50, PARTS - 20]));
    const head: LogHead = { latest: cosigned(PARTS - 10), cosigned: cosigned(PARTS - 50) };
    const proving = await served(head).provingSeal(3, 2, latest);
    expect(proving.seal.part).toBe(PARTS - 20);
    expect(lowest()).toBe(PARTS - 49);
  });

  it("a snapshot's cosigned seal newer than the request's seal, or without the entry, is not used", async () => {
    const { served, cosigned } = setup(new Set([PARTS - 400]));
    const older = seals[PARTS - 300]!;
    const newer: LogHead = { latest: cosigned(PARTS - 1), cosigned: cosigned(PARTS - 1) };
    // the window below the request's seal finds part PARTS − 400, not the snapshot's newer one
    expect((await served(newer).provingSeal(3, 2, older)).seal.part).toBe(PARTS - 400);
    const without: LogHead = { latest: cosigned(PARTS - 400), cosigned: cosigned(PARTS - 400) };
    // entry 10 × (PARTS − 10) is not in part PARTS − 400's tree
    expect((await served(without).provingSeal(10 * (PARTS - 10), 2, latest)).seal.part).toBe(PARTS - 1);
  });

  it('quorum 0 serves the seal itself, asking nothing', async () => {
    const { served, asked } = setup(new Set([PARTS - 1]));
    expect((await served().provingSeal(3, 0, latest)).seal.part).toBe(PARTS - 1);
    expect(asked).toEqual([]);
  });
});
