import { testHome } from '../../test/fake-gateway';

describe('mesh portal', () => {
  const home = testHome();

  it.each([
    [['portal', 'switch'], /missing required argument 'url'/],
    [['portal', 'switch', 'elsewhere'], /<url> must be a URL, got "elsewhere"/],
    [['portal', 'switch', 'https://b.example', '--query', 'q'], /--query must be a URL/],
    [['portal', 'switch', 'https://b.example', 'https://c.example'], /too many arguments/],
    [['portal', 'move', 'https://b.example'], /unknown command 'move'/],
  ])('%j is bad usage: exit 2 and a clear message', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run).toMatchObject({ code: 2, out: [] });
    expect(run.err).toMatch(message);
  });

  it('switch on a home without a profile: state.missing, exit 1', async () => {
    const run = await home.mesh(['portal', 'switch', 'https://b.example']);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^mesh: no profile\.json: .*\[state\.missing\]$/m);
  });
});
