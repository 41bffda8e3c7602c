import { testHome } from '../../test/fake-gateway';

const SHARES = ['SAYC-UW4N-56UI-VTTZ-62UN-J6FP-ETD3-O', 'SAY6-OXXE-SUNL-KUMX-3ZG6-TRDW-UDAK-Y'];

describe('mesh escrow', () => {
  const home = testHome();

  it.each([
    [['escrow', 'create', '--shares', '3'], /required option '--threshold <k>'/],
    [['escrow', 'create', '--threshold', '2'], /required option '--shares <n>'/],
    [
      ['escrow', 'create', '--threshold', 'two', '--shares', '3'],
      /--threshold must be a whole number, got "two"/,
    ],
    [['escrow', 'create', '--threshold', '1', '--shares', '3'], /--threshold must be from 2 to 15, got 1/],
    [['escrow', 'create', '--threshold', '2', '--shares', '17'], /--shares must be from 2 to 16, got 17/],
    [
      ['escrow', 'create', '--threshold', '4', '--shares', '3'],
      /--shares \(3\) must be at least --threshold \(4\)/,
    ],
    [['escrow', 'recover', '--portal', 'https://p.example'], /missing required argument 'share'/],
    [['escrow', 'recover', ...SHARES], /required option '--portal <url>'/],
    [['escrow', 'recover', 'not-a-share', '--portal', 'https://p.example'], /"not-a-share" is not a share/],
    [['escrow', 'recover', ...SHARES, '--portal', 'p.example'], /--portal must be a URL/],
  ])('%j is bad usage: exit 2 and a clear message', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run).toMatchObject({ code: 2, out: [] });
    expect(run.err).toMatch(message);
  });

  it('create on a home without a profile: state.missing, exit 1', async () => {
    const run = await home.mesh(['escrow', 'create', '--threshold', '2', '--shares', '3']);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/\[state\.missing\]$/m);
  });

  it('recover refuses shares that do not make an escrow key before asking the portal (usage.invalid)', async () => {
    // The UDF draft's example shares: they combine, but into a 128-bit secret.
    const run = await home.mesh(['--json', 'escrow', 'recover', ...SHARES, '--portal', 'https://p.example']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.out[0]!)).toMatchObject({
      error: { code: 'usage.invalid', check: 'escrow shares' },
    });
  });
});
