import { testHome } from '../../test/fake-gateway';

/** The argument checks of `mesh contact|message|task|confirm|catalog` (issue #20), before any portal. */
describe('mesh contact, message, task, confirm, catalog', () => {
  const home = testHome();

  it.each([
    [['contact', 'add'], /missing required argument 'address'/],
    [['contact', 'request'], /missing required argument 'address'/],
    [['contact', 'befriend', 'a@b.example'], /unknown command 'befriend'/],
    [['message', 'send', 'bob@beta.example'], /missing required argument 'text'/],
    [['message', 'read', 'short'], /is not an item id/],
    [['task', 'send', 'bob@beta.example', ''], /the title must not be empty/],
    [['task', 'send', 'bob@beta.example', 'Review', '--start', 'tomorrow'], /--start must be an ISO 8601/],
    [['task', 'send', 'bob@beta.example', 'Review', '--end', '2026-13-45'], /--end must be an ISO 8601/],
    [['confirm', 'answer', 'AAAAAAAAAAAAAAAAAAAAAA', 'maybe'], /the answer is yes or no/],
    [['confirm', 'status', 'not-an-id'], /is not an item id/],
    [['catalog', 'put', 'diary', 'k', '{}'], /the catalog is one of contact, application, credential/],
    [['catalog', 'put', 'contact', 'bob@beta.example', '{}'], /contacts are written with `mesh contact/],
    [['catalog', 'put', 'credential', 'bank.example', '[1]'], /the value must be a JSON object/],
    [['catalog', 'put', 'credential', 'bank.example', '{"Username":"al"}'], /a credential is/],
    [['catalog', 'get', 'credential', ''], /the key is 1–1000 characters/],
  ])('%j is bad usage: exit 2 and a clear message', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run).toMatchObject({ code: 2, out: [] });
    expect(run.err).toMatch(message);
  });

  it("takes an id that starts with '-' after --, and says so when it is given without", async () => {
    const id = '-Wq5ANi5dQuXmymztd_PpQ';
    const bare = await home.mesh(['confirm', 'answer', id, 'no']);
    expect(bare).toMatchObject({ code: 2, out: [] });
    expect(bare.err).toMatch(/unknown option '-Wq5ANi5dQuXmymztd_PpQ'/);
    expect(bare.err).toMatch(/if -Wq5ANi5dQuXmymztd_PpQ is an id, put -- before it/);
    // After --, the id reaches the command: its answer is checked, then the home, which has no profile.
    expect((await home.mesh(['confirm', 'answer', '--', id, 'maybe'])).err).toMatch(
      /the answer is yes or no/,
    );
    const run = await home.mesh(['--json', 'confirm', 'answer', '--', id, 'no']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out[0]!)).toMatchObject({ error: { code: 'state.missing' } });
  });

  it.each([
    ['contact', 'list'],
    ['message', 'list'],
    ['confirm', 'pending'],
    ['catalog', 'list', 'credential'],
  ])('%s %s on a home without a profile: state.missing, exit 1', async (...argv) => {
    const run = await home.mesh(['--json', ...argv]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out[0]!)).toMatchObject({ error: { code: 'state.missing' } });
  });
});
