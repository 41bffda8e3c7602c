import { escapeControls } from '@cryptomesh/crypto/portable';

/**
 * Every failure the InterMesh codec and part assembler report (STYLE.md §6). The `code` is stable:
 * consumers branch on it (a `message.*` code means one message could not be trusted as transport;
 * an `assembler.*` code means the sequence of messages on a log topic is wrong, and its `evidence`
 * is what a finding against the publishing portal keeps; a `finding.*` code means a finding on
 * `intermesh.witness` cannot be attributed to its reporter). The message is for humans and MAY change.
 */
export type IntermeshErrorCode =
  // One message (libs/intermesh/src/log-message.ts).
  | 'message.too-large'
  | 'message.not-json'
  | 'message.not-object'
  | 'message.unknown-field'
  | 'message.version'
  | 'message.type'
  | 'message.header'
  | 'message.key'
  | 'message.portal'
  | 'message.part'
  | 'message.first'
  | 'message.size'
  | 'message.entries'
  | 'message.entry'
  | 'message.index'
  | 'message.offset'
  | 'message.length'
  | 'message.data'
  | 'message.note'
  | 'message.limit'
  // One message of intermesh.witness (libs/intermesh/src/witness-message.ts).
  | 'message.field'
  | 'message.self'
  | 'message.cosignature'
  | 'message.id'
  | 'message.kind'
  | 'message.code'
  | 'message.detail'
  | 'message.evidence'
  | 'message.observed-at'
  | 'message.signature'
  // A finding's signature (libs/intermesh/src/witness-message.ts).
  | 'finding.key'
  | 'finding.bad-signature'
  // An escrow message of a log topic (libs/intermesh/src/escrow-message.ts).
  | 'escrow.key'
  | 'escrow.blob'
  | 'escrow.kid'
  | 'escrow.portal'
  | 'escrow.too-large'
  | 'escrow.signature'
  // An inbound message of a log topic (libs/intermesh/src/inbound-message.ts).
  | 'inbound.to'
  | 'inbound.envelope'
  | 'inbound.pow'
  | 'inbound.portal'
  | 'inbound.witness-signature'
  | 'inbound.too-large'
  // The sequence of messages (libs/intermesh/src/part-assembler.ts).
  | 'assembler.portal'
  | 'assembler.gap'
  | 'assembler.reorder'
  | 'assembler.conflict'
  | 'assembler.incomplete'
  | 'assembler.too-large';

/** What a sequence error saw: the expected and the received values, and the message at fault. */
export type IntermeshEvidence = Readonly<Record<string, unknown>>;

export class IntermeshError extends Error {
  override readonly name = 'IntermeshError';

  constructor(
    readonly code: IntermeshErrorCode,
    message: string,
    readonly evidence: IntermeshEvidence = {},
    options?: { cause?: unknown },
  ) {
    super(escapeControls(message), options);
  }
}

export function isIntermeshError(error: unknown, code?: IntermeshErrorCode): error is IntermeshError {
  return error instanceof IntermeshError && (code === undefined || error.code === code);
}
