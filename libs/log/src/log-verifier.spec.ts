import fc from 'fast-check';
import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogFixture, logSigner, sampleEntry, type FixturePart } from '../testdata/log-fixture';
import { fromBase64, readU32be, toBase64, u32be, utf8 } from './bytes';
import { LogVerifier, type LogVerifierOptions } from './log-verifier';
import { signSeal, type Seal } from './seal';
import { decodeNote, formatNote, parseNote } from './signed-note';
import { verifyLog } from './verify-log';
import { withCode as code } from '../testdata/with-code';

const ORIGIN = 'portal-a.example/log';

/** A log of `sizes.length` parts with the given entry counts (0 = a heartbeat part). */
function logOf(sizes: readonly number[]): { fixture: LogFixture; parts: FixturePart[] } {
  const fixture = new LogFixture(ORIGIN, nodeEd25519);
  let next = 0;
  const parts = sizes.map((n) => fixture.sealPart(Array.from({ length: n }, () => sampleEntry(next++))));
  return { fixture, parts };
}

function options(fixture: LogFixture, extra: Partial<LogVerifierOptions> = {}): LogVerifierOptions {
  return { logKey: fixture.signer.verifierKey, ed25519: nodeEd25519, ...extra };
}

/** The same seal with some values changed, validly re-signed by the portal's key. */
function resign(fixture: LogFixture, part: FixturePart, change: (s: Seal) => Partial<Seal>): string {
  return signSeal({ ...part.value, ...change(part.value) }, fixture.signer);
}

