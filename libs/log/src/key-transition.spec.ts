import fc from 'fast-check';
import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogFixture, logSigner, sampleEntry, type FixturePart } from '../testdata/log-fixture';
import { withCode as code } from '../testdata/with-code';
import { utf8 } from './bytes';
import { encodeEntry, decodeEntry } from './entry';
import {
  followKeyTransitions,
  isKeyTransitionEntry,
  parseKeyTransition,
  signKeyTransition,
  transitionStatement,
} from './key-transition';
import { LogError } from './log-error';
import { LogVerifier, type LogVerifierState } from './log-verifier';
import type { NoteSigner } from './note-signer';
import { verifyLog } from './verify-log';

const ORIGIN = 'portal-a.example/log';
const OLD = logSigner(ORIGIN, nodeEd25519);
const NEXT = logSigner(ORIGIN, nodeEd25519, 'next');
const ROGUE = logSigner(ORIGIN, nodeEd25519, 'rogue');

/**
 * A log whose key rotates at part 1: part 0 (3 entries), part 1 (2 entries and the transition,
 * sealed by the old key), part 2 (4 entries) and a heartbeat part 3, both sealed by the next key.
 * `tamper` may replace the transition entry, the key sealing part 1, or the key sealing part 2.
 */
function rotatedLog(
  tamper: {
    transition?: (size: number) => Uint8Array;
    extraAfterTransition?: boolean;
    part1Key?: NoteSigner;
    part2Key?: NoteSigner;
  } = {},
): { fixture: LogFixture; parts: FixturePart[] } {
  const fixture = new LogFixture(ORIGIN, nodeEd25519);
  const p0 = fixture.sealPart([0, 1, 2].map(sampleEntry));
  const size = 6;
  const transition =
    tamper.transition?.(size) ??
    signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: NEXT, part: 1, size });
  const p1Entries = [sampleEntry(3), sampleEntry(4), transition];
  if (tamper.extraAfterTransition === true) p1Entries.push(sampleEntry(99));
  fixture.signer = tamper.part1Key ?? OLD;
  const p1 = fixture.sealPart(p1Entries);
  fixture.signer = tamper.part2Key ?? NEXT;
  const p2 = fixture.sealPart([5, 6, 7, 8].map(sampleEntry));
  fixture.signer = NEXT;
  const p3 = fixture.sealPart([]);
  return { fixture, parts: [p0, p1, p2, p3] };
}

const options = { logKey: OLD.verifierKey, ed25519: nodeEd25519 };

