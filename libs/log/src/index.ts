// @cryptomesh/log — the Mesh transparency log: RFC 9162 Merkle tree and proofs, entries, seals
// (C2SP signed notes and checkpoints), cosignatures, the log verifier and equivocation evidence.
// Pure and portable: no Nest, TypeORM, pg, Kafka, node:fs or Buffer (STYLE.md §1).

export { LogError, isLogError } from './log-error';
export type { LogErrorCode, LogErrorDetails } from './log-error';

export { toBase64, fromBase64, toHex, fromHex } from './bytes';

export { EMPTY_ROOT, HASH_SIZE, hashLeaf, hashChildren, installSha256 } from './tree-hasher';
export type { Hash } from './tree-hasher';
export { resolvePlan, resolvePlanSync } from './hash-reader';
export type { NodeId, StoredNode, HashReader, SyncHashReader, HashPlan } from './hash-reader';
export { MemoryHashStore } from './memory-hash-store';
export { CompactRange } from './compact-range';
export { planRangeHash, planRangeHashes } from './range-hash';
export { MerkleTree } from './merkle-tree';
export {
  inclusionProofRanges,
  planInclusionProof,
  inclusionProof,
  rootFromInclusionProof,
  verifyInclusion,
} from './inclusion-proof';
export {
  consistencyProofRanges,
  planConsistencyProof,
  consistencyProof,
  rootsFromConsistencyProof,
  verifyConsistency,
} from './consistency-proof';

export {
  TILE_HEIGHT,
  TILE_WIDTH,
  MAX_BUNDLED_ENTRY,
  parseTilePath,
  formatTilePath,
  tileWidthAt,
  encodeEntryBundle,
  decodeEntryBundle,
  splitHashTile,
} from './tile';
export type { TileCoord } from './tile';

export { encodeEntry, decodeEntry, entryLeafHash } from './entry';
export type { JsonValue, TransactionRecord } from './entry';

export type { Ed25519 } from './ed25519';
export {
  KEY_TYPE_ED25519,
  KEY_TYPE_COSIGNATURE_V1,
  computeKeyId,
  makeVerifierKey,
  parseVerifierKey,
} from './verifier-key';
export type { KeyType, VerifierKey } from './verifier-key';
export { makeNoteSigner, formatSignerKey, parseSignerKey } from './note-signer';
export type { NoteSigner } from './note-signer';
export {
  MAX_NOTE_SIGNATURES,
  decodeNote,
  parseNote,
  formatNote,
  formatSignatureLine,
  signNote,
  addSignature,
  openNote,
} from './signed-note';
export type { SignedNote, NoteSignature } from './signed-note';
export { parseCheckpoint, formatCheckpoint } from './checkpoint';
export type { Checkpoint } from './checkpoint';
export { GENESIS_CHAIN, nextChain } from './chain';
export { SEAL_EXTENSIONS, parseSealBody, formatSealBody, signSeal, openSeal } from './seal';
export type { Seal, OpenedSeal } from './seal';
export {
  COSIGNATURE_V1_SIZE,
  cosignedMessage,
  cosign,
  cosignatureTimestamp,
  addCosignature,
  verifyCosignature,
  findCosigners,
  countCosigners,
} from './cosignature';
export type { Cosigner, CosignerReport } from './cosignature';

export {
  MAX_PROOF_LINES,
  formatAddCheckpoint,
  parseAddCheckpoint,
  checkAddCheckpoint,
} from './witness-request';
export type { AddCheckpointRequest, AcceptedCheckpoint, WitnessedCheckpoint } from './witness-request';

export { LogVerifier } from './log-verifier';
export type { LogVerifierState, PartVerdict, PartInput } from './log-verifier';
export type { EntryHook, LogVerifierOptions, PartHashes } from './log-verifier-options';
export {
  KEY_TRANSITION_CONTEXT,
  KEY_TRANSITION_FIELD,
  checkKeyTransition,
  followKeyTransitions,
  isKeyTransitionEntry,
  parseKeyTransition,
  signKeyTransition,
  transitionStatement,
} from './key-transition';
export type { KeyTransition } from './key-transition';
export type { LogKeysState } from './log-keys';
export { verifyLog } from './verify-log';
export type { LogVerdict } from './verify-log';
export { findEquivocation, verifyEquivocation } from './equivocation';
export type { EquivocationEvidence, FindEquivocationInput } from './equivocation';
