import { nodeEd25519 } from '@cryptomesh/crypto';
import { signKeyTransition, type NoteSigner } from '@cryptomesh/log';
import { LogFixture, logSigner, sampleEntry } from '../../log/testdata/log-fixture';
import { openWithKeyChain } from './log-key-chain';

const ORIGIN = 'alpha.test/log';
const OLD = logSigner(ORIGIN, nodeEd25519);
const NEXT = logSigner(ORIGIN, nodeEd25519, 'next');
const ROGUE = logSigner(ORIGIN, nodeEd25519, 'rogue');

/** Part 0 by the old key, part 1 closed by the transition (old key), part 2 by `part2Key`. */
function rotated(transitionBy: NoteSigner = OLD, part2Key: NoteSigner = NEXT) {
  const fixture = new LogFixture(ORIGIN, nodeEd25519);
  const p0 = fixture.sealPart([sampleEntry(0)]);
  const transition = signKeyTransition({
    origin: ORIGIN,
    oldKey: transitionBy,
    nextKey: NEXT,
    part: 1,
    size: 3,
  });
  const p1 = fixture.sealPart([sampleEntry(1), transition]);
  fixture.signer = part2Key;
  const p2 = fixture.sealPart([sampleEntry(2)]);
  return { p0, p1, p2, transition };
}

describe('openWithKeyChain (a client that pinned a rotated key)', () => {
  it('opens a pinned-key checkpoint with no request, and a new-key one through the transitions', async () => {
    const { p0, p1, p2, transition } = rotated();
    const none = () => Promise.reject(new Error('no request expected'));
    expect((await openWithKeyChain(p0.seal, OLD.verifierKey, ORIGIN, none)).size).toBe(1);
    expect((await openWithKeyChain(p1.seal, OLD.verifierKey, ORIGIN, none)).size).toBe(3);
    const seal = await openWithKeyChain(p2.seal, OLD.verifierKey, ORIGIN, () =>
      Promise.resolve([transition]),
    );
    expect(seal.part.index).toBe(2);
  });

  it('refuses a new-key checkpoint without a transition to that key, or through a forged one', async () => {
    const { p2 } = rotated();
    await expect(
      openWithKeyChain(p2.seal, OLD.verifierKey, ORIGIN, () => Promise.resolve([])),
    ).rejects.toMatchObject({
      code: 'note.unknown-key',
    });
    const forged = rotated(ROGUE);
    await expect(
      openWithKeyChain(forged.p2.seal, OLD.verifierKey, ORIGIN, () => Promise.resolve([forged.transition])),
    ).rejects.toMatchObject({ code: 'verify.transition' });
  });

  it('refuses the next key signing the transition part itself (it seals only after it)', async () => {
    const fixture = new LogFixture(ORIGIN, nodeEd25519);
    fixture.sealPart([sampleEntry(0)]);
    const transition = signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: NEXT, part: 1, size: 3 });
    fixture.signer = NEXT;
    const early = fixture.sealPart([sampleEntry(1), transition]);
    await expect(
      openWithKeyChain(early.seal, OLD.verifierKey, ORIGIN, () => Promise.resolve([transition])),
    ).rejects.toMatchObject({ code: 'verify.retired-key' });
  });

  it('#19 item 4 review: after accepting a new-key checkpoint, an old-key one for a later part is refused', async () => {
    const { p1, p2, transition } = rotated();
    // The old key (say, stolen: the reason for the rotation) seals a part after its transition.
    const rogue = new LogFixture(ORIGIN, nodeEd25519);
    rogue.sealPart([sampleEntry(0)]);
    rogue.sealPart([sampleEntry(1), transition]);
    const late = rogue.sealPart([sampleEntry(7)]);
    const list = () => Promise.resolve([transition]);
    // Never having seen the rotation, the client takes it (the quorum is what catches it then).
    expect((await openWithKeyChain(late.seal, OLD.verifierKey, ORIGIN, list, p1.seal)).part.index).toBe(2);
    // Having accepted the new key's checkpoint, it does not go back to the retired key.
    await expect(openWithKeyChain(late.seal, OLD.verifierKey, ORIGIN, list, p2.seal)).rejects.toMatchObject({
      code: 'verify.retired-key',
    });
    await expect(
      openWithKeyChain(late.seal, OLD.verifierKey, ORIGIN, () => Promise.resolve([]), p2.seal),
    ).rejects.toMatchObject({ code: 'verify.retired-key' });
    // The old key's checkpoints up to its transition still open.
    expect((await openWithKeyChain(p1.seal, OLD.verifierKey, ORIGIN, list, p2.seal)).size).toBe(3);
  });

  it('#19 item 4 review: a list that omits the transition to the remembered key cannot roll back to a retired one', async () => {
    const THIRD = logSigner(ORIGIN, nodeEd25519, 'third');
    const fixture = new LogFixture(ORIGIN, nodeEd25519);
    fixture.sealPart([sampleEntry(0)]);
    const first = signKeyTransition({ origin: ORIGIN, oldKey: OLD, nextKey: NEXT, part: 1, size: 3 });
    fixture.sealPart([sampleEntry(1), first]);
    fixture.signer = NEXT;
    const second = signKeyTransition({ origin: ORIGIN, oldKey: NEXT, nextKey: THIRD, part: 2, size: 5 });
    fixture.sealPart([sampleEntry(2), second]);
    fixture.signer = THIRD;
    const p3 = fixture.sealPart([sampleEntry(3)]);
    // The retired NEXT key seals a part after its transition; the portal lists only the first one.
    const rogue = new LogFixture(ORIGIN, nodeEd25519);
    rogue.sealPart([sampleEntry(0)]);
    rogue.sealPart([sampleEntry(1), first]);
    rogue.signer = NEXT;
    rogue.sealPart([sampleEntry(2), second]);
    const late = rogue.sealPart([sampleEntry(9)]);
    const both = () => Promise.resolve([first, second]);
    expect((await openWithKeyChain(p3.seal, OLD.verifierKey, ORIGIN, both, p3.seal)).part.index).toBe(3);
    await expect(openWithKeyChain(late.seal, OLD.verifierKey, ORIGIN, both, p3.seal)).rejects.toMatchObject({
      code: 'verify.retired-key',
    });
    await expect(
      openWithKeyChain(late.seal, OLD.verifierKey, ORIGIN, () => Promise.resolve([first]), p3.seal),
    ).rejects.toMatchObject({ code: 'verify.transition' });
  });
});
