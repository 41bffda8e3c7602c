import { ACCOUNT, ADMIN, countingRandom, PHONE, STRANGER } from '../test/fixtures';
import {
  buildDeviceProfile,
  CONNECT_NONCE_BYTES,
  connectNonce,
  connectWitness,
  readConnectNonce,
} from '@cryptomesh/mesh';

describe('the device-connection witness (issue #14, hole 1)', () => {
  it('is the same for both devices, and changes with the account, the device keys and the nonce', async () => {
    const phone = (
      await buildDeviceProfile({ encryption: PHONE.encryption, description: 'phone' }, PHONE.signature)
    ).profile;
    const attacker = (
      await buildDeviceProfile({ encryption: STRANGER.encryption, description: 'phone' }, STRANGER.signature)
    ).profile;
    // Same signature key, another encryption key: what the administrator would encrypt to differs.
    const reKeyed = (
      await buildDeviceProfile({ encryption: ADMIN.encryption, description: 'phone' }, PHONE.signature)
    ).profile;
    const random = countingRandom(7);
    const nonce = connectNonce(random);
    const witness = connectWitness(ACCOUNT, phone, nonce);
    expect(witness).toMatch(/^[A-Z2-7]{4}(-[A-Z2-7]{4}){4}$/);
    expect(connectWitness(ACCOUNT, { ...phone, description: 'renamed' }, nonce)).toBe(witness);
    for (const other of [
      connectWitness('MA2G-OTHER', phone, nonce),
      connectWitness(ACCOUNT, attacker, nonce),
      connectWitness(ACCOUNT, reKeyed, nonce),
      connectWitness(ACCOUNT, phone, connectNonce(random)),
    ])
      expect(other).not.toBe(witness);
  });

  it.each([
    ['absent', undefined],
    ['not base64url', '!!!!'],
    ['too short', 'AAAA'],
    ['17 bytes', 'A'.repeat(23)],
  ])('refuses a nonce that is %s with connect.bad-nonce', (_name, nonce) => {
    expect(() => readConnectNonce(nonce)).toThrow(
      expect.objectContaining({ code: 'connect.bad-nonce' }) as Error,
    );
  });

  it('draws CONNECT_NONCE_BYTES bytes', () => {
    expect(readConnectNonce(connectNonce(countingRandom()))).toHaveLength(
      Math.ceil((CONNECT_NONCE_BYTES * 4) / 3),
    );
  });
});
