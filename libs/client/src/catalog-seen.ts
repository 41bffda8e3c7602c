import type { CatalogName } from '@cryptomesh/mesh';
import { ClientError } from './client-error';
import type { ClientStore } from './client-store';

/** The store document of the Sequences seen (docs/design/client.md "State"). */
export const CATALOG_SEEN_DOCUMENT = 'catalog/seen.json';

/**
 * The highest `Sequence` this device accepted (or wrote) of each catalog object of one account, kept
 * in the client store: a portal that serves an older value it once held, or hides an object this
 * device saw, is caught (docs/design/inbound.md "Catalog objects": "a Sequence that must grow per
 * object keeps the portal from replaying an older value"). A document of another account (the home
 * was reused) is ignored and replaced. Every `put` writes the document at once (atomic in the store).
 */
export class CatalogSeen {
  private cache: Map<string, number> | undefined;

  constructor(
    private readonly store: ClientStore,
    private readonly account: string,
  ) {}

  /** The highest Sequence seen of (catalog, id); 0 when never seen. */
  async get(catalog: CatalogName, id: string): Promise<number> {
    return (await this.load()).get(`${catalog}/${id}`) ?? 0;
  }

  /** The Ids seen of `catalog`. */
  async ids(catalog: CatalogName): Promise<string[]> {
    const prefix = `${catalog}/`;
    return [...(await this.load()).keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length));
  }

  /** Raises the remembered Sequence of (catalog, id) to `sequence` (never lowers it). */
  async put(catalog: CatalogName, id: string, sequence: number): Promise<void> {
    const seen = await this.load();
    const key = `${catalog}/${id}`;
    if ((seen.get(key) ?? 0) >= sequence) return;
    seen.set(key, sequence);
    await this.save(seen);
  }

  /**
   * Forgets every object of `catalog` that is not in `listed` (a move whose catalogs were lost,
   * catalog-move.ts: the user is told); how many it forgot.
   */
  async forgetAllBut(catalog: CatalogName, listed: ReadonlySet<string>): Promise<number> {
    const seen = await this.load();
    const gone = (await this.ids(catalog)).filter((id) => !listed.has(id));
    if (gone.length === 0) return 0;
    for (const id of gone) seen.delete(`${catalog}/${id}`);
    await this.save(seen);
    return gone.length;
  }

  private async save(seen: Map<string, number>): Promise<void> {
    await this.store.write(
      CATALOG_SEEN_DOCUMENT,
      JSON.stringify({ account: this.account, objects: Object.fromEntries([...seen].sort()) }),
    );
  }

  private async load(): Promise<Map<string, number>> {
    if (this.cache !== undefined) return this.cache;
    const text = await this.store.read(CATALOG_SEEN_DOCUMENT);
    const seen = new Map<string, number>();
    if (text !== undefined) {
      let parsed: { account?: unknown; objects?: unknown };
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch (cause) {
        throw new ClientError('state.corrupt', `${CATALOG_SEEN_DOCUMENT} is not JSON`, {
          check: 'catalog',
          cause,
        });
      }
      if (parsed.account === this.account && typeof parsed.objects === 'object' && parsed.objects !== null)
        for (const [key, value] of Object.entries(parsed.objects))
          if (Number.isSafeInteger(value)) seen.set(key, value as number);
    }
    this.cache = seen;
    return seen;
  }
}
