import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isClientError } from '@cryptomesh/client';
import { FileClientStore, resolveMeshHome } from './file-client-store';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('FileClientStore', () => {
  let root: string;
  let home: string;
  let store: FileClientStore;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mesh-store-'));
    home = join(root, 'home');
    store = new FileClientStore(home);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads back what it wrote, and undefined for an absent document', async () => {
    expect(await store.read('profile.json')).toBeUndefined();
    await store.write('profile.json', '{"a":1}\n');
    await store.write('checkpoints/alpha.json', '{"size":3}');
    expect(await store.read('profile.json')).toBe('{"a":1}\n');
    expect(await store.read('checkpoints/alpha.json')).toBe('{"size":3}');
    expect(await store.read('checkpoints/beta.json')).toBeUndefined();
    expect(await store.read('nothing/here.json')).toBeUndefined();
  });

  it('replaces a document atomically: the new text whole, no temporary file left behind', async () => {
    await store.write('trust.json', 'old');
    await store.write('trust.json', 'new and longer');
    expect(await store.read('trust.json')).toBe('new and longer');
    expect(readdirSync(home)).toEqual(['trust.json']);
  });

  it('leaves no temporary file when the rename fails, and the other documents whole', async () => {
    await store.write('apps/password.json', 'old');
    // A non-empty directory where the document should go: rename(2) cannot replace it.
    await store.write('apps/slot/inner.json', 'x');
    await expect(store.write('apps/slot', 'y')).rejects.toThrow();
    expect(await store.read('apps/password.json')).toBe('old');
    expect(readdirSync(join(home, 'apps')).sort()).toEqual(['password.json', 'slot']);
  });

  it('never shows a concurrent reader a mix of two writes', async () => {
    const versions = ['a'.repeat(200_000), 'b'.repeat(300_000), 'c'.repeat(100_000)];
    await store.write('trust.json', versions[0]!);
    const seen = new Set<string | undefined>();
    const writes = Promise.all(
      versions.flatMap((v) => [store.write('trust.json', v), store.write('trust.json', v)]),
    );
    for (let i = 0; i < 30; i++) seen.add(await store.read('trust.json'));
    await writes;
    for (const text of seen) expect(versions).toContain(text);
    expect(readdirSync(home)).toEqual(['trust.json']);
  });

  it('writes secrets with mode 0600 in 0700 directories', async () => {
    await store.write('keys/device.json', '{"d":"secret"}', { secret: true });
    await store.write('profile.json', '{}');
    expect(mode(join(home, 'keys', 'device.json'))).toBe(0o600);
    expect(mode(join(home, 'keys'))).toBe(0o700);
    expect(mode(home)).toBe(0o700);
    expect(mode(join(home, 'profile.json')) & 0o077 & ~0o044).toBe(0); // not writable by others
  });

  it('makes a replaced document secret, and tightens a home that was created open', async () => {
    const open = join(root, 'open');
    const loose = new FileClientStore(open);
    await loose.write('keys/master.json', 'public for now');
    chmodSync(open, 0o755);
    chmodSync(join(open, 'keys'), 0o755);
    await loose.write('keys/master.json', 'now secret', { secret: true });
    expect(mode(join(open, 'keys', 'master.json'))).toBe(0o600);
    expect(mode(join(open, 'keys'))).toBe(0o700);
    expect(mode(open)).toBe(0o700);
  });

  it.each([
    ['../x'],
    ['keys/../../x'],
    ['/etc/passwd'],
    [''],
    ['a//b'],
    ['./a'],
    ['a\\b'],
    ['a\0b'],
    ['apps/.password.json.0123456789abcdef.tmp'],
  ])('refuses the name %j (usage.invalid) and touches nothing', async (name) => {
    for (const attempt of [() => store.write(name, 'x'), () => store.read(name), () => store.remove(name)]) {
      const error: unknown = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isClientError(error, 'usage.invalid')).toBe(true);
    }
    expect(() => statSync(join(root, 'x'))).toThrow();
    expect(() => statSync(home)).toThrow();
  });

  it('removes a document, and succeeds when it is already absent', async () => {
    await store.write('apps/password.json', 'x');
    await store.remove('apps/password.json');
    await store.remove('apps/password.json');
    await store.remove('never/written.json');
    expect(await store.read('apps/password.json')).toBeUndefined();
  });

  it('lists the names under a prefix, sorted, with / separators, ignoring temporary files', async () => {
    expect(await store.list('')).toEqual([]);
    await store.write('profile.json', '1');
    await store.write('checkpoints/beta.json', '2');
    await store.write('checkpoints/alpha.json', '3');
    await store.write('keys/device.json', '4', { secret: true });
    writeFileSync(join(home, 'checkpoints', '.alpha.json.0123456789abcdef.tmp'), 'crashed');
    expect(await store.list('checkpoints/')).toEqual(['checkpoints/alpha.json', 'checkpoints/beta.json']);
    expect(await store.list('checkpoints/a')).toEqual(['checkpoints/alpha.json']);
    expect(await store.list('apps/')).toEqual([]);
    expect(await store.list('')).toEqual([
      'checkpoints/alpha.json',
      'checkpoints/beta.json',
      'keys/device.json',
      'profile.json',
    ]);
    expect(await store.list('pro')).toEqual(['profile.json']);
    await expect(store.list('../')).rejects.toMatchObject({ code: 'usage.invalid' });
  });
});

describe('resolveMeshHome', () => {
  it('prefers --home, then MESH_HOME, then ~/.mesh, made absolute', () => {
    expect(resolveMeshHome('/tmp/a', { MESH_HOME: '/tmp/b' })).toBe('/tmp/a');
    expect(resolveMeshHome(undefined, { MESH_HOME: '/tmp/b' })).toBe('/tmp/b');
    expect(resolveMeshHome(undefined, { MESH_HOME: '' })).toBe(join(homedir(), '.mesh'));
    expect(resolveMeshHome(undefined, {})).toBe(join(homedir(), '.mesh'));
    expect(resolveMeshHome('rel', {})).toBe(join(process.cwd(), 'rel'));
  });
});
