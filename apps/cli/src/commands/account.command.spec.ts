import { testHome } from '../../test/fake-gateway';

describe('mesh account', () => {
  const home = testHome();

  it.each([
    [['account', 'delete'], /cannot be undone: confirm it with --yes/],
    [['account', 'delete', 'extra', '--yes'], /too many arguments/],
    [['account', 'remove', '--yes'], /unknown command 'remove'/],
  ])('%j is bad usage: exit 2, a clear message, nothing sent', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run).toMatchObject({ code: 2, out: [] });
    expect(run.err).toMatch(message);
  });

  it('delete --yes on a home without a profile: state.missing, exit 1', async () => {
    const run = await home.mesh(['account', 'delete', '--yes']);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^mesh: no profile\.json: .*\[state\.missing\]$/m);
  });
});
