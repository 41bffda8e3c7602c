import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogFixture, sampleEntry, type FixturePart } from '../../../../libs/log/testdata/log-fixture';
import { runCaptured, type CapturedRun } from '../../test/run-captured';

const ORIGIN = 'portal-a.example/log';

const mesh = (...argv: string[]): Promise<CapturedRun> => runCaptured(argv);

/** Writes an export as docs/log-export.md lays it out. */
function writeExport(dir: string, fixture: LogFixture, parts: readonly FixturePart[]): void {
  mkdirSync(join(dir, 'parts'), { recursive: true });
  writeFileSync(join(dir, 'verifier-key.txt'), `${fixture.signer.verifierKey.text}\n`);
  parts.forEach((part, n) => {
    writeFileSync(join(dir, 'parts', `${n}.note`), part.seal);
    writeFileSync(
      join(dir, 'parts', `${n}.entries.jsonl`),
      Buffer.concat(part.entries.flatMap((e) => [e, Buffer.from('\n')])),
    );
  });
}

describe('mesh log verify', () => {
  let dir: string;
  let fixture: LogFixture;
  let parts: FixturePart[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mesh-log-'));
    fixture = new LogFixture(ORIGIN, nodeEd25519);
    let next = 0;
    parts = [3, 0, 250, 7].map((n) => fixture.sealPart(Array.from({ length: n }, () => sampleEntry(next++))));
    writeExport(dir, fixture, parts);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies a valid export against a pinned key (exit 0)', async () => {
    const r = await mesh('log', 'verify', '--key', fixture.signer.verifierKey.text, dir);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`OK verified 4 parts, 260 entries of ${ORIGIN}`);
    expect(r.out[1]).toMatch(/^head {2}part 3, size 260, root [A-Za-z0-9+/]{43}=$/);
    expect(r.err).toEqual([]);
  });

  it("falls back to the export's key file and says so", async () => {
    const r = await mesh('log', 'verify', dir);
    expect(r.code).toBe(0);
    expect(r.err[0]).toContain('trusting the key in');
  });

  it('reads entries across stream chunks (a part larger than the read buffer)', async () => {
    const big = fixture.sealPart(Array.from({ length: 5000 }, (_, i) => sampleEntry(260 + i)));
    writeExport(dir, fixture, [...parts, big]);
    const r = await mesh('log', 'verify', dir);
    expect(r.out[0]).toBe(`OK verified 5 parts, 5260 entries of ${ORIGIN}`);
  });

  it('fails with the first violation and what was expected and seen (exit 1)', async () => {
    const lines = parts[2]!.entries.map((e) => Buffer.from(e).toString());
    [lines[10], lines[11]] = [lines[11]!, lines[10]!];
    writeFileSync(join(dir, 'parts', '2.entries.jsonl'), lines.map((l) => `${l}\n`).join(''));
    const r = await mesh('log', 'verify', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('verified 2 parts before the failure');
    expect(r.err.at(-1)).toMatch(
      /^FAIL part 2: verify\.part-digest: .*; expected [A-Za-z0-9+/]{43}=; seen [A-Za-z0-9+/]{43}=$/,
    );
  });

  it.each([
    [
      'a seal by another key',
      (d: string) =>
        writeFileSync(
          join(d, 'parts', '1.note'),
          new LogFixture(ORIGIN, nodeEd25519, {}).sealPart([]).seal.replace(ORIGIN + ' ', 'x '),
        ),
      'note.unknown-key',
    ],
    ['a missing seal file', (d: string) => unlinkSync(join(d, 'parts', '1.note')), 'verify.gap'],
    [
      'a missing entries file',
      (d: string) => unlinkSync(join(d, 'parts', '3.entries.jsonl')),
      'entries.jsonl is missing',
    ],
    [
      'an entries file without its final newline',
      (d: string) =>
        writeFileSync(
          join(d, 'parts', '0.entries.jsonl'),
          Buffer.from(parts[0]!.entries.map((e) => Buffer.from(e).toString()).join('\n')),
        ),
      'does not end with a newline',
    ],
    [
      'an extra entry',
      (d: string) =>
        appendFileSync(join(d, 'parts', '3.entries.jsonl'), `${Buffer.from(sampleEntry(999)).toString()}\n`),
      'verify.size',
    ],
    [
      'a seal that is not UTF-8',
      (d: string) => writeFileSync(join(d, 'parts', '2.note'), Buffer.from([0xff, 0x0a])),
      'note.malformed',
    ],
    [
      'a seal whose time was changed',
      (d: string) => writeFileSync(join(d, 'parts', '3.note'), parts[3]!.seal.replace('time 1', 'time 2')),
      'note.bad-signature',
    ],
  ])('fails on %s (exit 1)', async (_why, damage, reason) => {
    damage(dir);
    const r = await mesh('log', 'verify', '--key', fixture.signer.verifierKey.text, dir);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain(reason);
  });

  it('rejects bad usage with exit 2', async () => {
    expect((await mesh('log', 'verify', join(dir, 'nope'))).code).toBe(2);
    expect((await mesh('log', 'verify', '--key', 'not-a-key', dir)).code).toBe(2);
    expect((await mesh('log', 'verify')).code).toBe(2);
    rmSync(join(dir, 'verifier-key.txt'));
    const r = await mesh('log', 'verify', dir);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('no --key given');
  });
});
