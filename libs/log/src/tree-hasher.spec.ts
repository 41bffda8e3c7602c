import { createHash } from 'node:crypto';
import fc from 'fast-check';
import vectors from '../testdata/rfc6962-vectors.json';
import { fromHex, toHex } from './bytes';
import { MerkleTree } from './merkle-tree';
import { hashChildren, hashLeaf, installSha256, sha256Of } from './tree-hasher';

/** Another SHA-256 — OpenSSL's, as a server installs it (issue #17). */
const openssl = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());

describe('tree hashes with an installed SHA-256 (issue #17)', () => {
  afterEach(() => installSha256(undefined));

  it('give the RFC 6962 known answers', () => {
    installSha256(openssl);
    const tree = new MerkleTree();
    const leaves = vectors.leaves.map(fromHex);
    for (const { size, root } of vectors.roots) {
      while (tree.size < size) tree.append(leaves[tree.size]!);
      expect(toHex(tree.root())).toBe(root);
    }
    for (const { index, size, path } of vectors.inclusion)
      expect(tree.inclusionProof(index, size).map(toHex)).toEqual(path);
  });

  it('are the portable ones, for any leaf and any pair of children', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1_500 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (entry, pair) => {
          const left = pair.subarray(0, 32);
          const right = pair.subarray(32);
          const portable = [hashLeaf(entry), hashChildren(left, right), sha256Of(entry)].map(toHex);
          installSha256(openssl);
          const installed = [hashLeaf(entry), hashChildren(left, right), sha256Of(entry)].map(toHex);
          installSha256(undefined);
          return installed.join() === portable.join();
        },
      ),
      { numRuns: 300 },
    );
  });
});