describe('LogVerifier', () => {
  it('accepts a valid log, heartbeat parts included, through both Ed25519 implementations', async () => {
    const { fixture, parts } = logOf([3, 0, 1, 8, 0, 0, 17, 5]);
    for (const ed25519 of [nodeEd25519, nobleEd25519]) {
      const verdict = await verifyLog(parts, options(fixture, { ed25519 }));
      expect(verdict).toMatchObject({ ok: true, parts: 8 });
      expect(verdict.head?.size).toBe(34);
      expect(verdict.state?.frontier).toHaveLength(2); // 34 = 32 + 2
    }
  });

  it('reports each violation with its code and what was expected and seen', async () => {
    const { fixture, parts } = logOf([3, 2, 4]);
    const [p0, p1, p2] = parts as [FixturePart, FixturePart, FixturePart];
    const other = logOf([3, 3]);
    const cases: [string, { entries: Uint8Array[]; seal: string }[], string, string?, string?][] = [
      ['a skipped part', [p0, p2], 'verify.gap', '1', '2'],
      [
        'a part starting elsewhere',
        [p0, { ...p1, seal: resign(fixture, p1, () => ({ part: { ...p1.value.part, first: 2 } })) }],
        'verify.gap',
        '3',
        '2',
      ],
      ['a missing entry', [p0, { ...p1, entries: p1.entries.slice(1) }], 'verify.size', '4', '5'],
      ['an extra entry', [p0, { ...p1, entries: [...p1.entries, sampleEntry(99)] }], 'verify.size', '6', '5'],
      ['swapped entries', [p0, { ...p1, entries: [p1.entries[1]!, p1.entries[0]!] }], 'verify.part-digest'],
      ['a replaced entry', [p0, { ...p1, entries: [p1.entries[0]!, sampleEntry(77)] }], 'verify.part-digest'],
      [
        'a root from another history',
        [p0, { ...p1, seal: resign(fixture, p1, () => ({ root: other.parts[1]!.value.root })) }],
        'verify.inconsistent',
      ],
      [
        'a broken chain',
        [p0, { ...p1, seal: resign(fixture, p1, () => ({ chain: p0.value.chain })) }],
        'verify.chain',
      ],
      [
        'a time going backwards',
        [p0, { ...p1, seal: resign(fixture, p1, () => ({ timeMs: p0.value.timeMs - 1 })) }],
        'verify.time',
      ],
      [
        'a seal by another key',
        [p0, { ...p1, seal: signSeal(p1.value, logSigner(ORIGIN, nodeEd25519, 'other')) }],
        'note.unknown-key',
      ],
      [
        'a seal for another origin',
        [p0, { ...p1, seal: resign(fixture, p1, () => ({ origin: 'portal-b.example/log' })) }],
        'checkpoint.origin',
      ],
      [
        'a non-canonical entry',
        [p0, { ...p1, entries: [p1.entries[0]!, utf8('{"b":1, "a":2}')] }],
        'entry.not-canonical',
      ],
    ];
    for (const [why, input, expectedCode, expected, seen] of cases) {
      const verdict = await verifyLog(input, options(fixture));
      expect({ why, ok: verdict.ok }).toEqual({ why, ok: false });
      if (verdict.ok) continue;
      expect({ why, code: verdict.violation.code }).toEqual({ why, code: expectedCode });
      expect(verdict.violation.part).toBe(why === 'a skipped part' ? 2 : 1);
      expect(verdict.parts).toBe(1);
      expect(verdict.head?.part.index).toBe(0);
      if (expected !== undefined) expect(verdict.violation).toMatchObject({ expected, seen });
      if (expectedCode.startsWith('verify.')) {
        expect(verdict.violation.expected).toBeDefined();
        expect(verdict.violation.seen).toBeDefined();
      }
    }
  });

  it('names the entry that broke the encoding', async () => {
    const { fixture, parts } = logOf([3, 2]);
    const verdict = await verifyLog(
      [parts[0]!, { ...parts[1]!, entries: [parts[1]!.entries[0]!, Uint8Array.of(0xff)] }],
      options(fixture),
    );
    expect(verdict.ok ? undefined : verdict.violation).toMatchObject({
      code: 'entry.malformed',
      part: 1,
      entry: 4,
    });
  });

  it('rejects a seal dated too far in the future when given a clock', async () => {
    const { fixture, parts } = logOf([1]);
    const now = () => parts[0]!.value.timeMs - 600_000;
    const verdict = await verifyLog(parts, options(fixture, { now }));
    expect(verdict.ok ? undefined : verdict.violation.code).toBe('verify.time');
    expect((await verifyLog(parts, options(fixture, { now: () => parts[0]!.value.timeMs }))).ok).toBe(true);
  });

  it('runs the per-entry hook on every entry with its index, and turns a throw into verify.entry-rejected', async () => {
    const { fixture, parts } = logOf([2, 0, 3]);
    const seen: [number, number][] = [];
    const ok = await verifyLog(
      parts,
      options(fixture, { onEntry: (_e, ctx) => void seen.push([ctx.index, ctx.part]) }),
    );
    expect(ok.ok).toBe(true);
    expect(seen).toEqual([
      [0, 0],
      [1, 0],
      [2, 2],
      [3, 2],
      [4, 2],
    ]);

    const reject = (_e: Uint8Array, { index }: { index: number }) => {
      if (index === 3) throw new Error('profile rule 6.4 violated');
    };
    const verdict = await verifyLog(parts, options(fixture, { onEntry: reject }));
    expect(verdict.ok ? undefined : verdict.violation).toMatchObject({
      code: 'verify.entry-rejected',
      part: 2,
      entry: 3,
    });
    expect(verdict.ok ? '' : verdict.violation.message).toContain('profile rule 6.4 violated');

    const asyncReject = async (_e: Uint8Array, { index }: { index: number }) => {
      await Promise.resolve();
      if (index === 4) throw new Error('async no');
    };
    const asyncVerdict = await verifyLog(parts, options(fixture, { onEntry: asyncReject }));
    expect(asyncVerdict.ok ? undefined : asyncVerdict.violation).toMatchObject({
      code: 'verify.entry-rejected',
      entry: 4,
    });
  });

  it('keeps a violation until the part is aborted, then accepts the part fetched again', async () => {
    const { fixture, parts } = logOf([2, 3]);
    const verifier = new LogVerifier(options(fixture));
    expect((await verifier.verifyPart(parts[0]!)).ok).toBe(true);
    const bad = await verifier.verifyPart({ ...parts[1]!, entries: parts[1]!.entries.slice(0, 2) });
    expect(bad.ok ? undefined : bad.violation.code).toBe('verify.size');
    expect(verifier.closePart(parts[1]!.seal)).toMatchObject({ ok: false, violation: code('verify.size') });
    expect(verifier.lastSeal?.part.index).toBe(0);
    verifier.abortPart();
    expect(await verifier.verifyPart(parts[1]!)).toMatchObject({ ok: true, entries: 3 });
  });

  it('resumes from saved state (JSON) in constant memory, and refuses a state that does not fit', async () => {
    const { fixture, parts } = logOf([5, 9, 1, 0, 12, 3]);
    const first = await verifyLog(parts.slice(0, 3), options(fixture));
    const saved = JSON.parse(JSON.stringify(first.state)) as typeof first.state;
    expect(saved!.frontier.length).toBeLessThanOrEqual(53);
    const rest = await verifyLog(parts.slice(3), options(fixture, { from: saved! }));
    expect(rest).toMatchObject({ ok: true, parts: 3 });
    expect(rest.head?.size).toBe(30);

    const frontier = [...saved!.frontier];
    frontier[0] = toBase64(new Uint8Array(32));
    expect(() => new LogVerifier(options(fixture, { from: { ...saved!, frontier } }))).toThrow(
      code('verify.state'),
    );
    expect(
      () => new LogVerifier(options(fixture, { from: { ...saved!, frontier: frontier.slice(1) } })),
    ).toThrow(code('verify.state'));
  });

  it('fails with a relevant code on any one flipped bit in an entry, a seal or its signature (property)', async () => {
    const { fixture, parts } = logOf([4, 6, 3]);
    const flip = (bytes: Uint8Array, bit: number): Uint8Array => {
      const out = bytes.slice();
      out[Math.floor(bit / 8) % out.length]! ^= 1 << (bit % 8);
      return out;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('entry', 'seal', 'signature'),
        fc.nat(2),
        fc.nat(),
        fc.nat(),
        async (where, p, e, bit) => {
          const input = parts.map((part) => ({ entries: part.entries, seal: part.seal }));
          const target = input[p]!;
          let allowed: string[];
          if (where === 'entry') {
            const i = e % target.entries.length;
            target.entries = target.entries.map((x, j) => (j === i ? flip(x, bit) : x));
            allowed = ['verify.part-digest', 'entry.malformed', 'entry.not-canonical'];
          } else if (where === 'seal') {
            // Any bit of the note as bytes on the wire, then strict UTF-8 decoding.
            let text: string;
            try {
              text = decodeNote(flip(utf8(target.seal), bit));
            } catch (error) {
              expect(error).toEqual(code('note.malformed'));
              return;
            }
            target.seal = text;
            allowed = ['note.malformed', 'note.bad-signature', 'note.unknown-key'];
          } else {
            const note = parseNote(target.seal);
            const sig = note.signatures[0]!;
            const raw = flip(new Uint8Array([...u32be(sig.keyId), ...sig.signature]), bit);
            target.seal = formatNote({
              text: note.text,
              signatures: [{ name: sig.name, keyId: readU32be(raw), signature: raw.slice(4) }],
            });
            allowed = ['note.bad-signature', 'note.unknown-key'];
          }
          const verdict = await verifyLog(input, options(fixture));
          expect(verdict.ok).toBe(false);
          if (!verdict.ok) expect(allowed).toContain(verdict.violation.code);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never advances past a part it could not verify', async () => {
    const { fixture, parts } = logOf([2, 2]);
    const sig = fromBase64(parts[1]!.seal.split(' ').pop()!.trim());
    expect(sig.length).toBe(68);
    const verifier = new LogVerifier(options(fixture));
    await verifier.verifyPart(parts[0]!);
    await verifier.verifyPart({ ...parts[1]!, seal: parts[1]!.seal.replace('time', 'tyme') });
    expect(verifier.lastSeal?.size).toBe(2);
    expect(verifier.state()?.note).toBe(parts[0]!.seal);
  });
});
