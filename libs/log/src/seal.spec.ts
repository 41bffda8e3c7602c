import { createHash } from 'node:crypto';
import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import { LogFixture, sampleEntry } from '../testdata/log-fixture';
import { toBase64, toHex } from './bytes';
import { GENESIS_CHAIN, nextChain } from './chain';
import { formatCheckpoint, parseCheckpoint } from './checkpoint';
import { EMPTY_ROOT } from './tree-hasher';
import { formatSealBody, openSeal, parseSealBody, signSeal } from './seal';
import { signNote } from './signed-note';
import { withCode as code } from '../testdata/with-code';
import type { LogErrorCode } from './log-error';

const ORIGIN = 'portal.example/log';

function fixtureSeal() {
  const log = new LogFixture(ORIGIN, nodeEd25519);
  log.sealPart([sampleEntry(0), sampleEntry(1), sampleEntry(2)]);
  return { log, part: log.sealPart([sampleEntry(3), sampleEntry(4)]) };
}

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  it('parses the C2SP example body', () => {
    const cp = parseCheckpoint(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
    expect(cp).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163, extensions: [] });
    expect(formatCheckpoint(cp)).toBe(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
  });

  const root = toBase64(EMPTY_ROOT);
  it.each([
    ['two lines', `o\n0\n`],
    ['no final newline', `o\n0\n${root}`],
    ['an empty line', `o\n0\n${root}\n\next\n`],
    ['a size with a leading zero', `o\n00\n${root}\n`],
    ['a signed size', `o\n+1\n${root}\n`],
    ['a size above 2^53', `o\n9007199254740993\n${root}\n`],
    ['a root in bad base64', `o\n0\n${root.replace('=', '!')}\n`],
    ['a short root', `o\n0\n${toBase64(new Uint8Array(31))}\n`],
  ])('rejects a body with %s as checkpoint.malformed', (_why, body) => {
    expect(() => parseCheckpoint(body)).toThrow(code('checkpoint.malformed'));
  });

  it('rejects another origin with checkpoint.origin', () => {
    expect(() => parseCheckpoint(`other.example\n0\n${root}\n`, ORIGIN)).toThrow(code('checkpoint.origin'));
  });
});

describe('the part chain', () => {
  it('starts from 32 zero bytes and is SHA-256(chain_{n-1} ‖ partDigest_n)', () => {
    expect(GENESIS_CHAIN).toEqual(new Uint8Array(32));
    const digest = new Uint8Array(32).fill(7);
    const expected = createHash('sha256').update(GENESIS_CHAIN).update(digest).digest('hex');
    expect(toHex(nextChain(GENESIS_CHAIN, digest))).toBe(expected);
  });
});

describe('seals (DESIGN.md "The log")', () => {
  it('is a checkpoint with part, chain and time lines, signed by the log key', () => {
    const { log, part } = fixtureSeal();
    const lines = part.seal.split('\n');
    expect(lines[0]).toBe(ORIGIN);
    expect(lines[1]).toBe('5');
    expect(lines[3]).toMatch(/^part 1 3 [A-Za-z0-9+/]{43}=$/);
    expect(lines[4]).toMatch(/^chain [A-Za-z0-9+/]{43}=$/);
    expect(lines[5]).toBe(`time ${part.value.timeMs}`);
    expect(lines[6]).toBe('');
    expect(lines[7]).toMatch(new RegExp(`^— ${ORIGIN} [A-Za-z0-9+/]{91}=$`));
    expect(lines).toHaveLength(9);
    const opened = openSeal(part.seal, log.signer.verifierKey, nobleEd25519);
    expect(opened.seal).toEqual(part.value);
    expect(formatSealBody(opened.seal)).toBe(opened.note.text);
  });

  it('signs identically through node:crypto and @noble/curves', () => {
    const { part } = fixtureSeal();
    const noble = new LogFixture(ORIGIN, nobleEd25519);
    expect(signSeal(part.value, noble.signer)).toBe(part.seal);
  });

  const valid = (() => formatSealBody(fixtureSeal().part.value))();
  const [o, size, root, partLine, chainLine, timeLine] = valid.slice(0, -1).split('\n') as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const body = (...lines: string[]): string => lines.map((l) => `${l}\n`).join('');
  const digest = partLine.split(' ')[3]!;

  it.each<[string, string, LogErrorCode]>([
    ['an unknown keyword', body(o, size, root, partLine, chainLine, 'tyme 5'), 'seal.bad-extension'],
    ['an extension before part', body(o, size, root, chainLine, partLine, timeLine), 'seal.bad-extension'],
    [
      'a fourth extension',
      body(o, size, root, partLine, chainLine, timeLine, 'note hi'),
      'seal.bad-extension',
    ],
    ['a repeated extension', body(o, size, root, partLine, partLine, timeLine), 'seal.bad-extension'],
    [
      'an extension keyword in capitals',
      body(o, size, root, 'Part' + partLine.slice(4), chainLine, timeLine),
      'seal.bad-extension',
    ],
    ['no time line', body(o, size, root, partLine, chainLine), 'seal.malformed'],
    ['no extension lines', body(o, size, root), 'seal.malformed'],
    [
      'a part line with three fields',
      body(o, size, root, `part 1 ${digest}`, chainLine, timeLine),
      'seal.malformed',
    ],
    [
      'a double space',
      body(o, size, root, partLine.replace(' ', '  '), chainLine, timeLine),
      'seal.malformed',
    ],
    [
      'a part index with a leading zero',
      body(o, size, root, partLine.replace('part 1', 'part 01'), chainLine, timeLine),
      'seal.malformed',
    ],
    [
      'a first entry after the tree size',
      body(o, size, root, partLine.replace(' 3 ', ' 6 '), chainLine, timeLine),
      'seal.malformed',
    ],
    [
      'a short part digest',
      body(o, size, root, `part 1 3 ${toBase64(new Uint8Array(31))}`, chainLine, timeLine),
      'seal.malformed',
    ],
    ['a chain in bad base64', body(o, size, root, partLine, 'chain ****', timeLine), 'seal.malformed'],
    ['a negative time', body(o, size, root, partLine, chainLine, 'time -5'), 'seal.malformed'],
    [
      'a time with a trailing field',
      body(o, size, root, partLine, chainLine, `${timeLine} ms`),
      'seal.malformed',
    ],
    [
      'a size with a leading zero',
      body(o, `0${size}`, root, partLine, chainLine, timeLine),
      'checkpoint.malformed',
    ],
    [
      'another origin',
      body('other.example/log', size, root, partLine, chainLine, timeLine),
      'checkpoint.origin',
    ],
  ])('rejects a body with %s (%s)', (_why, text, expected) => {
    expect(() => parseSealBody(text, ORIGIN)).toThrow(code(expected));
    // The same body, validly signed, fails the same way once the signature has been checked.
    const { log } = fixtureSeal();
    expect(() => openSeal(signNote(text, log.signer), log.signer.verifierKey, nodeEd25519)).toThrow(
      code(expected),
    );
  });

  it('checks the signature before reading the body', () => {
    const { log, part } = fixtureSeal();
    const tampered = part.seal.replace(`time ${part.value.timeMs}`, 'tyme 1');
    expect(() => openSeal(tampered, log.signer.verifierKey, nodeEd25519)).toThrow(code('note.bad-signature'));
  });
});
