import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogFixture, sampleEntry, witnessSigner } from '../testdata/log-fixture';
import { fromBase64, readU32be, utf8 } from './bytes';
import {
  addCosignature,
  cosign,
  cosignatureTimestamp,
  cosignedMessage,
  countCosigners,
  findCosigners,
  verifyCosignature,
} from './cosignature';
import { openSeal } from './seal';
import { addSignature, openNote, parseNote } from './signed-note';
import { KEY_TYPE_COSIGNATURE_V1 } from './verifier-key';
import { withCode as code } from '../testdata/with-code';

function lineOf(base64: string) {
  const bytes = fromBase64(base64);
  return { name: 'w', keyId: readU32be(bytes), signature: bytes.slice(4) };
}

function sealed() {
  const log = new LogFixture('portal-a.example/log', nodeEd25519);
  return { log, note: log.sealPart([sampleEntry(0)]).seal };
}

describe('cosignatures (C2SP tlog-cosignature v1, Ed25519)', () => {
  it('reads the timestamps of published cosignatures', () => {
    // C2SP tlog-cosignature example (time 1679315147) and transparency-dev/formats note_cosigv1_test.go.
    expect(
      cosignatureTimestamp(
        lineOf(
          'jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==',
        ),
      ),
    ).toBe(1679315147);
    expect(
      cosignatureTimestamp(
        lineOf(
          'ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==',
        ),
      ),
    ).toBe(1727964367);
    // A plain note signature (no timestamp) is not a cosignature.
    expect(() =>
      cosignatureTimestamp(
        lineOf(
          'eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=',
        ),
      ),
    ).toThrow(code('cosignature.malformed'));
  });

  it('signs "cosignature/v1\\ntime <t>\\n" + the whole seal body, and prefixes the timestamp', () => {
    const { note } = sealed();
    const body = parseNote(note).text;
    expect(new TextDecoder().decode(cosignedMessage(body, 1700000000))).toBe(
      `cosignature/v1\ntime 1700000000\n${body}`,
    );
    const witness = witnessSigner('portal-b.example/witness', nodeEd25519);
    const line = cosign(body, witness, 1700000000);
    expect(line.keyId).toBe(witness.verifierKey.keyId);
    expect(line.signature).toHaveLength(72);
    expect(Array.from(line.signature.subarray(0, 8))).toEqual([0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]);
    // Checked with the raw primitive on an independently built message.
    const message = utf8('cosignature/v1\ntime 1700000000\n' + body);
    expect(nobleEd25519.verify(witness.verifierKey.publicKey, message, line.signature.subarray(8))).toBe(
      true,
    );
  });

  it.each([
    ['node:crypto', nodeEd25519],
    ['@noble/curves', nobleEd25519],
  ])('appends to a seal, which still opens with the log key, and verifies (%s)', (_impl, ed25519) => {
    const { log, note } = sealed();
    const witness = witnessSigner('portal-b.example/witness', nodeEd25519);
    const cosigned = addCosignature(note, witness, 1763800001);
    expect(cosigned.startsWith(note)).toBe(true);
    expect(cosigned.split('\n').filter((l) => l.startsWith('— '))).toHaveLength(2);
    expect(openSeal(cosigned, log.signer.verifierKey, ed25519).seal.size).toBe(1);
    const parsed = parseNote(cosigned);
    expect(verifyCosignature(parsed.text, parsed.signatures[1]!, witness.verifierKey, ed25519)).toBe(
      1763800001,
    );
  });

  it('counts the distinct trusted cosigners and reports the trusted ones that fail', () => {
    const { note } = sealed();
    const [b, c, d, stranger] = ['b', 'c', 'd', 'stranger'].map((p) =>
      witnessSigner(`portal-${p}.example/witness`, nodeEd25519),
    );
    let cosigned = addCosignature(note, b!, 100);
    cosigned = addCosignature(cosigned, c!, 200);
    cosigned = addCosignature(cosigned, b!, 300); // the same witness twice counts once
    cosigned = addCosignature(cosigned, stranger!, 400); // not trusted: ignored
    const forged = cosign(parseNote(note).text, d!, 500);
    cosigned = addSignature(cosigned, {
      ...forged,
      signature: forged.signature.map((x, i) => (i === 20 ? x ^ 1 : x)),
    });
    const trusted = [b!, c!, d!, b!].map((w) => w.verifierKey);
    const report = findCosigners(cosigned, trusted, nodeEd25519);
    expect(report.valid.map((v) => [v.key.name, v.timestamp])).toEqual([
      ['portal-b.example/witness', 300],
      ['portal-c.example/witness', 200],
    ]);
    expect(report.invalid.map((i) => [i.key.name, i.error.code])).toEqual([
      ['portal-d.example/witness', 'cosignature.bad-signature'],
    ]);
    expect(countCosigners(cosigned, trusted, nodeEd25519)).toBe(2);
    expect(countCosigners(cosigned, [], nodeEd25519)).toBe(0);
  });

  it('does not count a cosignature over another body', () => {
    const { note } = sealed();
    const other = new LogFixture('portal-a.example/log', nodeEd25519);
    other.sealPart([sampleEntry(9)]);
    const witness = witnessSigner('portal-b.example/witness', nodeEd25519);
    const line = cosign(parseNote(other.sealPart([]).seal).text, witness, 1);
    const report = findCosigners(addSignature(note, line), [witness.verifierKey], nodeEd25519);
    expect(report.valid).toHaveLength(0);
    expect(report.invalid[0]?.error.code).toBe('cosignature.bad-signature');
  });

  it('keeps the log key and the witness key apart', () => {
    const { log, note } = sealed();
    const witness = witnessSigner('portal-b.example/witness', nodeEd25519);
    expect(witness.verifierKey.type).toBe(KEY_TYPE_COSIGNATURE_V1);
    expect(witness.verifierKey.text).toMatch(/\+[0-9a-f]{8}\+B[A-P]/);
    expect(() => cosign(parseNote(note).text, log.signer, 1)).toThrow(code('key.malformed'));
    expect(() => openNote(note, witness.verifierKey, nodeEd25519)).toThrow(code('key.malformed'));
    const parsed = parseNote(note);
    expect(() =>
      verifyCosignature(parsed.text, parsed.signatures[0]!, log.signer.verifierKey, nodeEd25519),
    ).toThrow(code('cosignature.malformed'));
    // A log-key signature line is not a cosignature even under a witness key of the same name.
    const sameName = witnessSigner('portal-a.example/log', nodeEd25519);
    expect(countCosigners(note, [sameName.verifierKey], nodeEd25519)).toBe(0);
  });
});
