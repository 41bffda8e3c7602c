import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { addCosignature, addSignature, cosign, parseNote, signNote } from '@cryptomesh/log';
import { LogFixture, sampleEntry, witnessSigner } from '../../../../libs/log/testdata/log-fixture';
import { runCaptured, type CapturedRun } from '../../test/run-captured';

const ORIGIN = 'portal-a.example/log';

const mesh = (argv: string[], stdin = ''): Promise<CapturedRun> => runCaptured(argv, { stdin });

describe('mesh note verify', () => {
  let dir: string;
  const fixture = new LogFixture(ORIGIN, nodeEd25519);
  fixture.sealPart([sampleEntry(0), sampleEntry(1)]);
  const part = fixture.sealPart([sampleEntry(2)]);
  const key = fixture.signer.verifierKey.text;
  const [b, c, d] = ['b', 'c', 'd'].map((p) => witnessSigner(`portal-${p}.example/witness`, nodeEd25519));
  const cosigned = addCosignature(addCosignature(part.seal, b!, 1763800100), c!, 1763800200);

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mesh-note-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('prints the verified fields of a seal (exit 0)', async () => {
    const r = await mesh(['note', 'verify', '--key', key, file('seal.note', part.seal)]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      `OK signed by ${key}`,
      `origin    ${ORIGIN}`,
      'size      3',
      expect.stringMatching(/^root {6}[A-Za-z0-9+/]{43}=$/),
      expect.stringMatching(/^part {6}1 \[2, 3\) digest [A-Za-z0-9+/]{43}=$/),
      expect.stringMatching(/^chain {5}[A-Za-z0-9+/]{43}=$/),
      `time      ${part.value.timeMs} (${new Date(part.value.timeMs).toISOString()})`,
      'cosigners 0 of 0 trusted',
    ]);
  });

  it('lists the valid cosigners among the --witness keys, from standard input', async () => {
    const witnesses = [b, c, d].flatMap((w) => ['--witness', w!.verifierKey.text]);
    const r = await mesh(['note', 'verify', '--key', key, ...witnesses, '--quorum', '2', '-'], cosigned);
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.startsWith('cosigned'))).toEqual([
      `cosigned  ${b!.verifierKey.text} at 1763800100 (${new Date(1763800100_000).toISOString()})`,
      `cosigned  ${c!.verifierKey.text} at 1763800200 (${new Date(1763800200_000).toISOString()})`,
    ]);
    expect(r.out.at(-1)).toBe('cosigners 2 of 3 trusted');
  });

  it('fails below the quorum, and on a bad cosignature from a trusted witness (exit 1)', async () => {
    const witnesses = [b, c, d].flatMap((w) => ['--witness', w!.verifierKey.text]);
    expect(
      (await mesh(['note', 'verify', '--key', key, ...witnesses, '--quorum', '3', '-'], cosigned)).code,
    ).toBe(1);
    const line = cosign(parseNote(part.seal).text, d!, 5);
    const forged = addSignature(cosigned, {
      ...line,
      signature: line.signature.map((x, i) => (i === 9 ? x ^ 4 : x)),
    });
    const r = await mesh(['note', 'verify', '--key', key, ...witnesses, '-'], forged);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('cosignature.bad-signature');
  });

  it('verifies a plain checkpoint (no Mesh extension lines)', async () => {
    const note = signNote(`${ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`, fixture.signer);
    const r = await mesh(['note', 'verify', '--key', key, '-'], note);
    expect(r.code).toBe(0);
    expect(r.out).toContain('size      0');
  });

  it.each([
    ['a tampered body', () => part.seal.replace(/^time \d+$/m, 'time 1'), 'note.bad-signature'],
    [
      'another origin',
      () => signNote(parseNote(part.seal).text.replace(ORIGIN, 'evil.example/log'), fixture.signer),
      'checkpoint.origin',
    ],
    [
      'an unknown extension',
      () => signNote(parseNote(part.seal).text.replace('chain ', 'chayn '), fixture.signer),
      'seal.bad-extension',
    ],
    ['a hyphen for the em dash', () => part.seal.replace('— ', '- '), 'note.malformed'],
    [
      'no signature from the key',
      () => signNote(parseNote(part.seal).text, new LogFixture('other.example/log', nodeEd25519).signer),
      'note.unknown-key',
    ],
  ])('fails on %s with the reason (exit 1)', async (_why, note, reason) => {
    const r = await mesh(['note', 'verify', '--key', key, '-'], note());
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(reason);
  });

  it('rejects bad usage with exit 2', async () => {
    expect((await mesh(['note', 'verify', file('s', part.seal)])).code).toBe(2);
    expect((await mesh(['note', 'verify', '--key', 'x+00000000+AA==', file('s', part.seal)])).code).toBe(2);
    expect((await mesh(['note', 'verify', '--key', b!.verifierKey.text, file('s', part.seal)])).code).toBe(2);
    expect((await mesh(['note', 'verify', '--key', key, '--witness', key, file('s', part.seal)])).code).toBe(
      2,
    );
    expect((await mesh(['note', 'verify', '--key', key, join(dir, 'missing')])).code).toBe(2);
    expect(
      (await mesh(['note', 'verify', '--key', key, '--quorum', 'many', file('s', part.seal)])).code,
    ).toBe(2);
  });
});
