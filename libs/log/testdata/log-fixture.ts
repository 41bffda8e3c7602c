import { GENESIS_CHAIN, nextChain } from '../src/chain';
import { CompactRange } from '../src/compact-range';
import type { Ed25519 } from '../src/ed25519';
import { encodeEntry } from '../src/entry';
import { MerkleTree } from '../src/merkle-tree';
import { makeNoteSigner, type NoteSigner } from '../src/note-signer';
import { signSeal, type Seal } from '../src/seal';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519 } from '../src/verifier-key';

/**
 * Builds valid logs for tests and benchmarks: the sealing arithmetic of DESIGN.md "The log" done
 * the plain way (a fresh compact range per part for the digest, the chain, one signature per part).
 * Deterministic: keys come from fixed seeds and times from a counter.
 */

/** A deterministic 32-byte seed from a label. */
export function seedFrom(label: string): Uint8Array {
  const seed = new Uint8Array(32);
  for (let i = 0; i < label.length; i++) seed[i % 32] = (seed[i % 32]! * 31 + label.charCodeAt(i)) & 0xff;
  seed[31] = label.length & 0xff;
  return seed;
}

export function logSigner(name: string, ed25519: Ed25519, label = name): NoteSigner {
  return makeNoteSigner(name, KEY_TYPE_ED25519, seedFrom(`log:${label}`), ed25519);
}

export function witnessSigner(name: string, ed25519: Ed25519, label = name): NoteSigner {
  return makeNoteSigner(name, KEY_TYPE_COSIGNATURE_V1, seedFrom(`witness:${label}`), ed25519);
}

/** A transaction-record-shaped entry of about 250 bytes (canonical JSON), distinct per index. */
export function sampleEntry(i: number): Uint8Array {
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  return encodeEntry({
    op: i % 3 === 0 ? 'CreateAccount' : 'Publish',
    account: `MDFB-${hex(i)}-${hex(i * 7)}-${hex(i * 13)}`,
    object: `MCFA-${hex(i * 31)}-${hex(i * 17)}`,
    value: { kind: 'Device', seq: i, note: 'x'.repeat(i % 17) },
    authorisation: { kid: `MDFB-${hex(i * 3)}`, sig: hex(i * 2654435761).repeat(8) },
  });
}

export interface FixturePart {
  readonly entries: Uint8Array[];
  readonly seal: string;
  readonly value: Seal;
}

export class LogFixture {
  readonly signer: NoteSigner;
  /** Every entry's leaf in a full tree (for proofs); left out for the million-entry runs. */
  readonly tree: MerkleTree | undefined;
  private frontier = CompactRange.empty();
  private chain = GENESIS_CHAIN;
  private partIndex = 0;
  timeMs: number;

  constructor(readonly origin: string, ed25519: Ed25519, options: { keepTree?: boolean; timeMs?: number } = {}) {
    this.signer = logSigner(origin, ed25519);
    this.tree = options.keepTree === false ? undefined : new MerkleTree();
    this.timeMs = options.timeMs ?? 1_763_800_000_000;
  }

  get size(): number {
    return this.frontier.size;
  }

  /** Appends `entries` as the next part and seals it. */
  sealPart(entries: Uint8Array[], timeMs = (this.timeMs += 1000)): FixturePart {
    const first = this.frontier.size;
    const part = CompactRange.empty();
    for (const entry of entries) {
      part.appendLeafHash(this.frontier.appendEntry(entry));
      this.tree?.append(entry);
    }
    const digest = part.root();
    this.chain = nextChain(this.chain, digest);
    const value: Seal = {
      origin: this.origin,
      size: this.frontier.size,
      root: this.frontier.root(),
      part: { index: this.partIndex++, first, digest },
      chain: this.chain,
      timeMs,
    };
    return { entries, seal: signSeal(value, this.signer), value };
  }

  /** `parts` parts of `perPart` sample entries each, generated lazily. */
  *generate(parts: number, perPart: number): Generator<FixturePart> {
    for (let p = 0; p < parts; p++) {
      const start = this.frontier.size;
      yield this.sealPart(Array.from({ length: perPart }, (_, i) => sampleEntry(start + i)));
    }
  }
}
