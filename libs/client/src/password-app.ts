import type { JsonObject } from '@cryptomesh/mesh';
import { ClientError } from './client-error';
import type { MeshProfileManager } from './profile-manager';

/** The application type of the password manager's Application Profile (002 §4.4). */
export const PASSWORD_APPLICATION = 'password';

/** One entry of the password manager (002 §4.4: the domain(s), username and password, all required). */
export interface PasswordEntry {
  /** The sites (domains) the entry is for, normalised: trimmed, lower case. The first names it. */
  readonly sites: readonly string[];
  readonly username: string;
  readonly password: string;
  /** When it was last written, Unix milliseconds, by the writing device's clock. */
  readonly updated: number;
}

/**
 * The password manager (002 §4.4) as one Application Profile of type `password`: nothing public; its
 * private part, `{"Entries": [{"Sites", "Username", "Password", "Updated"}]}`, is a JWE to every device
 * the Personal Profile authorises for it — every connected device (application-data.ts). Each change
 * reads the current profile, changes one entry and publishes the whole (Publish update), encrypted to
 * the devices connected at that moment: a device accepted later can read it once accepted (accept
 * re-encrypts), a device removed earlier cannot read what is written after its removal.
 *
 * The first `add` of a profile sets the application up, which takes an administrator device. Two
 * devices changing entries at the same moment: the last write wins (Publish has no compare-and-swap).
 * Errors: `usage.invalid` for an empty site, username or password; `state.missing` for a site without an entry;
 * `state.missing` on a device that is not (or no longer) one of the data's recipients; otherwise the
 * profile manager's (`portal.*`, `verify.*`).
 */
export class PasswordApp {
  private readonly name: string;
  private readonly now: () => number;

  constructor(
    private readonly manager: MeshProfileManager,
    options: { readonly name?: string; readonly now?: () => number } = {},
  ) {
    this.name = options.name ?? 'default';
    this.now = options.now ?? (() => Date.now());
  }

  /** Stores (or replaces) the entry of `site`. Resolves with what was stored. */
  async add(site: string, credentials: { username: string; password: string }): Promise<PasswordEntry> {
    const key = normaliseSite(site);
    const username = required(credentials.username, 'username');
    const password = required(credentials.password, 'password');
    const entries = await this.entries();
    const kept = entries.filter((e) => !e.sites.includes(key));
    const previous = entries.find((e) => e.sites.includes(key));
    const entry: PasswordEntry = { sites: previous?.sites ?? [key], username, password, updated: this.now() };
    await this.write([...kept, entry]);
    return entry;
  }

  /** The entry of `site`; `state.missing` when there is none. */
  async get(site: string): Promise<PasswordEntry> {
    const key = normaliseSite(site);
    const entry = (await this.entries()).find((e) => e.sites.includes(key));
    if (entry === undefined) throw unknownSite(key);
    return entry;
  }

  /** Every entry, sorted by its first site. Empty when the application holds nothing yet. */
  async list(): Promise<PasswordEntry[]> {
    return (await this.entries()).sort((a, b) => (a.sites[0] ?? '').localeCompare(b.sites[0] ?? ''));
  }

  /** Removes the entry of `site` (every site it names); `state.missing` when there is none. */
  async remove(site: string): Promise<void> {
    const key = normaliseSite(site);
    const entries = await this.entries();
    if (!entries.some((e) => e.sites.includes(key))) throw unknownSite(key);
    await this.write(entries.filter((e) => !e.sites.includes(key)));
  }

  private async entries(): Promise<PasswordEntry[]> {
    const data = await this.manager.readApplication(PASSWORD_APPLICATION, this.name);
    return data === undefined ? [] : readEntries(data);
  }

  private write(entries: readonly PasswordEntry[]): Promise<void> {
    return this.manager.writeApplication({
      type: PASSWORD_APPLICATION,
      name: this.name,
      public: {},
      private: passwordData(entries),
    });
  }
}

/** The private JSON of the password application. */
export function passwordData(entries: readonly PasswordEntry[]): JsonObject {
  return {
    Entries: entries.map((e) => ({
      Sites: [...e.sites],
      Username: e.username,
      Password: e.password,
      Updated: e.updated,
    })),
  };
}

/**
 * Reads the private JSON of the password application. Throws ClientError `verify.profile` when it is
 * not that shape (it was signed by a device of the profile, but is not this application's data).
 */
export function readEntries(data: JsonObject): PasswordEntry[] {
  const bad = (why: string) =>
    new ClientError('verify.profile', `the password application data ${why}`, { check: 'application data' });
  const list = data.Entries;
  if (!Array.isArray(list)) throw bad('has no "Entries" list');
  return list.map((value, i) => {
    const e = value as Record<string, unknown> | null;
    const sites = e?.Sites;
    if (
      !Array.isArray(sites) ||
      sites.length === 0 ||
      !sites.every((s) => typeof s === 'string') ||
      typeof e?.Username !== 'string' ||
      typeof e.Password !== 'string' ||
      typeof e.Updated !== 'number'
    )
      throw bad(`entry ${i} is not {Sites, Username, Password, Updated}`);
    return { sites, username: e.Username, password: e.Password, updated: e.Updated };
  });
}

/** A site as entries name it: trimmed, lower case, no white space. `usage.invalid` otherwise. */
export function normaliseSite(site: string): string {
  const key = typeof site === 'string' ? site.trim().toLowerCase() : '';
  if (key === '' || /\s/.test(key))
    throw new ClientError('usage.invalid', `not a site: ${JSON.stringify(site)}`, { check: 'site' });
  return key;
}

function required(value: string, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new ClientError('usage.invalid', `a password entry needs a ${what}`, { check: what });
  return value;
}

function unknownSite(site: string): ClientError {
  return new ClientError('state.missing', `no password is stored for ${site}`, { check: 'site' });
}
