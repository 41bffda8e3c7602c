import fc from 'fast-check';
import { toHex, utf8 } from './bytes';
import { contentDigestUdf } from './index';
import { nodeSha2 } from './sha2-node';
import { installSha2, nobleSha2, sha2 } from './sha2-port';

/** FIPS 180-4 examples (NIST CSRC "Example Values"): "abc" and the empty string. */
const VECTORS = [
  {
    input: 'abc',
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    sha512:
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
  },
  {
    input: '',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    sha512:
      'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
  },
];

describe('the SHA-2 port (issue #17)', () => {
  afterEach(() => installSha2(nobleSha2));

  it.each([nobleSha2, nodeSha2])('$name gives the FIPS 180-4 answers', (impl) => {
    for (const v of VECTORS) {
      expect(toHex(impl.sha256(utf8(v.input)))).toBe(v.sha256);
      expect(toHex(impl.sha512(utf8(v.input)))).toBe(v.sha512);
    }
  });

  it('OpenSSL and @noble/hashes agree on any input, each digest a fresh array of its own', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2_000 }), (data) => {
        const a = nodeSha2.sha256(data);
        const b = nodeSha2.sha512(data);
        return (
          toHex(a) === toHex(nobleSha2.sha256(data)) &&
          toHex(b) === toHex(nobleSha2.sha512(data)) &&
          a.byteOffset === 0 &&
          a.buffer.byteLength === 32 &&
          b.buffer.byteLength === 64
        );
      }),
      { numRuns: 300 },
    );
  });

  it('the installed implementation hashes the fingerprints, with the same results', () => {
    const data = utf8('a fingerprint is the same whoever hashes it');
    const portable = contentDigestUdf(data, 'text/plain');
    installSha2(nodeSha2);
    expect(sha2().name).toBe('node:crypto');
    expect(contentDigestUdf(data, 'text/plain')).toBe(portable);
  });
});
