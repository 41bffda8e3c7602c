import { nodeEd25519 } from '@cryptomesh/crypto';
import {
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  cosign,
  formatSignatureLine,
  makeNoteSigner,
  parseNote,
  signNote,
  toBase64,
  type JsonValue,
} from '@cryptomesh/log';
import fc from 'fast-check';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import { LOG_MESSAGE_MAX_BYTES } from './log-message';
import {
  FINDING_KINDS,
  decodeWitnessMessage,
  encodeWitnessMessage,
  findingFingerprint,
  signFinding,
  type CosignatureMessage,
  type FindingFields,
  type FindingMessage,
  type WitnessMessage,
  type WitnessRecord,
} from './witness-message';

const utf8 = new TextEncoder();
const seed = (label: string): Uint8Array =>
  Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + label.length) & 255);
const alphaLog = makeNoteSigner('alpha.example/log', KEY_TYPE_ED25519, seed('alpha-log'), nodeEd25519);
const betaWitness = makeNoteSigner(
  'beta.example/witness',
  KEY_TYPE_COSIGNATURE_V1,
  seed('beta'),
  nodeEd25519,
);
const SEAL = signNote(`alpha.example/log\n8\n${toBase64(new Uint8Array(32).fill(7))}\n`, alphaLog);
const LINE = formatSignatureLine(cosign(parseNote(SEAL).text, betaWitness, 1_763_800_000));

const decode = (r: WitnessRecord): WitnessMessage =>
  decodeWitnessMessage({ key: r.key, type: r.type, value: r.value });

function codeOf(fn: () => unknown): IntermeshErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntermeshError) return error.code;
    throw error;
  }
  return undefined;
}

const cosignature: CosignatureMessage = {
  type: 'cosignature',
  subject: 'alpha',
  witness: 'beta',
  part: 7,
  seal: SEAL,
  cosignature: LINE,
};

function finding(overrides: Partial<FindingFields> = {}): FindingMessage {
  const fields = {
    subject: 'alpha',
    reporter: 'beta',
    kind: 'gap' as const,
    part: 7 as number | null,
    code: 'assembler.gap',
    detail: 'expected part 7, saw part 9 — at offset 12',
    evidence: { expected: 7, seen: 9, offsets: [12, 13] } as JsonValue,
    observedAt: 1_763_800_000_000,
    ...overrides,
  };
  return signFinding({ id: findingFingerprint(fields), ...fields }, betaWitness);
}

