import { createHash } from 'node:crypto';
import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto';
import {
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  cosignedMessage,
  makeNoteSigner,
  type JsonValue,
} from '@cryptomesh/log';
import { IntermeshError, type IntermeshErrorCode } from './intermesh-error';
import {
  FINDING_SIGNATURE_CONTEXT,
  decodeWitnessMessage,
  encodeWitnessMessage,
  findingFingerprint,
  findingSignedMessage,
  signFinding,
  verifyFinding,
  type FindingFields,
  type FindingFingerprintFields,
  type FindingMessage,
} from './witness-message';

const seed = (n: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + n) & 255);
const witness = (name: string, n: number) =>
  makeNoteSigner(name, KEY_TYPE_COSIGNATURE_V1, seed(n), nodeEd25519);
const beta = witness('beta.example/witness', 1);
const gamma = witness('gamma.example/witness', 2);
const betaLog = makeNoteSigner('beta.example/witness', KEY_TYPE_ED25519, seed(1), nodeEd25519);

function codeOf(fn: () => unknown): IntermeshErrorCode | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntermeshError) return error.code;
    throw error;
  }
  return undefined;
}

const base = {
  subject: 'alpha',
  reporter: 'beta',
  kind: 'equivocation' as const,
  part: 7 as number | null,
  code: 'assembler.conflict',
  detail: 'two seals for part 7',
  evidence: { first: 'note A', second: 'note B', origin: 'alpha.example/log' } as JsonValue,
  observedAt: 1_763_800_000_000,
};
const fields: FindingFields = { ...base, id: findingFingerprint(base) };
const signed = signFinding(fields, beta);

describe('finding signatures', () => {
  it('signs the context line and the RFC 8785 JCS of the fields (known answer)', () => {
    const small: FindingFields = {
      subject: 'a',
      reporter: 'b',
      id: '0'.repeat(64),
      kind: 'stale',
      part: null,
      code: 'mirror.stale',
      detail: 'é',
      evidence: { z: 1, a: [true, null] },
      observedAt: 5,
    };
    expect(new TextDecoder().decode(findingSignedMessage(small))).toBe(
      'intermesh-finding/v1\n' +
        `{"code":"mirror.stale","detail":"é","evidence":{"a":[true,null],"z":1},"id":"${'0'.repeat(64)}",` +
        '"kind":"stale","observedAt":5,"part":null,"reporter":"b","subject":"a"}',
    );
    expect(FINDING_SIGNATURE_CONTEXT).toBe('intermesh-finding/v1\n');
  });

  it('is a different message than any cosignature or signed note', () => {
    const decoder = new TextDecoder();
    const message = decoder.decode(findingSignedMessage(fields));
    expect(message.startsWith('intermesh-finding/v1\n{')).toBe(true);
    expect(decoder.decode(cosignedMessage('x\n', 0)).startsWith('intermesh-finding/v1\n')).toBe(false);
    expect(message.endsWith('\n')).toBe(false); // a C2SP note text ends with a newline
  });

  it('verifies with the reporter witness key, by either Ed25519 implementation', () => {
    expect(() => verifyFinding(signed, beta.verifierKey, nodeEd25519)).not.toThrow();
    expect(() => verifyFinding(signed, beta.verifierKey, nobleEd25519)).not.toThrow();
    expect(signed.signature).toHaveLength(64);
    // Deterministic (RFC 8032): the same finding signs to the same bytes.
    expect(signFinding(fields, beta).signature).toEqual(signed.signature);
  });

  it('survives the witness topic', () => {
    const record = encodeWitnessMessage(signed);
    const decoded = decodeWitnessMessage(record) as FindingMessage;
    expect(() => verifyFinding(decoded, beta.verifierKey, nodeEd25519)).not.toThrow();
  });

  it('fails with another witness key', () => {
    expect(codeOf(() => verifyFinding(signed, gamma.verifierKey, nodeEd25519))).toBe('finding.bad-signature');
  });

  it('fails with a log (type 0x01) key, even over the same Ed25519 key', () => {
    expect(codeOf(() => verifyFinding(signed, betaLog.verifierKey, nodeEd25519))).toBe(
      'finding.bad-signature',
    );
  });

  it('carries who and what in the error', () => {
    try {
      verifyFinding(signed, gamma.verifierKey, nodeEd25519);
      throw new Error('verified');
    } catch (error) {
      expect(error).toBeInstanceOf(IntermeshError);
      expect((error as IntermeshError).evidence).toEqual({
        subject: 'alpha',
        reporter: 'beta',
        id: fields.id,
        key: gamma.verifierKey.text,
      });
    }
  });

  it.each<[string, Partial<FindingMessage>]>([
    ['subject', { subject: 'delta' }],
    ['reporter', { reporter: 'gamma' }],
    ['id', { id: 'f'.repeat(64) }],
    ['kind', { kind: 'bad-part' }],
    ['part', { part: 8 }],
    ['part (null)', { part: null }],
    ['code', { code: 'assembler.conflicts' }],
    ['detail', { detail: 'two seals for part 8' }],
    ['evidence', { evidence: { first: 'note A', second: 'note C', origin: 'alpha.example/log' } }],
    ['evidence (null)', { evidence: null }],
    ['observedAt', { observedAt: 1_763_800_000_001 }],
    ['signature', { signature: signed.signature.map((b, i) => (i === 10 ? b ^ 1 : b)) }],
  ])('fails with a tampered %s', (_, change) => {
    expect(codeOf(() => verifyFinding({ ...signed, ...change }, beta.verifierKey, nodeEd25519))).toBe(
      'finding.bad-signature',
    );
  });

  it('ignores the key order of the evidence', () => {
    const reordered = {
      ...signed,
      evidence: { origin: 'alpha.example/log', second: 'note B', first: 'note A' },
    };
    expect(() => verifyFinding(reordered, beta.verifierKey, nodeEd25519)).not.toThrow();
  });

  it('refuses to sign with a log (type 0x01) key', () => {
    expect(codeOf(() => signFinding(fields, betaLog))).toBe('finding.key');
  });

  it.each<[string, Partial<FindingFields>, IntermeshErrorCode]>([
    ['a reporter that is the subject', { reporter: 'alpha' }, 'message.self'],
    ['an id that is not the fingerprint', { id: '0'.repeat(64) }, 'message.id'],
    ['a bad code', { code: 'Bad' }, 'message.code'],
    ['a negative time', { observedAt: -1 }, 'message.observed-at'],
    ['non-I-JSON evidence', { evidence: { n: NaN } }, 'message.evidence'],
  ])('refuses to sign %s', (_, change, code) => {
    let signedSomething = false;
    const spy = {
      verifierKey: beta.verifierKey,
      sign: (m: Uint8Array) => ((signedSomething = true), beta.sign(m)),
    };
    expect(codeOf(() => signFinding({ ...fields, ...change }, spy))).toBe(code);
    expect(signedSomething).toBe(false);
  });
});

