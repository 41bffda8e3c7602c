import * as index from './index';
import * as portable from './portable';

describe('the entry points', () => {
  it('export the same things, except that index adds the node:crypto schemes and hashes', () => {
    expect(Object.keys(index).sort()).toEqual(
      [...Object.keys(portable), 'inThreadVerdicts', 'nodeEd25519', 'nodeEd448', 'nodeSha2'].sort(),
    );
  });

  it('keep the signature scheme names other libraries depend on', () => {
    for (const scheme of [index.nodeEd25519, index.nodeEd448, index.nobleEd25519, index.nobleEd448]) {
      expect(typeof scheme.sign).toBe('function');
      expect(typeof scheme.verify).toBe('function');
      expect(typeof scheme.publicKeyOf).toBe('function');
    }
  });
});