describe('witness messages', () => {
  it('encodes the documented JSON, keyed by subject, with the type header', () => {
    const record = encodeWitnessMessage(cosignature);
    expect(record.key).toBe('alpha');
    expect(record.type).toBe('cosignature');
    expect(new TextDecoder().decode(record.value)).toBe(
      `{"v":1,"type":"cosignature","subject":"alpha","witness":"beta","part":7,` +
        `"seal":${JSON.stringify(SEAL)},"cosignature":${JSON.stringify(LINE)}}`,
    );
    const f = finding();
    const text = new TextDecoder().decode(encodeWitnessMessage(f).value);
    expect(Object.keys(JSON.parse(text) as object).join()).toBe(
      'v,type,subject,reporter,id,kind,part,code,detail,evidence,observedAt,signature',
    );
    expect(text).toContain(`"signature":"${toBase64(f.signature)}"`);
    expect(encodeWitnessMessage(f).key).toBe('alpha');
  });

  it('uses a cosignature line as cosign and formatSignatureLine make it', () => {
    expect(LINE).toMatch(/^— beta\.example\/witness [A-Za-z0-9+/]{102}==$/u);
  });

  it.each<[string, WitnessMessage]>([
    ['a cosignature', cosignature],
    ['a finding', finding()],
    ['a finding without a part', finding({ kind: 'stale', part: null, code: 'mirror.stale' })],
    ['a finding with null evidence and an empty detail', finding({ evidence: null, detail: '' })],
    ['a finding at part 0, time 0', finding({ part: 0, observedAt: 0 })],
    ['a finding with Unicode evidence', finding({ kind: 'rule', evidence: { é: ['😀', 1.5, -2, true] } })],
  ])('round-trips %s', (_, message) => {
    expect(decode(encodeWitnessMessage(message))).toEqual(message);
  });

  it('refuses a finding holding U+0000 in its detail or anywhere in its evidence, or evidence nested deeper than 32 (a stored finding could not hold it)', () => {
    // A hostile member writes the bytes itself: encodeWitnessMessage refuses them too.
    const record = encodeWitnessMessage(finding());
    const fields = JSON.parse(new TextDecoder().decode(record.value)) as Record<string, unknown>;
    const forged = (change: Record<string, unknown>): WitnessRecord => ({
      ...record,
      value: utf8.encode(JSON.stringify({ ...fields, ...change })),
    });
    expect(codeOf(() => decode(forged({ detail: 'x\u0000' })))).toBe('message.detail');
    expect(codeOf(() => encodeWitnessMessage(finding({ detail: 'x\u0000' })))).toBe('message.detail');
    let deep: unknown = 1;
    for (let i = 0; i < 33; i++) deep = [deep];
    for (const evidence of [{ a: '\u0000' }, { 'a\u0000': 1 }, [[['\u0000']]], deep])
      expect(codeOf(() => decode(forged({ evidence })))).toBe('message.evidence');
    let nested: unknown = 1;
    for (let i = 0; i < 31; i++) nested = [nested];
    expect(codeOf(() => decode(forged({ evidence: nested })))).toBe('message.id'); // read; its id is wrong
    // The same characters escaped, as our own findings write them, are taken.
    const escaped = finding({ detail: 'x\\u0000', evidence: { a: '\\u0000' } });
    expect(decode(encodeWitnessMessage(escaped))).toMatchObject({ detail: 'x\\u0000' });
  });

  it('refuses to encode what it would refuse to decode', () => {
    expect(codeOf(() => encodeWitnessMessage({ ...cosignature, witness: 'alpha' }))).toBe('message.self');
    expect(codeOf(() => encodeWitnessMessage({ ...cosignature, subject: 'Alpha' }))).toBe('message.portal');
    expect(codeOf(() => encodeWitnessMessage({ ...cosignature, part: -1 }))).toBe('message.part');
    expect(
      codeOf(() => encodeWitnessMessage({ ...cosignature, seal: 'x'.repeat(LOG_MESSAGE_MAX_BYTES) })),
    ).toBe('message.too-large');
    const f = finding();
    expect(codeOf(() => encodeWitnessMessage({ ...f, evidence: { n: Infinity } }))).toBe('message.evidence');
    expect(codeOf(() => encodeWitnessMessage({ ...f, signature: new Uint8Array(63) }))).toBe(
      'message.signature',
    );
    expect(codeOf(() => encodeWitnessMessage({ ...f, detail: 'changed' }))).toBeUndefined();
    expect(codeOf(() => encodeWitnessMessage({ ...f, code: 'changed' }))).toBe('message.id');
  });

  it('property: decode(encode(m)) = m for arbitrary valid messages', () => {
    const portalId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);
    const text = fc.string({ unit: 'grapheme', maxLength: 200 });
    const json = fc
      .jsonValue({ maxDepth: 3, stringUnit: 'grapheme' })
      .map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
    const pair = fc.tuple(portalId, portalId).filter(([a, b]) => a !== b);
    const cosignatures = fc
      .record({ pair, part: fc.maxSafeNat(), seal: text.filter((s) => s !== '') })
      .map(({ pair: [subject, witness], part, seal }): WitnessMessage => ({
        type: 'cosignature',
        subject,
        witness,
        part,
        seal,
        cosignature: LINE,
      }));
    const findings = fc
      .record({
        pair,
        kind: fc.constantFrom(...FINDING_KINDS),
        part: fc.option(fc.maxSafeNat(), { nil: null }),
        code: fc.stringMatching(/^[a-z][a-z0-9.-]{0,99}$/),
        detail: text,
        evidence: json,
        observedAt: fc.maxSafeNat(),
        signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      })
      .map(({ pair: [subject, reporter], signature, ...rest }): WitnessMessage => {
        const id = findingFingerprint({ subject, ...rest });
        return { type: 'finding', subject, reporter, id, ...rest, signature };
      });
    fc.assert(
      fc.property(fc.oneof(cosignatures, findings), (message) => {
        expect(decode(encodeWitnessMessage(message))).toEqual(message);
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeWitnessMessage rejects, with its code', () => {
  const cos = {
    v: 1,
    type: 'cosignature',
    subject: 'alpha',
    witness: 'beta',
    part: 7,
    seal: SEAL,
    cosignature: LINE,
  };
  const fin = JSON.parse(new TextDecoder().decode(encodeWitnessMessage(finding()).value)) as Record<
    string,
    unknown
  >;
  const raw = (body: unknown, type: string | undefined, key: string | undefined) =>
    decodeWitnessMessage({ key, type, value: utf8.encode(JSON.stringify(body)) });
  const json = (body: unknown, type = (body as { type?: string }).type, key = 'alpha') =>
    raw(body, type, key);
  /** A finding with `fields` changed and its id recomputed, so that only `fields` are at fault. */
  const refinger = (fields: Record<string, unknown>) => {
    const body = { ...fin, ...fields } as Record<string, unknown> & FindingFields;
    return { ...body, id: findingFingerprint(body) };
  };
  const [dash, name, base64] = LINE.split(' ');

  it('accepts the well-formed bodies', () => {
    expect(json(cos).type).toBe('cosignature');
    expect(json(fin).type).toBe('finding');
    expect(json(refinger({ part: null })).type).toBe('finding');
    expect(json(refinger({ evidence: null })).type).toBe('finding');
  });

  it.each<[string, () => unknown, IntermeshErrorCode]>([
    [
      'a value above 1 MB',
      () =>
        decodeWitnessMessage({
          key: 'alpha',
          type: 'finding',
          value: new Uint8Array(LOG_MESSAGE_MAX_BYTES + 1),
        }),
      'message.too-large',
    ],
    [
      'invalid UTF-8',
      () => decodeWitnessMessage({ key: 'alpha', type: 'finding', value: Uint8Array.of(0x7b, 0xff, 0x7d) }),
      'message.not-json',
    ],
    [
      'not JSON',
      () => decodeWitnessMessage({ key: 'alpha', type: 'finding', value: utf8.encode('{"v":1,') }),
      'message.not-json',
    ],
    ['an array', () => json([cos], 'cosignature'), 'message.not-object'],
    ['a string', () => json('cosignature', 'cosignature'), 'message.not-object'],
    ['null', () => json(null, 'cosignature'), 'message.not-object'],
    ['version 2', () => json({ ...cos, v: 2 }), 'message.version'],
    ['version "1"', () => json({ ...fin, v: '1' }), 'message.version'],
    ['no version', () => json({ ...cos, v: undefined }), 'message.version'],
    ['a log message type', () => json({ ...cos, type: 'seal' }), 'message.type'],
    ['no type', () => json({ ...cos, type: undefined }, 'cosignature'), 'message.type'],
    ['an extra field', () => json({ ...cos, extra: 1 }), 'message.unknown-field'],
    ['a finding field in a cosignature', () => json({ ...cos, reporter: 'gamma' }), 'message.unknown-field'],
    ['a cosignature field in a finding', () => json({ ...fin, witness: 'gamma' }), 'message.unknown-field'],
    [
      'a __proto__ field',
      () => json(JSON.parse(`{"__proto__":1,${JSON.stringify(cos).slice(1)}`)),
      'message.unknown-field',
    ],
    ...['subject', 'witness', 'part', 'seal', 'cosignature'].map(
      (f): [string, () => unknown, IntermeshErrorCode] => [
        `a cosignature without ${f}`,
        () => json({ ...cos, [f]: undefined }),
        'message.field',
      ],
    ),
    ...[
      'subject',
      'reporter',
      'id',
      'kind',
      'part',
      'code',
      'detail',
      'evidence',
      'observedAt',
      'signature',
    ].map((f): [string, () => unknown, IntermeshErrorCode] => [
      `a finding without ${f}`,
      () => json({ ...fin, [f]: undefined }),
      'message.field',
    ]),
    ['a header type that disagrees', () => json(cos, 'finding'), 'message.header'],
    ['no type header', () => raw(cos, undefined, 'alpha'), 'message.header'],
    ['a key that is not the subject', () => json(cos, 'cosignature', 'beta'), 'message.key'],
    ['no key', () => raw(fin, 'finding', undefined), 'message.key'],
    [
      'an invalid subject',
      () => json({ ...cos, subject: 'Alpha' }, 'cosignature', 'Alpha'),
      'message.portal',
    ],
    ['a numeric subject', () => json({ ...cos, subject: 1 }), 'message.portal'],
    ['an invalid witness', () => json({ ...cos, witness: 'b_eta' }), 'message.portal'],
    ['an invalid reporter', () => json({ ...fin, reporter: '' }), 'message.portal'],
    ['a witness that is the subject', () => json({ ...cos, witness: 'alpha' }), 'message.self'],
    ['a reporter that is the subject', () => json({ ...fin, reporter: 'alpha' }), 'message.self'],
    ['a negative part', () => json({ ...cos, part: -1 }), 'message.part'],
    ['a fractional part', () => json({ ...cos, part: 1.5 }), 'message.part'],
    ['a part beyond 2^53', () => json({ ...cos, part: 2 ** 53 }), 'message.part'],
    ['a string part', () => json({ ...cos, part: '7' }), 'message.part'],
    ['a null cosignature part', () => json({ ...cos, part: null }), 'message.part'],
    ['a negative finding part', () => json(refinger({ part: -1 })), 'message.part'],
    ['an empty seal', () => json({ ...cos, seal: '' }), 'message.note'],
    ['a non-string seal', () => json({ ...cos, seal: 1 }), 'message.note'],
    ['a seal with a lone surrogate', () => json({ ...cos, seal: 'a\ud800\n' }), 'message.note'],
    [
      'a cosignature without the em dash',
      () => json({ ...cos, cosignature: LINE.slice(1) }),
      'message.cosignature',
    ],
    [
      'a cosignature with a hyphen',
      () => json({ ...cos, cosignature: `-${LINE.slice(1)}` }),
      'message.cosignature',
    ],
    ['a cosignature and a newline', () => json({ ...cos, cosignature: `${LINE}\n` }), 'message.cosignature'],
    ['two cosignature lines', () => json({ ...cos, cosignature: `${LINE}\n${LINE}` }), 'message.cosignature'],
    [
      'a cosignature without a name',
      () => json({ ...cos, cosignature: `${dash!} ${base64!}` }),
      'message.cosignature',
    ],
    [
      'a cosignature without a signature',
      () => json({ ...cos, cosignature: `${dash!} ${name!}` }),
      'message.cosignature',
    ],
    [
      'a cosignature of 75 bytes',
      () => json({ ...cos, cosignature: `— w ${toBase64(new Uint8Array(75))}` }),
      'message.cosignature',
    ],
    [
      'a cosignature of 77 bytes',
      () => json({ ...cos, cosignature: `— w ${toBase64(new Uint8Array(77))}` }),
      'message.cosignature',
    ],
    [
      'a non-canonical cosignature',
      () => json({ ...cos, cosignature: `— w ${'A'.repeat(100)}AB==` }),
      'message.cosignature',
    ],
    ['a non-string cosignature', () => json({ ...cos, cosignature: ['—'] }), 'message.cosignature'],
    ['an upper-case id', () => json({ ...fin, id: (fin.id as string).toUpperCase() }), 'message.id'],
    ['a short id', () => json({ ...fin, id: (fin.id as string).slice(2) }), 'message.id'],
    ['an id that is not the fingerprint', () => json({ ...fin, id: '0'.repeat(64) }), 'message.id'],
    ['an id for other evidence', () => json({ ...fin, evidence: { other: true } }), 'message.id'],
    ['an unknown kind', () => json(refinger({ kind: 'misconduct' })), 'message.kind'],
    ['a kind in capitals', () => json(refinger({ kind: 'GAP' })), 'message.kind'],
    ['an empty code', () => json(refinger({ code: '' })), 'message.code'],
    ['a code in capitals', () => json(refinger({ code: 'Assembler.gap' })), 'message.code'],
    ['a code starting with a digit', () => json(refinger({ code: '1.gap' })), 'message.code'],
    ['a code with a space', () => json(refinger({ code: 'assembler gap' })), 'message.code'],
    ['a code of 101 characters', () => json(refinger({ code: 'a'.repeat(101) })), 'message.code'],
    ['a non-string detail', () => json(refinger({ detail: null })), 'message.detail'],
    ['a detail of 4097 characters', () => json(refinger({ detail: 'x'.repeat(4097) })), 'message.detail'],
    ['a detail with a lone surrogate', () => json(refinger({ detail: '\udc00' })), 'message.detail'],
    ['evidence with a lone surrogate', () => json({ ...fin, evidence: { a: '\ud800' } }), 'message.evidence'],
    [
      'evidence with an infinite number',
      () =>
        decodeWitnessMessage({
          key: 'alpha',
          type: 'finding',
          value: utf8.encode(JSON.stringify(fin).replace('"seen":9', '"seen":1e999')),
        }),
      'message.evidence',
    ],
    ['a negative observedAt', () => json({ ...fin, observedAt: -1 }), 'message.observed-at'],
    [
      'an observedAt in seconds with a fraction',
      () => json({ ...fin, observedAt: 1.5 }),
      'message.observed-at',
    ],
    [
      'an observedAt as a date string',
      () => json({ ...fin, observedAt: '2025-11-22T00:00:00Z' }),
      'message.observed-at',
    ],
    [
      'a signature of 63 bytes',
      () => json({ ...fin, signature: toBase64(new Uint8Array(63)) }),
      'message.signature',
    ],
    [
      'a signature of 65 bytes',
      () => json({ ...fin, signature: toBase64(new Uint8Array(65)) }),
      'message.signature',
    ],
    ['an empty signature', () => json({ ...fin, signature: '' }), 'message.signature'],
    [
      'a base64url signature',
      () => json({ ...fin, signature: toBase64(new Uint8Array(64).fill(0xff)).replace(/\//g, '_') }),
      'message.signature',
    ],
    [
      'a non-canonical signature',
      () => json({ ...fin, signature: `${'A'.repeat(84)}AB==` }),
      'message.signature',
    ],
    [
      'a signature as an array',
      () => json({ ...fin, signature: Array.from(new Uint8Array(64)) }),
      'message.signature',
    ],
  ])('%s', (_, run, code) => {
    expect(codeOf(run)).toBe(code);
  });
});
