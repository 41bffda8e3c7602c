import { testHome } from '../../test/fake-gateway';

describe('mesh password', () => {
  const home = testHome();

  it.each([
    [['password', 'add', 'example.com'], /required option '--username <name>'/],
    [['password', 'add', '--username', 'alice'], /missing required argument 'site'/],
    [['password', 'add', 'example.com', '--username', ''], /--username must not be empty/],
    [
      ['password', 'add', 'example.com', '--username', 'alice', '--password', ''],
      /the password must not be empty/,
    ],
    [['password', 'get'], /missing required argument 'site'/],
    [['password', 'remove'], /missing required argument 'site'/],
    [['password', 'get', 'a.com', 'b.com'], /too many arguments/],
    [['password', 'list', 'a.com'], /too many arguments/],
    [['password', 'show', 'a.com'], /unknown command 'show'/],
  ])('%j is bad usage: exit 2 and a clear message', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run).toMatchObject({ code: 2, out: [] });
    expect(run.err).toMatch(message);
  });

  it('add without --password reads the first line of standard input', async () => {
    const empty = await home.mesh(['password', 'add', 'example.com', '--username', 'alice']);
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/no --password given and standard input is empty/);
    const blank = await home.mesh(['password', 'add', 'example.com', '--username', 'alice'], {
      stdin: '\nmore\n',
    });
    expect(blank.code).toBe(2);
    expect(blank.err).toMatch(/the password must not be empty/);
    // A password was read: the command goes on to the profile, which this home does not hold.
    const read = await home.mesh(['password', 'add', 'example.com', '--username', 'alice'], {
      stdin: 'correct horse\r\n',
    });
    expect(read.code).toBe(1);
    expect(read.err).toMatch(/\[state\.missing\]$/m);
  });

  it.each([['get', 'example.com'], ['list'], ['remove', 'example.com']])(
    'password %s on a home without a profile: state.missing, exit 1',
    async (...argv) => {
      const run = await home.mesh(['--json', 'password', ...argv]);
      expect(run.code).toBe(1);
      expect(JSON.parse(run.out[0]!)).toMatchObject({ error: { code: 'state.missing' } });
    },
  );
});
