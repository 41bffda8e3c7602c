import { escapeControls } from '@cryptomesh/crypto/portable';

/**
 * The one error class of `@cryptomesh/mesh` (STYLE.md §6). `code` is stable: the gateway's exception
 * filter maps it to an HTTP status and a Mesh `Status`, and an auditing peer records it in a finding.
 * Every code is permanent: the same input always gives the same error, none is worth a retry.
 */
export type MeshErrorCode =
  /** An argument of the wrong type or shape (a programming error in the caller). */
  | 'input.invalid'
  /** Not a profile JWS, or a payload that does not follow docs/design/mesh-model.md. */
  | 'profile.malformed'
  /** The JWS `typ` names no profile type. */
  | 'profile.unknown-type'
  /** The payload's `Id` is not the identifier its fields derive (mesh-model.md "Identifiers"). */
  | 'profile.bad-id'
  /** The signer is the one the rule names but the signature does not verify (000 §6.4, first bullet). */
  | 'profile.bad-signature'
  /** 000 §6.4: a Master Profile not signed by its own master signature key. */
  | 'rule.master-signer'
  /** 000 §6.4: a Personal Profile not signed by an administrator key of its Master Profile. */
  | 'rule.personal-signer'
  /** 000 §6.4: a Device Profile not signed by its own device signature key. */
  | 'rule.device-signer'
  /** 000 §6.4: an Application Profile not signed by a key its Personal Profile authorises for it. */
  | 'rule.application-signer'
  /** The Master Profile a Personal Profile names is not known. */
  | 'rule.unknown-master'
  /** The Personal Profile an Application Profile names is not known. */
  | 'rule.unknown-personal'
  /** 000 §3.2.1: create of an object that is not undefined. */
  | 'persistence.exists'
  /** 000 §3.2.1: update or delete of an object that was never created. */
  | 'persistence.undefined'
  /** 000 §3.2.1: update or delete of a deleted object. */
  | 'persistence.inactive'
  /** A Publish the model forbids for that profile type (create or delete of a Master/Personal Profile). */
  | 'publish.not-allowed'
  /** The record's object identifier is not the identifier of the value, or the type changed. */
  | 'publish.id-mismatch'
  /** The profile belongs to another account (another Master or Personal Profile). */
  | 'publish.wrong-account'
  /** A Master or Personal Profile update whose `Sequence` does not grow. */
  | 'publish.stale-sequence'
  /** A Device Profile in a record that the record's Personal Profile does not list with the same keys. */
  | 'publish.device-not-listed'
  /** CreateAccount of an account that is active. */
  | 'account.exists'
  /** A transaction on an account that was never created. */
  | 'account.unknown'
  /** A transaction on a deleted account; for an auditor also its CreateAccount again (it never returns). */
  | 'account.deleted'
  /** A transaction on an account closed here by a MoveAccount (it lives at its new home portal). */
  | 'account.moved'
  /** A signed request (authorisation) that is not a request JWS of mesh-model.md "Requests". */
  | 'request.malformed'
  /** A request signed for another request name, account or body. */
  | 'request.mismatch'
  /** A request signed for another portal: its `Portal` is not this portal's (or this log's) origin. */
  | 'request.wrong-portal'
  /** A request whose signer is not a device of the account's Personal Profile. */
  | 'request.unknown-device'
  /** The request signature does not verify. */
  | 'request.bad-signature'
  /** A request older than the clock-skew window allows. */
  | 'request.stale'
  /** A request dated further in the future than the clock-skew window allows. */
  | 'request.future'
  /** A request whose nonce was seen before (the gateway's nonce store; an auditor: twice in one log). */
  | 'request.replayed'
  /** An administrator-only transaction signed by a device whose key is no administrator key. */
  | 'request.not-administrator'
  /** A connection nonce that is not base64url of 16 bytes (connect-witness.ts). */
  | 'connect.bad-nonce'
  /**
   * A pending connection request whose witness, computed from its own Device Profile and nonce, is not
   * the witness the user compared with the new device (issue #14, hole 1).
   */
  | 'connect.witness-mismatch'
  /** A proof of work below the level demanded. */
  | 'pow.insufficient'
  /** The solver gave up after its bound of attempts. */
  | 'pow.exhausted'
  /** Entry bytes that are not a transaction record of mesh-model.md "Records". */
  | 'record.malformed'
  /** A record given to the state of another account. */
  | 'record.wrong-account'
  /** A catalog value (or tombstone) that is not of docs/design/inbound.md "Catalog objects". */
  | 'catalog.invalid'
  /** A catalog value signed by a key that is not a device of the account. */
  | 'catalog.unknown-device'
  /** A catalog value whose signature does not verify. */
  | 'catalog.bad-signature'
  /** A catalog value whose Sequence does not exceed the stored one. */
  | 'catalog.sequence'
  /** An inbound envelope that is not of docs/design/inbound.md "Inbound envelopes". */
  | 'inbound.invalid'
  /** An inbound envelope above the size limit. */
  | 'inbound.too-large'
  /** An envelope that names another Master Profile than its sender's. */
  | 'inbound.wrong-sender'
  /** An envelope signed by a key that is not a device of its sender. */
  | 'inbound.unknown-device'
  /** An envelope whose signature does not verify. */
  | 'inbound.bad-signature';

/** The library's error: a stable `code`, a message for people, and the lower-level `cause` if any. */
export class MeshError extends Error {
  override readonly name = 'MeshError';

  constructor(
    readonly code: MeshErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    // A message quotes what it refuses, which may be a peer's or a stranger's text: written so that
    // it can be stored, signed and printed (a NUL, a control character, an unpaired surrogate).
    super(escapeControls(message), options);
  }
}

/** True when `error` is a MeshError, optionally with the given code. */
export function isMeshError(error: unknown, code?: MeshErrorCode): error is MeshError {
  return error instanceof MeshError && (code === undefined || error.code === code);
}
