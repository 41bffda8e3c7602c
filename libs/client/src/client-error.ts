/**
 * The one error class of `@cryptomesh/client` (STYLE.md §6; docs/design/client.md "Layout").
 * `code` is stable: the `mesh` command line maps `usage.*` to exit 2 and every other code to exit 1,
 * and prints `portal` and `check` so that a person knows who served what failed. Errors that accuse a
 * portal (`verify.*`) carry the `evidence`: what it served, and for `verify.consistency` both
 * checkpoint notes — proof that the portal showed two histories.
 */
export type ClientErrorCode =
  /** Verified reads 1: the checkpoint does not open with the log owner's pinned verifier key and origin. */
  | 'verify.checkpoint-signature'
  /** Verified reads 2: fewer valid cosignatures by pinned peer witness keys than the quorum. */
  | 'verify.quorum'
  /** Verified reads 3: the checkpoint is not consistent with the last one this client saw of that log. */
  | 'verify.consistency'
  /** Verified reads 4: the entry's inclusion proof does not lead to the checkpoint's root. */
  | 'verify.inclusion'
  /** Verified reads 5: the entry does not set the profile, the JWS or its signing rule fails, another id. */
  | 'verify.profile'
  /**
   * Verified reads 6: a genuine Master or Personal Profile that is not current — a lower Sequence than
   * this client verified before, or served from the log of a portal the account moved away from.
   */
  | 'verify.stale'
  /**
   * A catalog value the home portal served that this device cannot accept (docs/design/inbound.md
   * "Catalog objects"): not signed by a device of the account's verified Personal Profile, another
   * account, catalog or Id, a `Sequence` lower than one this device saw, or an object it saw vanish.
   */
  | 'verify.catalog'
  /**
   * An inbound envelope that does not verify against its sender's profiles read with proof, or that
   * is not addressed to this account (docs/design/inbound.md "Inbound envelopes").
   */
  | 'verify.envelope'
  /** A portal's answer of the wrong shape (missing fields, wrong types, undecodable values). */
  | 'verify.answer'
  /**
   * A pending connection request whose witness, computed by this device from the request's own Device
   * Profile and nonce, is not the witness the user compared with the new device (issue #14, hole 1).
   */
  | 'verify.witness'
  /**
   * The query service does not serve yet the value the caller waits for (it still shows an older
   * one: the gateway answers before the log is sealed). Not an accusation: the log check of
   * client.md waits on it and turns it into `verify.profile` only at its deadline.
   */
  | 'log.behind'
  /** The portal answered with a refusal (an HTTP error status, a Mesh status other than success). */
  | 'portal.refused'
  /** The portal could not be reached: network failure, timeout, aborted request. */
  | 'portal.unreachable'
  /** A document of the local state that is needed is absent (e.g. no trust.json: no profile yet). */
  | 'state.missing'
  /** A document of the local state that cannot be read back (bad JSON, wrong shape). */
  | 'state.corrupt'
  /** The caller asked for something that cannot be done (bad argument, bad option). */
  | 'usage.invalid';

/** Optional context of a ClientError: who served it, which check, the evidence and the cause. */
export interface ClientErrorOptions {
  /** The portal that served what failed, or that refused, or could not be reached (its id or URL). */
  portal?: string;
  /** The check that failed, in words of client.md "Verified reads" (e.g. `cosignature quorum`). */
  check?: string;
  /** What the portal served that proves the failure (JSON-serialisable). */
  evidence?: Record<string, unknown>;
  /** The lower-level error, if any. */
  cause?: unknown;
}

/** The SDK's error: a stable `code`, a message for people, the portal, the check and the evidence. */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  // `declare`: absent context is no own property at all (not an own `undefined`).
  declare readonly portal?: string;
  declare readonly check?: string;
  declare readonly evidence?: Record<string, unknown>;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options: ClientErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.portal !== undefined) this.portal = options.portal;
    if (options.check !== undefined) this.check = options.check;
    if (options.evidence !== undefined) this.evidence = options.evidence;
  }
}

/** True when `error` is a ClientError, optionally with the given code. */
export function isClientError(error: unknown, code?: ClientErrorCode): error is ClientError {
  return error instanceof ClientError && (code === undefined || error.code === code);
}
