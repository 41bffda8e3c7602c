/**
 * The `ClientStore` port (docs/design/client.md "State"): where the SDK keeps its local state — the
 * profile, the device's keys, the pinned trust and the last checkpoint seen of each log. Defined here,
 * by the code that consumes it; the `mesh` CLI provides `FileClientStore(MESH_HOME)`, tests and browsers
 * use `MemoryClientStore`.
 *
 * Names are `/`-separated relative paths (`trust.json`, `checkpoints/<log id>.json`, `keys/device.json`).
 */
export interface ClientStore {
  /** The UTF-8 document `name`, or undefined when absent. MUST NOT throw for an absent document. */
  read(name: string): Promise<string | undefined>;
  /**
   * Replaces the document `name` with `text`. MUST be atomic: a concurrent or later `read` sees either
   * the old document or the new one, never a mix, even after a crash. With `secret`, the document MUST
   * be readable only by its owner (the file store: mode 0600 in a 0700 directory).
   */
  write(name: string, text: string, options?: { secret?: boolean }): Promise<void>;
  /** Removes the document `name`. MUST succeed when it is already absent. */
  remove(name: string): Promise<void>;
  /** The names of the documents whose name starts with `prefix`, sorted. MAY be empty. */
  list(prefix: string): Promise<string[]>;
}

/** A ClientStore in memory: for tests and for browsers (which persist it elsewhere if they wish). */
export class MemoryClientStore implements ClientStore {
  /** The documents by name; `secret` remembers which were written as secrets (tests inspect it). */
  readonly documents = new Map<string, { text: string; secret: boolean }>();

  read(name: string): Promise<string | undefined> {
    return Promise.resolve(this.documents.get(name)?.text);
  }

  write(name: string, text: string, options?: { secret?: boolean }): Promise<void> {
    this.documents.set(name, { text, secret: options?.secret === true });
    return Promise.resolve();
  }

  remove(name: string): Promise<void> {
    this.documents.delete(name);
    return Promise.resolve();
  }

  list(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.documents.keys()].filter((name) => name.startsWith(prefix)).sort());
  }
}
