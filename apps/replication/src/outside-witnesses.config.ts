import { KEY_TYPE_COSIGNATURE_V1, isLogError, parseVerifierKey, type VerifierKey } from '@cryptomesh/log';
import { ConfigError, type Env } from '@cryptomesh/service';

/** An external C2SP tlog-witness this portal submits its seals to (docs/running.md "Outside witnesses"). */
export interface OutsideWitness {
  /** Its key name: how it is named in cosignatures, `/federation` and metrics. */
  readonly name: string;
  /** Its submission prefix; `add-checkpoint` is appended. */
  readonly url: string;
  /** Its cosignature key (signed-note type 0x04). */
  readonly key: VerifierKey;
}

/**
 * OUTSIDE_WITNESSES: a JSON array of `{ "url": "https://…", "key": "<verifier key>" }`, each key a
 * type 0x04 (tlog-cosignature) verifier key; the names (key names) MUST differ. Unset or empty: none.
 * Errors are one-line ConfigErrors naming the variable and the entry.
 */
export function loadOutsideWitnesses(env: Env): OutsideWitness[] {
  const raw = env.OUTSIDE_WITNESSES?.trim() ?? '';
  if (raw === '') return [];
  const bad = (why: string) => new ConfigError('OUTSIDE_WITNESSES', why);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw bad('is not JSON: expected [{"url": "https://…", "key": "<witness verifier key>"}, …]');
  }
  if (!Array.isArray(value)) throw bad('must be a JSON array of {"url", "key"}');
  const names = new Set<string>();
  return value.map((item: unknown, i) => {
    const { url, key, ...rest } = (typeof item === 'object' && item !== null ? item : {}) as Record<
      string,
      unknown
    >;
    if (Object.keys(rest).length > 0) throw bad(`[${i}] has unknown fields ${Object.keys(rest).join(', ')}`);
    if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url))
      throw bad(`[${i}].url must be an http(s) URL (the witness's submission prefix)`);
    if (typeof key !== 'string') throw bad(`[${i}].key must be a witness verifier key string`);
    let parsed: VerifierKey;
    try {
      parsed = parseVerifierKey(key);
    } catch (error) {
      if (isLogError(error)) throw bad(`[${i}].key: ${error.message}`);
      throw error;
    }
    if (parsed.type !== KEY_TYPE_COSIGNATURE_V1)
      throw bad(`[${i}].key must be a cosignature (type 0x04) key, not a log key`);
    if (names.has(parsed.name)) throw bad(`[${i}].key: two witnesses are named ${parsed.name}`);
    names.add(parsed.name);
    return { name: parsed.name, url: url.replace(/\/+$/, ''), key: parsed };
  });
}
