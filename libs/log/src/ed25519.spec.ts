import { nobleEd25519, nodeEd25519 } from '@cryptomesh/crypto/eddsa';
import type { SignatureScheme } from '@cryptomesh/crypto/signature-scheme';
import type { Ed25519 } from './ed25519';
import { makeNoteSigner } from './note-signer';
import { KEY_TYPE_ED25519 } from './verifier-key';
import { seedFrom } from '../testdata/log-fixture';

describe('the Ed25519 port', () => {
  it('is satisfied by both @cryptomesh/crypto implementations, which sign and judge alike', () => {
    const schemes: readonly [string, Ed25519][] = [
      ['node:crypto', nodeEd25519 satisfies SignatureScheme],
      ['@noble/curves', nobleEd25519],
    ];
    const signatures = schemes.map(([, ed]) =>
      makeNoteSigner('k', KEY_TYPE_ED25519, seedFrom('x'), ed).sign(Uint8Array.of(1, 2)),
    );
    expect(signatures[0]).toEqual(signatures[1]);
    const publicKey = nodeEd25519.publicKeyOf(seedFrom('x'));
    for (const [, ed] of schemes) {
      expect(ed.verify(publicKey, Uint8Array.of(1, 2), signatures[0]!)).toBe(true);
      expect(ed.verify(publicKey, Uint8Array.of(1, 3), signatures[0]!)).toBe(false);
      expect(ed.verify(publicKey, Uint8Array.of(1, 2), signatures[0]!.subarray(1))).toBe(false);
    }
  });
});