describe('log key transitions', () => {
  it('signs a known statement: five lines, each ended by a newline', () => {
    const statement = transitionStatement({
      origin: ORIGIN,
      oldKey: OLD.verifierKey.text,
      nextKey: NEXT.verifierKey.text,
      part: 1,
      size: 6,
    });
    expect(new TextDecoder().decode(statement)).toBe(
      `cryptomesh log key transition v1\n${ORIGIN}\n${OLD.verifierKey.text}\n${NEXT.verifierKey.text}\n1 6\n`,
    );
    const entry = signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: NEXT, part: 1, size: 6 });
    expect(isKeyTransitionEntry(entry)).toBe(true);
    expect(Object.keys(decodeEntry(entry))).toEqual(['LogKeyTransition']);
    // Ed25519 is deterministic: the entry is a known answer for these keys.
    expect(
      nodeEd25519.verify(OLD.verifierKey.publicKey, statement, parseKeyTransition(entry).oldSignature),
    ).toBe(true);
  });

  it('round-trips any part and size, and any changed field breaks the chain (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(1_000_000),
        fc.nat(1_000_000),
        fc.constantFrom('Origin', 'Part', 'Size', 'Next'),
        (part, size, field) => {
          const entry = signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: NEXT, part, size });
          const chain = followKeyTransitions(OLD.verifierKey, ORIGIN, [entry], nobleEd25519);
          expect(chain.map((c) => c.key.text)).toEqual([OLD.verifierKey.text, NEXT.verifierKey.text]);
          expect(chain[0]!.until).toEqual({ part, size });
          const body = { ...(decodeEntry(entry).LogKeyTransition as Record<string, never>) } as Record<
            string,
            unknown
          >;
          body[field] =
            field === 'Origin'
              ? 'portal-b.example/log'
              : field === 'Next'
                ? ROGUE.verifierKey.text
                : (body[field] as number) + 1;
          const changed = encodeEntry({ LogKeyTransition: body as never });
          expect(() => followKeyTransitions(OLD.verifierKey, ORIGIN, [changed], nodeEd25519)).toThrow(
            code('verify.transition'),
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses an Origin that is no key name (a NUL, a space): verify.transition, quoting nothing raw', () => {
    for (const origin of ['alpha\u0000', 'alpha log', '']) {
      const entry = signKeyTransition({ origin, oldKey: OLD, nextKey: NEXT, part: 1, size: 6 });
      expect(() => parseKeyTransition(entry)).toThrow(code('verify.transition'));
    }
    // What a LogError saw and expected is quoted into a finding's evidence: escaped.
    const error = new LogError('verify.transition', 'bad \u0000', {
      seen: 'a\u0000\ud800',
      expected: '\u001b[2J',
    });
    expect([error.message, error.seen, error.expected]).toEqual([
      'bad \\u0000',
      'a\\u0000\\ud800',
      '\\u001b[2J',
    ]);
  });

  it('refuses a successor that is not a log key of the same name, or the old key itself', () => {
    for (const nextKey of [OLD, logSigner('portal-b.example/log', nodeEd25519)])
      expect(() => signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey, part: 0, size: 1 })).toThrow(
        code('key.malformed'),
      );
  });

  it('the verifier follows a transition: old-key parts, then new-key parts, and resumes from its state', async () => {
    const { parts } = rotatedLog();
    const verdict = await verifyLog(parts, options);
    expect(verdict).toMatchObject({ ok: true, parts: 4 });
    expect(verdict.state?.keys).toEqual({ current: NEXT.verifierKey.text, retired: [OLD.verifierKey.text] });
    // Resumed right after the transition part: its seal is the old key's, the next one the new key's.
    const first = await verifyLog(parts.slice(0, 2), options);
    expect(first.state?.keys).toEqual({
      current: NEXT.verifierKey.text,
      note: OLD.verifierKey.text,
      retired: [OLD.verifierKey.text],
    });
    const resumed = new LogVerifier({
      ...options,
      from: JSON.parse(JSON.stringify(first.state)) as LogVerifierState,
    });
    expect(resumed.currentKey.text).toBe(NEXT.verifierKey.text);
    expect(await resumed.verifyPart(parts[2]!)).toMatchObject({ ok: true });
    // A verifier configured with the new key (an updated federation.json) resumes from the same state.
    const updated = new LogVerifier({ ...options, logKey: NEXT.verifierKey, from: first.state! });
    expect(await updated.verifyPart(parts[2]!)).toMatchObject({ ok: true });
  });

  it('a part sealed by the old key after the transition is verify.retired-key', async () => {
    const verdict = await verifyLog(rotatedLog({ part2Key: OLD }).parts, options);
    expect(verdict).toMatchObject({ ok: false, parts: 2, violation: code('verify.retired-key') });
    expect(verdict.state?.keys?.current).toBe(NEXT.verifierKey.text);
  });

  const forged: Array<[string, Parameters<typeof rotatedLog>[0], string]> = [
    [
      'signed by a key that is not the current log key (naming the current key as old)',
      {
        transition: (size) => {
          const entry = signKeyTransition({ origin: ORIGIN, oldKey: ROGUE, nextKey: NEXT, part: 1, size });
          const body = decodeEntry(entry).LogKeyTransition as Record<string, unknown>;
          return encodeEntry({ LogKeyTransition: { ...body, Old: OLD.verifierKey.text } });
        },
      },
      'verify.transition',
    ],
    [
      'naming another old key',
      {
        transition: (size) =>
          signKeyTransition({ origin: ORIGIN, oldKey: ROGUE, nextKey: NEXT, part: 1, size }),
      },
      'verify.transition',
    ],
    [
      'without the next key’s proof of possession',
      {
        transition: (size) => {
          const entry = signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: ROGUE, part: 1, size });
          const body = decodeEntry(entry).LogKeyTransition as Record<string, unknown>;
          return encodeEntry({ LogKeyTransition: { ...body, Next: NEXT.verifierKey.text } });
        },
      },
      'verify.transition',
    ],
    [
      'for another tree size',
      {
        transition: (size) =>
          signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: NEXT, part: 1, size: size + 1 }),
      },
      'verify.transition',
    ],
    ['that is not the last entry of its part', { extraAfterTransition: true }, 'verify.transition'],
    ['malformed', { transition: () => utf8('{"LogKeyTransition":{"Next":1}}') }, 'verify.transition'],
    ['whose part is sealed by the next key', { part1Key: NEXT }, 'note.unknown-key'],
  ];
  it.each(forged)('a transition %s is refused and the head stays before it', async (_, tamper, expected) => {
    const verdict = await verifyLog(rotatedLog(tamper).parts, options);
    expect(verdict).toMatchObject({ ok: false, parts: 1, violation: code(expected as never) });
    expect(verdict.state?.keys).toBeUndefined();
    expect(verdict.head?.part.index).toBe(0);
  });

  it('judges a transition only under a valid seal: a forged seal is the seal’s error', async () => {
    const { parts } = rotatedLog({
      transition: (size) =>
        signKeyTransition({ origin: ORIGIN, oldKey: ROGUE, nextKey: NEXT, part: 1, size }),
      part1Key: ROGUE,
    });
    const verdict = await verifyLog(parts, options);
    expect(verdict).toMatchObject({ ok: false, parts: 1, violation: code('note.unknown-key') });
  });

  it('#19 item 4 review: a transition back to a retired key is refused (verifier and chain)', async () => {
    const { fixture, parts } = rotatedLog();
    const back = signKeyTransition({ origin: ORIGIN, oldKey: NEXT, nextKey: OLD, part: 4, size: 12 });
    const p4 = fixture.sealPart([sampleEntry(9), back]);
    fixture.signer = OLD;
    const p5 = fixture.sealPart([]);
    const verdict = await verifyLog([...parts, p4, p5], options);
    expect(verdict).toMatchObject({ ok: false, parts: 4, violation: code('verify.transition') });
    const first = signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: NEXT, part: 1, size: 6 });
    expect(() => followKeyTransitions(OLD.verifierKey, ORIGIN, [first, back], nodeEd25519)).toThrow(
      code('verify.transition'),
    );
  });

  it('#19 item 4 review: a tampered saved state is verify.state, not a crash', async () => {
    const first = await verifyLog(rotatedLog().parts.slice(0, 2), options);
    const state = first.state!;
    const tampered: unknown[] = [
      { current: 5, retired: [] },
      { current: NEXT.verifierKey.text, retired: OLD.verifierKey.text },
      { current: NEXT.verifierKey.text, retired: [7] },
      { current: NEXT.verifierKey.text, note: {}, retired: [OLD.verifierKey.text] },
      null,
      'keys',
    ];
    for (const keys of tampered)
      expect(() => new LogVerifier({ ...options, from: { ...state, keys } as never })).toThrow(
        code('verify.state'),
      );
  });
});
