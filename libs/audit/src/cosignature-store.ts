/**
 * The cosignatures port (STYLE.md §4). Adapter: `TypeOrmCosignatureStore` of `@cryptomesh/persistence`.
 */

/** A verified cosignature, as stored in `cosignatures`. */
export interface CosignatureRecord {
  readonly subject: string;
  readonly part: number;
  readonly witness: string;
  /** The subject's seal note without cosignature lines. */
  readonly seal: string;
  /** `— <name> <base64>`, no newline. */
  readonly line: string;
  /** POSIX seconds, as signed. */
  readonly cosignedAt: number;
}

/**
 * Cosignatures of seals, this portal's and its peers' (the caller MUST have verified each). At most
 * one per (subject, part, witness): `storeCosignature` MUST be idempotent — it resolves false and
 * changes nothing when that witness's cosignature of that part is stored already — and MUST resolve
 * only once committed. `cosignature` MUST read committed data.
 */
export interface CosignatureStore {
  storeCosignature(row: CosignatureRecord): Promise<boolean>;
  cosignature(subject: string, part: number, witness: string): Promise<CosignatureRecord | undefined>;
}
