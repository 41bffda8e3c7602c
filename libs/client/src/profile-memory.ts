import { ClientError } from './client-error';
import type { ClientStore } from './client-store';

/**
 * What this client remembers of one Master or Personal Profile (docs/design/client.md "Current
 * values"; federation.md "Which value is current"), in `profiles/<id>.json`: the highest `Sequence` it
 * verified, the portal whose log served that value, and the portals the account moved away from.
 * Master and Personal Profiles never go back in sequence, and a log the account left holds no current
 * value of it: an answer against either is stale (`verify.stale`).
 */
export interface RememberedProfile {
  readonly id: string;
  readonly sequence: number;
  /** The id of the portal whose log served the highest sequence (or that the account moved to). */
  readonly home: string;
  /** Ids of the portals where a MoveAccount closed the account: their logs are never current for it. */
  readonly left: readonly string[];
}

/** Reads and advances the remembered profiles; every write only ever raises what it remembers. */
export interface ProfileMemory {
  get(id: string): Promise<RememberedProfile | undefined>;
  /** Remembers a verified value: raises `sequence` (and `home` with it); never lowers it. */
  seen(id: string, sequence: number, log: string): Promise<void>;
  /** Remembers that the account of `id` moved from portal `from` to portal `to` (its MoveAccount). */
  moved(id: string, sequence: number, from: string, to: string): Promise<void>;
}

const documentOf = (id: string): string => `profiles/${encodeURIComponent(id)}.json`;

/** The ProfileMemory over `store`'s `profiles/` documents. */
export function storeProfileMemory(store: ClientStore): ProfileMemory {
  const get = async (id: string): Promise<RememberedProfile | undefined> => {
    const name = documentOf(id);
    const text = await store.read(name);
    return text === undefined ? undefined : readRemembered(name, text);
  };
  const put = (value: RememberedProfile) => store.write(documentOf(value.id), `${JSON.stringify(value)}\n`);
  return {
    get,
    async seen(id, sequence, log) {
      const old = await get(id);
      if (old !== undefined && old.sequence >= sequence) return;
      await put({ id, sequence, home: log, left: (old?.left ?? []).filter((p) => p !== log) });
    },
    async moved(id, sequence, from, to) {
      const old = await get(id);
      const left = new Set(old?.left ?? []);
      left.add(from);
      left.delete(to);
      await put({ id, sequence: Math.max(sequence, old?.sequence ?? 0), home: to, left: [...left].sort() });
    },
  };
}

function readRemembered(name: string, text: string): RememberedProfile {
  try {
    const value = JSON.parse(text) as Partial<RememberedProfile>;
    if (
      typeof value.id === 'string' &&
      Number.isSafeInteger(value.sequence) &&
      typeof value.home === 'string' &&
      Array.isArray(value.left) &&
      value.left.every((p) => typeof p === 'string')
    )
      return value as RememberedProfile;
  } catch (cause) {
    throw new ClientError('state.corrupt', `${name} is not JSON`, { cause });
  }
  throw new ClientError('state.corrupt', `${name} is not a remembered profile`);
}

/** What one verified answer says about a Master or Personal Profile. */
export interface ServedValue {
  readonly id: string;
  readonly sequence: number;
  /** The id of the portal whose log holds the entry. */
  readonly log: string;
  /** The portal that served the answer. */
  readonly via: string;
}

/**
 * `verify.stale` naming the serving portal when `served` is older than what this client verified
 * before (a lower sequence), or comes from the log of a portal the account moved away from; nothing
 * otherwise. MUST be called only on a value that passed every other check (the answer is genuine,
 * just not current): the refusal's evidence is what was served and what is remembered.
 */
export function checkCurrent(served: ServedValue, remembered: RememberedProfile | undefined): void {
  if (remembered === undefined) return;
  const evidence = { ...served, remembered };
  if (remembered.left.includes(served.log))
    throw new ClientError(
      'verify.stale',
      `${served.via} served ${served.id} from ${served.log}'s log, which the account left for ${remembered.home}: not its current value`,
      { portal: served.via, check: 'current home', evidence },
    );
  if (served.sequence < remembered.sequence)
    throw new ClientError(
      'verify.stale',
      `${served.via} served ${served.id} at Sequence ${served.sequence} from ${served.log}'s log; this client verified Sequence ${remembered.sequence} (from ${remembered.home}'s log)`,
      { portal: served.via, check: 'profile sequence', evidence },
    );
}
