import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { ClientError, type ClientStore } from '@cryptomesh/client';

/** Mode of every directory the store creates: only the owner may list or enter it. */
const DIRECTORY_MODE = 0o700;
/** Mode of a secret document (`{ secret: true }`): only the owner may read it. */
const SECRET_MODE = 0o600;
/** Mode of any other document (before the umask): public profiles, trust, checkpoints. */
const DOCUMENT_MODE = 0o644;

/** A temporary file of an atomic write: `.<name>.<hex>.tmp`, next to the document it will replace. */
const TEMPORARY = /^\..*\.[0-9a-f]{16}\.tmp$/;

/**
 * `MESH_HOME` (docs/design/client.md "The `mesh` commands"): `--home`, else the environment's
 * `MESH_HOME`, else `~/.mesh`; made absolute against the working directory.
 */
export function resolveMeshHome(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
) {
  const chosen = option ?? (env.MESH_HOME === undefined || env.MESH_HOME === '' ? undefined : env.MESH_HOME);
  return resolve(chosen ?? join(homedir(), '.mesh'));
}

/**
 * The SDK's `ClientStore` port on a directory (MESH_HOME). Guarantees:
 * - a name is a `/`-separated relative path confined to the home: an absolute name, an empty
 *   segment, `.`, `..`, a backslash or a NUL is refused with ClientError `usage.invalid` before any
 *   file is touched;
 * - `write` is atomic: the text goes to a temporary file in the document's own directory, is
 *   fsynced, then renamed over the document (rename(2) replaces atomically within a file system),
 *   and the directory is fsynced so that the rename survives a crash. A crash leaves the old
 *   document or the new one, never a mix, and at worst a stray `.<name>.<hex>.tmp` that `list`
 *   ignores and the next write of that name does not reuse;
 * - secrets are created with mode 0600, and every directory from the home to them is 0700; every
 *   directory the store creates is 0700;
 * - `read` of an absent document resolves to undefined, `remove` of one succeeds.
 * Not safe against two processes writing the same name at once: the last rename wins (each is still
 * a whole document). File-system errors other than "absent" propagate as they are.
 */
export class FileClientStore implements ClientStore {
  readonly homeDir: string;

  constructor(homeDir: string) {
    this.homeDir = resolve(homeDir);
  }

  async read(name: string): Promise<string | undefined> {
    const path = this.pathOf(name);
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw error;
    }
  }

  async write(name: string, text: string, options?: { secret?: boolean }): Promise<void> {
    const path = this.pathOf(name);
    const directory = dirname(path);
    await mkdir(directory, { recursive: true, mode: DIRECTORY_MODE });
    const secret = options?.secret === true;
    if (secret) await this.tightenDirectories(directory);
    const base = path.slice(directory.length + 1);
    const temporary = join(directory, `.${base}.${randomBytes(8).toString('hex')}.tmp`);
    const file = await open(temporary, 'wx', secret ? SECRET_MODE : DOCUMENT_MODE);
    try {
      // The umask cannot loosen 0600, but an explicit chmod makes the mode independent of it.
      if (secret) await file.chmod(SECRET_MODE);
      await file.writeFile(text, 'utf8');
      await file.sync();
    } catch (error) {
      await file.close();
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await file.close();
    // Commit point: before the rename a crash leaves the old document (and the temporary file);
    // after it, the new one.
    try {
      await rename(temporary, path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await syncDirectory(directory);
  }

  async remove(name: string): Promise<void> {
    const path = this.pathOf(name);
    try {
      await unlink(path);
    } catch (error) {
      if (isAbsent(error)) return;
      throw error;
    }
    await syncDirectory(dirname(path));
  }

  async list(prefix: string): Promise<string[]> {
    if (prefix.includes('\\') || prefix.includes('\0') || prefix.startsWith('/'))
      throw refused(prefix, 'a prefix is a relative, /-separated name');
    // Walk only the directory the prefix names (`apps/` → apps, `checkpoints/ab` → checkpoints).
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    if (folder !== '') this.pathOf(folder);
    const names: string[] = [];
    await walk(join(this.homeDir, ...(folder === '' ? [] : folder.split('/'))), folder, names);
    return names.filter((name) => name.startsWith(prefix)).sort();
  }

  /** The file of document `name`, or ClientError `usage.invalid` when the name leaves the home. */
  private pathOf(name: string): string {
    if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0'))
      throw refused(name, 'a name is a non-empty relative path with / separators');
    for (const segment of name.split('/')) {
      if (segment === '' || segment === '.' || segment === '..')
        throw refused(name, 'empty, "." and ".." segments are not allowed');
      if (TEMPORARY.test(segment)) throw refused(name, 'the name of a temporary file');
    }
    const path = join(this.homeDir, ...name.split('/'));
    // Defence in depth: the checks above already confine the path.
    if (!path.startsWith(this.homeDir + sep)) throw refused(name, 'it is outside the home');
    return path;
  }

  /** chmod 0700 every directory from the home down to `directory` (a secret's parent). */
  private async tightenDirectories(directory: string): Promise<void> {
    const relative = directory.slice(this.homeDir.length).split(sep).filter(Boolean);
    let current = this.homeDir;
    await chmod(current, DIRECTORY_MODE);
    for (const segment of relative) {
      current = join(current, segment);
      await chmod(current, DIRECTORY_MODE);
    }
  }
}

function refused(name: string, why: string): ClientError {
  return new ClientError('usage.invalid', `the store refuses the name ${JSON.stringify(name)}: ${why}`, {
    check: 'store name',
  });
}

function isAbsent(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** fsync a directory so that a rename or unlink in it is durable; a platform that refuses is ignored. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

async function walk(directory: string, name: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if (isAbsent(error)) return;
    throw error;
  }
  for (const entry of entries) {
    if (TEMPORARY.test(entry.name)) continue;
    const child = name === '' ? entry.name : `${name}/${entry.name}`;
    if (entry.isDirectory()) await walk(join(directory, entry.name), child, out);
    else if (entry.isFile()) out.push(child);
  }
}
