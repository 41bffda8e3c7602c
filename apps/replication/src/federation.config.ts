import { readFileSync } from 'node:fs';
import {
  FederationConfigError,
  defaultCosignatureQuorum,
  parseFederationPeers,
  type FederationPeer,
  type FederationSelf,
} from '@cryptomesh/intermesh';
import type { NoteSigner } from '@cryptomesh/log';
import { ConfigError, type Env } from '@cryptomesh/service';
import { loadWitnessKey } from './witness-key';

/** The federation as the replication service runs it (docs/design/federation.md "Configuration"). */
export interface FederationConfig {
  readonly peers: readonly FederationPeer[];
  /** This portal's witness key; present whenever there is a peer. */
  readonly witnessKey: NoteSigner | undefined;
  /** Peer cosignatures clients should demand on a checkpoint. */
  readonly quorum: number;
}

/**
 * Reads FEDERATION_PEERS (JSON) or FEDERATION_FILE (a path to the same peers, or to a
 * `.federation/portals.json`), WITNESS_KEY(_FILE) and COSIGNATURE_QUORUM. Every fault is a one-line
 * ConfigError naming the variable (and the peer's position) and what is wrong.
 */
export function loadFederation(env: Env, portalId: string): FederationConfig {
  const inline = env.FEDERATION_PEERS?.trim() ?? '';
  const file = env.FEDERATION_FILE?.trim() ?? '';
  if (inline !== '' && file !== '') {
    throw new ConfigError('FEDERATION_PEERS', 'set FEDERATION_PEERS or FEDERATION_FILE, not both');
  }
  const variable = file !== '' ? 'FEDERATION_FILE' : 'FEDERATION_PEERS';
  let text = inline;
  if (file !== '') {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError('FEDERATION_FILE', `cannot read ${JSON.stringify(file)} (${reason})`);
    }
  }
  let peers: readonly FederationPeer[] = [];
  let self: FederationSelf | undefined;
  let value: unknown;
  if (text !== '') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      // V8 quotes the text around the fault, newlines of a multi-line file included: keep one line.
      const reason = (error as Error).message.replace(/\s+/g, ' ');
      throw new ConfigError(variable, `is not JSON: ${reason}`);
    }
    try {
      ({ peers, self } = parseFederationPeers(value, { self: portalId, source: variable }));
    } catch (error) {
      if (!(error instanceof FederationConfigError)) throw error;
      throw new ConfigError(`${variable}${error.path}`, error.reason);
    }
  }
  const witnessKey = loadWitnessKey(env);
  // This portal's own entry MUST carry its keys (federation.md "Configuration"); of those, only the
  // witness key is known here.
  if (self?.witnessKey !== undefined && witnessKey !== undefined) {
    const configured = self.witnessKey.text;
    if (configured !== witnessKey.verifierKey.text) {
      throw new ConfigError(
        `${variable}${selfPath(value, portalId)}.witnessKey`,
        `is not this portal's witness key: saw ${JSON.stringify(configured)}, WITNESS_KEY(_FILE) is ${JSON.stringify(witnessKey.verifierKey.text)}`,
      );
    }
  }
  if (peers.length > 0 && witnessKey === undefined) {
    throw new ConfigError(
      'WITNESS_KEY_FILE',
      'is required (or WITNESS_KEY) when the federation has peers: the witness key cosigns their seals; create one with `main.js keygen --name <name>` of the replication service',
    );
  }
  return { peers, witnessKey, quorum: loadQuorum(env, peers.length) };
}

/** Where this portal's entry is in configuration JSON that parsed (an array, or `{"portals": [...]}`). */
function selfPath(value: unknown, portalId: string): string {
  const list = Array.isArray(value) ? value : (value as { portals: unknown[] }).portals;
  const index = list.findIndex((entry) => (entry as { id?: unknown }).id === portalId);
  return `${Array.isArray(value) ? '' : '.portals'}[${index}]`;
}

function loadQuorum(env: Env, peers: number): number {
  const raw = env.COSIGNATURE_QUORUM?.trim() ?? '';
  if (raw === '') return defaultCosignatureQuorum(peers);
  const quorum = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(quorum) || quorum > peers) {
    throw new ConfigError(
      'COSIGNATURE_QUORUM',
      `must be an integer from 0 to the number of peers, ${peers} (got ${JSON.stringify(raw.slice(0, 40))})`,
    );
  }
  return quorum;
}
