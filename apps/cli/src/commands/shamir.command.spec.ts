import vectors from '../../../../libs/crypto/testdata/shamir.json';
import { runCaptured } from '../../test/run-captured';

/** Runs `mesh` in-process with captured streams. */
async function mesh(argv: string[]) {
  const run = await runCaptured(argv);
  return { ...run, err: run.err.join('\n') };
}

function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [item, ...rest]));
}

const [alice, intro] = vectors.vectors as [
  (typeof vectors.vectors)[0] & { coefficients: string[] },
  (typeof vectors.vectors)[1],
];

describe('mesh shamir', () => {
  for (const v of [alice, intro]) {
    it.each(subsets(v.shares, v.threshold))(
      `recover prints the secret of ${v.source.split('(')[0]} from %s + …`,
      async (...shares) => {
        expect(await mesh(['shamir', 'recover', ...shares])).toEqual({
          code: 0,
          out: [v.secretHex],
          err: '',
        });
      },
    );
  }

  it('split reproduces the §4.5 shares given the same coefficients (random source injected)', async () => {
    const draws = alice.coefficients
      .slice(1)
      .map((a) => new Uint8Array(Buffer.from(BigInt(a).toString(16).padStart(32, '0'), 'hex')));
    const random = (n: number): Uint8Array => {
      const next = draws.shift();
      if (next === undefined || next.length !== n) throw new Error('unexpected draw');
      return next;
    };
    const { code, out } = await runCaptured(
      ['shamir', 'split', '--threshold', '3', '--shares', '5', alice.secretHex],
      { random },
    );
    expect(code).toBe(0);
    expect(out).toEqual(alice.shares);
  });

  it('split prints N shares, one per line, that recover the secret', async () => {
    const secret = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    const split = await mesh(['shamir', 'split', '--threshold', '4', '--shares', '7', secret]);
    expect(split.code).toBe(0);
    expect(split.out).toHaveLength(7);
    for (const line of split.out) expect(line).toMatch(/^S[A-Z2-7]{3}(-[A-Z2-7]{1,4})+$/);
    expect((await mesh(['shamir', 'recover', ...split.out.slice(3)])).out).toEqual([secret]);
    const short = await mesh(['shamir', 'recover', ...split.out.slice(4)]);
    expect(short.code).toBe(2);
    expect(short.err).toMatch(/\[shamir\.too-few-shares\]/);
  });

  it.each<[string, string[], RegExp]>([
    [
      'a secret that is not hex',
      ['shamir', 'split', '--threshold', '2', '--shares', '3', 'xyz1'],
      /hexadecimal/,
    ],
    [
      'a 24-bit secret',
      ['shamir', 'split', '--threshold', '2', '--shares', '3', 'abcdef'],
      /\[shamir\.bad-secret\]/,
    ],
    [
      'threshold 1',
      ['shamir', 'split', '--threshold', '1', '--shares', '3', 'abcdef01'],
      /\[shamir\.bad-parameters\]/,
    ],
    [
      'more than 16 shares',
      ['shamir', 'split', '--threshold', '2', '--shares', '17', 'abcdef01'],
      /\[shamir\.bad-parameters\]/,
    ],
    [
      'a threshold that is not a number',
      ['shamir', 'split', '--threshold', 'two', '--shares', '3', 'abcdef01'],
      /--threshold must be a whole number/,
    ],
    ['no --shares', ['shamir', 'split', '--threshold', '2', 'abcdef01'], /--shares/],
    ['no shares to recover from', ['shamir', 'recover'], /share/],
    ['too few shares', ['shamir', 'recover', ...alice.shares.slice(0, 2)], /\[shamir\.too-few-shares\]/],
    [
      'a duplicate share',
      ['shamir', 'recover', ...alice.shares.slice(0, 2), alice.shares[0] as string],
      /\[shamir\.duplicate-share\]/,
    ],
    [
      'shares of two secrets',
      ['shamir', 'recover', ...alice.shares.slice(0, 2), intro.shares[0] as string],
      /\[shamir\.inconsistent-shares\]/,
    ],
    [
      'a share that is not one',
      ['shamir', 'recover', ...alice.shares.slice(0, 2), 'MDDK-7N6A-727A-JZNO-STRX-XKS7-DJAF'],
      /\[shamir\.malformed-share\]/,
    ],
  ])('exits 2 with a message for %s', async (_what, argv, message) => {
    const result = await mesh(argv);
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err).toMatch(message);
  });
});
