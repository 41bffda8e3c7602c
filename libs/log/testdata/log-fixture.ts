import type { Ed25519 } from '../src/ed25519';
import type { TransactionRecord } from '../src/entry';
import { MerkleTree } from '../src/merkle-tree';
import { makeNoteSigner, type NoteSigner } from '../src/note-signer';
import { signSeal, type Seal } from '../src/seal';
import { KEY_TYPE_COSIGNATURE_V1, KEY_TYPE_ED25519 } from '../src/verifier-key';
import { referenceChain, ReferenceFrontier } from './reference-merkle';

/**
 * Builds valid logs for tests and benchmarks: the sealing arithmetic of DESIGN.md "The log" done
 * the plain way (a fresh tree per part for the digest, the chain, one signature per part), with the
 * independent reference hashing of reference-merkle.ts rather than the library's own. Only the seal
 * format and signing come from the library. Deterministic: keys come from fixed seeds and times
 * from a counter.
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

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** A transaction-record-shaped object, distinct per index. */
export function sampleRecord(i: number): TransactionRecord {
  return {
    op: i % 3 === 0 ? 'CreateAccount' : 'Publish',
    account: `MDFB-${hex8(i)}-${hex8(i * 7)}-${hex8(i * 13)}`,
    object: `MCFA-${hex8(i * 31)}-${hex8(i * 17)}`,
    value: { kind: 'Device', seq: i, note: 'x'.repeat(i % 17) },
    authorisation: { kid: `MDFB-${hex8(i * 3)}`, sig: hex8(i * 2654435761).repeat(8) },
  };
}

const encoder = new TextEncoder();

/**
 * `encodeEntry(sampleRecord(i))` — about 300 bytes of canonical JSON — written out directly (keys
 * already in JCS order, nothing to escape) so that generating a million entries stays cheap. A unit
 * test checks the two agree.
 */
export function sampleEntry(i: number): Uint8Array {
  return encoder.encode(
    `{"account":"MDFB-${hex8(i)}-${hex8(i * 7)}-${hex8(i * 13)}","authorisation":{"kid":"MDFB-${hex8(i * 3)}",` +
      `"sig":"${hex8(i * 2654435761).repeat(8)}"},"object":"MCFA-${hex8(i * 31)}-${hex8(i * 17)}",` +
      `"op":"${i % 3 === 0 ? 'CreateAccount' : 'Publish'}","value":{"kind":"Device","note":"${'x'.repeat(i % 17)}","seq":${i}}}`,
  );
}

export interface FixturePart {
  readonly entries: Uint8Array[];
  readonly seal: string;
  readonly value: Seal;
}

export class LogFixture {
  /** The key that seals the next part (a test may rotate it). */
  signer: NoteSigner;
  /** Every entry's leaf in a full tree (for proofs); left out for the million-entry runs. */
  readonly tree: MerkleTree | undefined;
  private readonly frontier = new ReferenceFrontier();
  private chain: Uint8Array = new Uint8Array(32);
  private partIndex = 0;
  timeMs: number;

  constructor(
    readonly origin: string,
    ed25519: Ed25519,
    options: { keepTree?: boolean; timeMs?: number } = {},
  ) {
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
    const part = new ReferenceFrontier();
    for (const entry of entries) {
      part.appendLeaf(this.frontier.append(entry));
      this.tree?.append(entry);
    }
    const digest = part.root();
    this.chain = referenceChain(this.chain, digest);
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
