import { createHash } from 'node:crypto';
import type { FlattenedJws } from '@cryptomesh/crypto';
import { decodeRecord, profileSetBy, type SignedProfile } from '@cryptomesh/mesh';

/** What a profile answer needs of the value an entry sets: the JWS as carried, and its order. */
export interface ProfileValue {
  readonly jws: FlattenedJws;
  /** A Master or Personal Profile's `Sequence`; -1 for the kinds that have none (order decides). */
  readonly sequence: number;
}

/** Values kept, at most (a few KB each: the JWS strings). */
export const PROFILE_VALUES_KEPT = 1024;

/**
 * The value entry bytes give a profile — `profileSetBy(decodeRecord(entry), id)` — kept by the
 * SHA-256 of the bytes and the id, least recently used out first (issue #17: decoding and checking a
 * record was a quarter of a profile answer's CPU). Keyed by content, never by log and index, so a
 * kept value is exactly what decoding those bytes gives. Undefined when the entry does not set `id`.
 * Not safe to share across threads; one per ProfileService.
 */
export class ProfileValues {
  private readonly kept = new Map<string, ProfileValue | undefined>();

  constructor(private readonly limit = PROFILE_VALUES_KEPT) {}

  of(entry: Uint8Array, id: string): ProfileValue | undefined {
    const key = `${id}\n${createHash('sha256').update(entry).digest('base64')}`;
    if (this.kept.has(key)) {
      const value = this.kept.get(key);
      this.kept.delete(key);
      this.kept.set(key, value);
      return value;
    }
    const signed = profileSetBy(decodeRecord(entry), id);
    const value = signed === undefined ? undefined : { jws: signed.jws, sequence: sequenceOf(signed) };
    if (this.kept.size >= this.limit) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(key, value);
    return value;
  }
}

function sequenceOf(signed: SignedProfile): number {
  const { profile } = signed;
  return profile.kind === 'master' || profile.kind === 'personal' ? profile.sequence : -1;
}
