import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  cosign,
  findCosigners,
  formatSignatureLine,
  openSeal,
  parseNote,
  signSeal,
  type NoteSigner,
} from '@cryptomesh/log';
import { beta, gamma, logKey, ORIGIN, witness } from '../test/note-signers';
import { cosignedCheckpoint, witnessKeysFor } from './cosigned-checkpoint';
import type { StoredCosignature } from './federation-reader';

function seal(size: number): string {
  return signSeal(
    {
      origin: ORIGIN,
      size,
      root: new Uint8Array(32).fill(size),
      part: { index: size, first: 0, digest: new Uint8Array(32).fill(1) },
      chain: new Uint8Array(32).fill(2),
      timeMs: 1_800_000_000_000 + size,
    },
    logKey,
  );
}

/** A stored row as replication writes it: the line over `note`'s body, `seal` the note (or its body). */
function row(
  id: string,
  signer: NoteSigner,
  note: string,
  over: 'note' | 'body' = 'body',
): StoredCosignature {
  const text = parseNote(note).text;
  return {
    witness: id,
    seal: over === 'note' ? note : text,
    line: formatSignatureLine(cosign(text, signer, 1_800_000_000)),
  };
}

describe('cosignedCheckpoint', () => {
  const note = seal(7);

  it('appends each stored line over this seal, in the given order; a client opens it and counts the cosigners', () => {
    const rows = [row('beta', beta, note), row('gamma', gamma, note, 'note')];
    const checkpoint = cosignedCheckpoint(note, rows);
    expect(checkpoint).toBe(`${note}${rows[0]!.line}\n${rows[1]!.line}\n`);
    expect(parseNote(checkpoint).signatures).toHaveLength(3);
    expect(openSeal(checkpoint, logKey.verifierKey, nodeEd25519, ORIGIN).seal.size).toBe(7);
    const report = findCosigners(checkpoint, [beta.verifierKey, gamma.verifierKey], nodeEd25519);
    expect(report.valid.map((c) => c.key.name)).toEqual(['beta.test/witness', 'gamma.test/witness']);
    expect(report.invalid).toEqual([]);
  });

  it('returns the note unchanged with no stored row', () => {
    expect(cosignedCheckpoint(note, [])).toBe(note);
  });

  it('leaves out rows over another seal of the same part (what an equivocation would leave stored)', () => {
    const other = seal(8);
    const checkpoint = cosignedCheckpoint(note, [row('beta', beta, other), row('gamma', gamma, note)]);
    expect(findCosigners(checkpoint, [beta.verifierKey, gamma.verifierKey], nodeEd25519).valid).toHaveLength(
      1,
    );
    expect(parseNote(checkpoint).signatures).toHaveLength(2);
  });

  it.each([
    ['a line with a newline inside', (line: string) => `${line}\n— x AAAAAAAA`],
    ['not a signature line', () => 'beta AAAAAAAA'],
    ['bad base64', () => '— beta.test/witness !!!'],
    ['an empty line', () => ''],
  ])('leaves out %s, so that the result still parses', (_what, broken) => {
    const good = row('gamma', gamma, note);
    const bad = { ...row('beta', beta, note), line: broken(good.line) };
    const checkpoint = cosignedCheckpoint(note, [bad, good]);
    expect(checkpoint).toBe(`${note}${good.line}\n`);
    expect(() => parseNote(checkpoint)).not.toThrow();
  });

  it('does not repeat a line', () => {
    const good = row('beta', beta, note);
    expect(cosignedCheckpoint(note, [good, { ...good, witness: 'beta2' }])).toBe(`${note}${good.line}\n`);
  });

  it('throws note.malformed for a stored note that is not a signed note', () => {
    expect(() => cosignedCheckpoint('no signature\n', [row('beta', beta, note)])).toThrow(
      expect.objectContaining({ code: 'note.malformed' }) as Error,
    );
  });
});

describe('witnessKeysFor', () => {
  const members = [
    { id: 'alpha', witnessKey: witness('alpha.test/witness').verifierKey.text },
    { id: 'beta', witnessKey: beta.verifierKey.text },
    { id: 'delta', witnessKey: null },
    { id: 'epsilon', witnessKey: 'not a key' },
    { id: 'gamma', witnessKey: gamma.verifierKey.text },
  ];

  it("is every member's parsed witness key but the subject's own", () => {
    expect(witnessKeysFor('beta', members).map((k) => k.name)).toEqual([
      'alpha.test/witness',
      'gamma.test/witness',
    ]);
    expect(witnessKeysFor(undefined, members)).toHaveLength(3);
  });
});
