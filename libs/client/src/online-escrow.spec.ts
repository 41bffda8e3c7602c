import {
  decryptJwe,
  generateKeyPair,
  jweRecipientIds,
  keyUdf,
  privateJwk,
  publicJwk,
} from '@cryptomesh/crypto/portable';
import { applicationProfileId, buildMasterProfile, buildPersonalProfile, profileKey } from '@cryptomesh/mesh';
import { nextPersonalInput, sealApplication } from './application-data';
import { generateDeviceKeys, generateMasterKey } from './device-keys';
import { checkAgentKey, readAgentPublicKey } from './online-escrow';

/**
 * Online escrow's write path (issue #19 item 3, 000 §6.5.2): with an agent named, an application's
 * private data is a JWE to the devices AND the agent's key, "as if it was another device"; without
 * one (never named, or removed), to the devices only.
 */
describe('online escrow: applications encrypted to the agent', () => {
  it('adds the escrow key as one more recipient, and only when given', async () => {
    const device = generateDeviceKeys();
    const master = await buildMasterProfile(
      { administrators: [device.signature], created: 1 },
      generateMasterKey(),
    );
    const bare = await buildPersonalProfile(
      { master: master.profile.id, sequence: 0, devices: [device] },
      device.signature,
    );
    const id = applicationProfileId(bare.profile.id, 'password', 'default');
    const personal = (
      await buildPersonalProfile(
        nextPersonalInput(bare.profile, {
          applications: [{ id, type: 'password', signers: [device.signature] }],
        }),
        device.signature,
      )
    ).profile;
    const agent = generateKeyPair('X25519');
    const content = { type: 'password', name: 'default', private: { secret: 'horse' } };
    const deviceUdf = keyUdf('X25519', device.encryption.publicKey);
    const agentUdf = keyUdf('X25519', agent.publicKey);

    const escrowed = await sealApplication(personal, content, device, profileKey(agent, 'encryption'));
    expect(jweRecipientIds(escrowed.profile.private).sort()).toEqual([deviceUdf, agentUdf].sort());
    const byAgent = await decryptJwe(escrowed.profile.private, agent);
    expect(JSON.parse(new TextDecoder().decode(byAgent))).toEqual({ secret: 'horse' });

    const plain = await sealApplication(personal, content, device);
    expect(jweRecipientIds(plain.profile.private)).toEqual([deviceUdf]);
    await expect(decryptJwe(plain.profile.private, agent)).rejects.toMatchObject({
      code: 'jwe.no-recipient',
    });
  });

  it("an agent key that is a device's key is that one recipient, not a write that fails (#19 item 3 review)", async () => {
    const device = generateDeviceKeys();
    const master = await buildMasterProfile(
      { administrators: [device.signature], created: 1 },
      generateMasterKey(),
    );
    const bare = await buildPersonalProfile(
      { master: master.profile.id, sequence: 0, devices: [device] },
      device.signature,
    );
    const id = applicationProfileId(bare.profile.id, 'password', 'default');
    const personal = (
      await buildPersonalProfile(
        nextPersonalInput(bare.profile, {
          applications: [{ id, type: 'password', signers: [device.signature] }],
        }),
        device.signature,
      )
    ).profile;
    const content = { type: 'password', name: 'default', private: { secret: 'horse' } };
    const sealed = await sealApplication(
      personal,
      content,
      device,
      profileKey(device.encryption, 'encryption'),
    );
    expect(jweRecipientIds(sealed.profile.private)).toEqual([keyUdf('X25519', device.encryption.publicKey)]);
  });

  it('refuses an agent key nothing can be encrypted to (a small-order point), before anything is published', async () => {
    await expect(checkAgentKey(generateKeyPair('X25519'))).resolves.toBeUndefined();
    for (const first of [0, 1]) {
      const publicKey = new Uint8Array(32);
      publicKey[0] = first;
      await expect(checkAgentKey({ algorithm: 'X25519', publicKey })).rejects.toMatchObject({
        code: 'usage.invalid',
        check: 'agent key',
      });
    }
  });

  it("reads an agent's public X25519 JWK; refuses a private key and a signature key", () => {
    const agent = generateKeyPair('X25519');
    expect(readAgentPublicKey(publicJwk('X25519', agent.publicKey)).publicKey).toEqual(agent.publicKey);
    const signing = generateKeyPair('Ed25519');
    for (const [jwk, why] of [
      [privateJwk(agent), /private key/],
      [publicJwk('Ed25519', signing.publicKey), /must be an X25519 key/],
      [{ kty: 'RSA' }, /not a JWK/],
    ] as const)
      expect(() => readAgentPublicKey(jwk)).toThrow(why);
  });
});
