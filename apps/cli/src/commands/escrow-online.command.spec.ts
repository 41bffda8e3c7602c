import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testHome } from '../../test/fake-gateway';

const FP = 'MBLJ-5I4B-OELU-RACJ-GRVW-H2RT-LGFO';
const CODE = 'AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA';

describe('mesh escrow online (issue #19 item 3)', () => {
  const home = testHome();

  it.each([
    [['escrow', 'online', 'add'], /missing required argument 'agent-key-file'/],
    [
      ['escrow', 'online', 'add', '/nonexistent/agent.json'],
      /cannot read agent key \/nonexistent\/agent\.json/,
    ],
    [['escrow', 'online', 'remove', 'not-a-udf'], /"not-a-udf" is not a key UDF/],
    [
      ['escrow', 'online', 'request', '--fingerprint', FP, '--code', CODE],
      /required option '--account <address>'/,
    ],
    [
      ['escrow', 'online', 'request', '--account', 'a@example.com', '--fingerprint', 'x', '--code', CODE],
      /--fingerprint "x" is not a UDF/,
    ],
    [
      [
        'escrow',
        'online',
        'request',
        '--account',
        'a@example.com',
        '--fingerprint',
        FP,
        '--code',
        'ABCD-EFGH',
      ],
      /this is not an escrow consent code/,
    ],
    [['escrow', 'online', 'restore', 'request.json'], /required option '--portal <url>'/],
  ])('%j is bad usage: exit 2 and a clear message', async (argv, message) => {
    const run = await home.mesh(argv);
    expect(run).toMatchObject({ code: 2, out: [] });
    expect(run.err).toMatch(message);
  });

  it('add refuses a private key or a signature key as the agent key before anything is sent', async () => {
    const agent = await home.mesh(['--json', 'escrow', 'online', 'agent-key']);
    expect(agent.code).toBe(0);
    const { key } = JSON.parse(agent.out[0]!) as { key: { kid: string } };
    const privateFile = join(home.dir(), 'keys', 'escrow-agent.json');
    const signing = join(home.dir(), 'signing.json');
    writeFileSync(signing, JSON.stringify({ ...key, crv: 'Ed25519' }));
    for (const [file, why] of [
      [privateFile, /not a JWK|private key/],
      [signing, /must be an X25519 key|not a JWK/],
    ] as const) {
      const run = await home.mesh(['escrow', 'online', 'add', file]);
      expect(run.code).toBe(2);
      expect(run.err).toMatch(why);
    }
  });

  it('agent-key draws the key once: a second call shows the same public key', async () => {
    const first = await home.mesh(['--json', 'escrow', 'online', 'agent-key']);
    const second = await home.mesh(['--json', 'escrow', 'online', 'agent-key']);
    expect(JSON.parse(second.out[0]!)).toEqual(JSON.parse(first.out[0]!));
  });

  it('a request signs with the code and keeps the restore key; open refuses a package to another key', async () => {
    const run = await home.mesh([
      '--json',
      'escrow',
      'online',
      'request',
      '--account',
      'Alice@Example.com',
      '--fingerprint',
      FP,
      '--code',
      CODE,
    ]);
    expect(run.code).toBe(0);
    const { request } = JSON.parse(run.out[0]!) as { request: { payload: string } };
    expect(JSON.parse(Buffer.from(request.payload, 'base64url').toString())).toMatchObject({
      Type: 'MeshEscrowRestore',
      Account: 'alice@example.com',
      Fingerprint: FP,
    });
    const bogus = join(home.dir(), 'package.txt');
    writeFileSync(bogus, 'eyJub3QiOiJhIEpXRSJ9\n');
    // A package that does not decrypt is refused before the Master Profile is read (no portal runs here).
    const opened = await home.mesh([
      '--json',
      'escrow',
      'online',
      'open',
      bogus,
      '--portal',
      'http://127.0.0.1:9',
    ]);
    expect(opened.code).toBe(2);
    expect(JSON.parse(opened.out[0]!)).toMatchObject({
      error: { code: 'usage.invalid', check: 'restore package' },
    });
  });
});