describe('finding fingerprints', () => {
  const f: FindingFingerprintFields = {
    subject: 'alpha',
    kind: 'gap',
    code: 'assembler.gap',
    part: 7,
    evidence: { b: [2, { y: 1, x: 'é' }], a: 1 },
  };

  it('is SHA-256 of the JCS of {subject, kind, code, part, evidence} (checked with node:crypto)', () => {
    const jcs =
      '{"code":"assembler.gap","evidence":{"a":1,"b":[2,{"x":"é","y":1}]},"kind":"gap","part":7,"subject":"alpha"}';
    expect(findingFingerprint(f)).toBe(createHash('sha256').update(jcs, 'utf8').digest('hex'));
    expect(findingFingerprint(f)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable for reordered evidence keys and ignores fields outside it', () => {
    const reordered = {
      evidence: { a: 1, b: [2, { x: 'é', y: 1 }] },
      part: 7,
      code: 'assembler.gap',
      kind: 'gap' as const,
      subject: 'alpha',
    };
    expect(findingFingerprint(reordered)).toBe(findingFingerprint(f));
    expect(findingFingerprint({ ...f, reporter: 'beta', detail: 'x' } as FindingFingerprintFields)).toBe(
      findingFingerprint(f),
    );
  });

  it.each<[string, Partial<FindingFingerprintFields>]>([
    ['subject', { subject: 'beta' }],
    ['kind', { kind: 'bad-part' }],
    ['code', { code: 'assembler.reorder' }],
    ['part', { part: 8 }],
    ['part (null)', { part: null }],
    ['part (0)', { part: 0 }],
    ['evidence (a value)', { evidence: { b: [2, { y: 1, x: 'e' }], a: 1 } }],
    ['evidence (array order)', { evidence: { b: [{ y: 1, x: 'é' }, 2], a: 1 } }],
    ['evidence (a number type)', { evidence: { b: [2, { y: 1, x: 'é' }], a: '1' } }],
    ['evidence (null)', { evidence: null }],
  ])('differs when %s changes', (_, change) => {
    expect(findingFingerprint({ ...f, ...change })).not.toBe(findingFingerprint(f));
  });

  it('refuses evidence that is not I-JSON', () => {
    expect(codeOf(() => findingFingerprint({ ...f, evidence: { n: Infinity } }))).toBe('message.evidence');
    expect(codeOf(() => findingFingerprint({ ...f, evidence: ['\ud800'] }))).toBe('message.evidence');
  });
});
