/**
 * Where the query service finds accounts (STYLE.md §4: defined by its consumer, account.service.ts).
 * Reads only, from committed data; MAY be called concurrently. Adapter: `TypeOrmAccountDirectory`.
 */
export interface AccountDirectory {
  /**
   * This portal's own `accounts` row of `accountUdf` (the gateway's catalog), whatever its status;
   * undefined when this portal never had the account. `master`/`personal` are the stored JWS as
   * parsed JSON.
   */
  own(accountUdf: string): Promise<OwnAccountRow | undefined>;
  /**
   * The stored auditor state of `accountUdf` in each peer's verified mirror (`mirror_account_states`,
   * the JSON `encodeAuditedAccount` wrote), for each of `peers` that has one, by peer id; MAY be empty.
   */
  mirrored(accountUdf: string, peers: readonly string[]): Promise<MirroredAccountRow[]>;
}

export interface OwnAccountRow {
  readonly status: string;
  readonly master: unknown;
  readonly personal: unknown;
}

export interface MirroredAccountRow {
  readonly peer: string;
  readonly state: unknown;
}
