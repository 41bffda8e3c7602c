import { nodeEd25519 } from '@cryptomesh/crypto';
import { formatCheckpoint } from './checkpoint';
import { isLogError } from './log-error';
import { MerkleTree } from './merkle-tree';
import { makeNoteSigner } from './note-signer';
import { signNote } from './signed-note';
import { KEY_TYPE_ED25519 } from './verifier-key';
import {
  checkAddCheckpoint,
  formatAddCheckpoint,
  parseAddCheckpoint,
  type WitnessedCheckpoint,
} from './witness-request';

// C2SP tlog-witness "add-checkpoint": the checks in the spec's order, on plain inputs.
const ORIGIN = 'log.example/a';
const signer = makeNoteSigner(ORIGIN, KEY_TYPE_ED25519, new Uint8Array(32).fill(7), nodeEd25519);
const other = makeNoteSigner(ORIGIN, KEY_TYPE_ED25519, new Uint8Array(32).fill(8), nodeEd25519);
const tree = new MerkleTree();
for (let i = 0; i < 20; i++) tree.append(new Uint8Array([i]));
const checkpoint = (size: number, by = signer) =>
  signNote(formatCheckpoint({ origin: ORIGIN, size, root: tree.rootAt(size), extensions: [] }), by);
const known = (origin: string) => (origin === ORIGIN ? signer.verifierKey : undefined);

async function codeOf(body: string, latest?: WitnessedCheckpoint): Promise<string> {
  try {
    await checkAddCheckpoint(parseAddCheckpoint(body), known, () => Promise.resolve(latest), nodeEd25519);
    return 'accepted';
  } catch (error) {
    if (isLogError(error)) return error.code;
    throw error;
  }
}

describe('add-checkpoint requests (C2SP tlog-witness)', () => {
  const at8: WitnessedCheckpoint = { size: 8, root: tree.rootAt(8) };

  it('round-trips the request body', () => {
    const request = { oldSize: 8, proof: tree.consistencyProof(8, 20), checkpoint: checkpoint(20) };
    expect(parseAddCheckpoint(formatAddCheckpoint(request))).toEqual(request);
  });

  it.each([
    [
      'accepts the first checkpoint (old 0)',
      (): string => formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: checkpoint(8) }),
      undefined,
      'accepted',
    ],
    [
      'accepts a consistent one',
      () =>
        formatAddCheckpoint({ oldSize: 8, proof: tree.consistencyProof(8, 20), checkpoint: checkpoint(20) }),
      at8,
      'accepted',
    ],
    [
      'accepts the same one again',
      (): string => formatAddCheckpoint({ oldSize: 8, proof: [], checkpoint: checkpoint(8) }),
      at8,
      'accepted',
    ],
    [
      'refuses a stale old size',
      (): string => formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: checkpoint(20) }),
      at8,
      'witness.stale',
    ],
    [
      'refuses a bad proof',
      () =>
        formatAddCheckpoint({
          oldSize: 8,
          proof: tree.consistencyProof(8, 20).slice(1),
          checkpoint: checkpoint(20),
        }),
      at8,
      'witness.bad-proof',
    ],
    [
      'refuses a proof from 0',
      (): string => formatAddCheckpoint({ oldSize: 0, proof: [tree.rootAt(1)], checkpoint: checkpoint(8) }),
      undefined,
      'witness.bad-proof',
    ],
    [
      'refuses another root at the same size',
      (): string => formatAddCheckpoint({ oldSize: 8, proof: [], checkpoint: checkpoint(8) }),
      { size: 8, root: tree.rootAt(7) },
      'witness.conflict',
    ],
    [
      'refuses a roll-back (old above size)',
      (): string => formatAddCheckpoint({ oldSize: 8, proof: [], checkpoint: checkpoint(5) }),
      at8,
      'witness.malformed',
    ],
    [
      'refuses an unknown key',
      () =>
        formatAddCheckpoint({
          oldSize: 8,
          proof: tree.consistencyProof(8, 20),
          checkpoint: checkpoint(20, other),
        }),
      at8,
      'witness.unknown-key',
    ],
    ['refuses garbage', (): string => 'hello\n', undefined, 'witness.malformed'],
    [
      'refuses a size with a leading zero',
      (): string => `old 08\n\n${checkpoint(8)}`,
      undefined,
      'witness.malformed',
    ],
    ['refuses a short hash line', () => `old 8\nAAAA\n\n${checkpoint(20)}`, at8, 'witness.malformed'],
    [
      'refuses 64 proof lines',
      (): string => `old 8\n${`${'A'.repeat(43)}=\n`.repeat(64)}\n${checkpoint(20)}`,
      at8,
      'witness.malformed',
    ],
  ] as const)('%s', async (_name, body, latest, code) => {
    expect(await codeOf(body(), latest)).toBe(code);
  });

  it('refuses an unknown origin with witness.unknown-log', async () => {
    const stranger = makeNoteSigner(
      'log.example/b',
      KEY_TYPE_ED25519,
      new Uint8Array(32).fill(9),
      nodeEd25519,
    );
    const note = signNote(
      formatCheckpoint({ origin: 'log.example/b', size: 1, root: tree.rootAt(1), extensions: [] }),
      stranger,
    );
    expect(await codeOf(formatAddCheckpoint({ oldSize: 0, proof: [], checkpoint: note }))).toBe(
      'witness.unknown-log',
    );
  });

  it('says the latest size on witness.stale', async () => {
    const request = parseAddCheckpoint(
      formatAddCheckpoint({ oldSize: 3, proof: [], checkpoint: checkpoint(20) }),
    );
    await expect(
      checkAddCheckpoint(request, known, () => Promise.resolve(at8), nodeEd25519),
    ).rejects.toMatchObject({
      code: 'witness.stale',
      expected: '8',
    });
  });
});
