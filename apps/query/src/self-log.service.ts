import { Inject, Injectable } from '@nestjs/common';
import { consistencyProof, inclusionProof, toBase64 } from '@cryptomesh/log';
import type { PublishedLog, PublishedSeal } from './published-log';
import { QueryError } from './query-error';

export const PUBLISHED_LOG = Symbol('PUBLISHED_LOG');

/** Entries in one `/entries` answer, at most (DESIGN.md "HTTP"). */
export const MAX_ENTRIES_PER_REQUEST = 1000;

/**
 * This portal's own log as the query API serves it (DESIGN.md "HTTP"). Only what a seal covers is
 * served: entries and proofs never reach beyond the latest seal's tree size, and proofs are only
 * for sealed tree sizes — a client can check every answer against a signed checkpoint.
 */
@Injectable()
export class SelfLogService {
  constructor(@Inject(PUBLISHED_LOG) private readonly log: PublishedLog) {}

  async checkpoint(): Promise<string> {
    return this.checkpointOf(await this.latest());
  }

  /**
   * The checkpoint text of a seal: the signed note with every cosignature line collected. No
   * cosignature is stored yet (issue #6), so today it is the seal's note exactly as signed.
   */
  checkpointOf(seal: PublishedSeal): string {
    return seal.note;
  }

  async part(part: number): Promise<{ part: number; first: number; size: number; seal: string }> {
    const seal = await this.log.sealOfPart(part);
    if (seal === undefined) throw new QueryError('part.not-found', `part ${part} is not sealed`);
    return { part: seal.part, first: seal.first, size: seal.size, seal: seal.note };
  }

  async entries(start: number, end: number): Promise<{ entries: string[] }> {
    if (start > end) throw new QueryError('range.reversed', `start ${start} is after end ${end}`);
    if (end - start > MAX_ENTRIES_PER_REQUEST) {
      throw new QueryError(
        'range.too-large',
        `at most ${MAX_ENTRIES_PER_REQUEST} entries per request (asked ${end - start})`,
      );
    }
    const sealed = await this.sealedSize();
    if (end > sealed)
      throw new QueryError('range.beyond-log', `end ${end} is beyond the sealed tree size ${sealed}`);
    const entries = await this.log.entries(start, end);
    return { entries: entries.map(toBase64) };
  }

  async inclusion(index: number, size: number): Promise<{ index: number; size: number; path: string[] }> {
    await this.requireSealedSize(size, 'size');
    if (index >= size)
      throw new QueryError('range.beyond-log', `index ${index} is not inside a tree of size ${size}`);
    const path = await inclusionProof(this.log, index, size);
    return { index, size, path: path.map(toBase64) };
  }

  async consistency(from: number, to: number): Promise<{ from: number; to: number; path: string[] }> {
    if (from > to) throw new QueryError('range.reversed', `from ${from} is after to ${to}`);
    await this.requireSealedSize(to, 'to');
    if (from > 0) await this.requireSealedSize(from, 'from');
    const path = await consistencyProof(this.log, from, to);
    return { from, to, path: path.map(toBase64) };
  }

  /**
   * Entry `index` and its inclusion proof in the tree of `seal` (RFC 9162 §2.1.3), with the
   * checkpoint to check it against. `seal` MUST be a stored seal and `index` below its size.
   */
  async proveEntry(
    index: number,
    seal: PublishedSeal,
  ): Promise<{
    entry: Uint8Array;
    proof: { index: number; size: number; path: string[] };
    checkpoint: string;
  }> {
    if (index >= seal.size)
      throw new RangeError(`entry ${index} is not inside the tree of size ${seal.size}`);
    const [entry] = await this.log.entries(index, index + 1);
    if (entry === undefined) throw new Error(`entry ${index} of a sealed tree is not stored`);
    const path = await inclusionProof(this.log, index, seal.size);
    return {
      entry,
      proof: { index, size: seal.size, path: path.map(toBase64) },
      checkpoint: this.checkpointOf(seal),
    };
  }

  /** The latest seal; rejects `log.empty` before the first. */
  async latest(): Promise<PublishedSeal> {
    const seal = await this.log.latestSeal();
    if (seal === undefined) throw new QueryError('log.empty', 'the log has no seal yet');
    return seal;
  }

  private async sealedSize(): Promise<number> {
    return (await this.log.latestSeal())?.size ?? 0;
  }

  private async requireSealedSize(size: number, name: string): Promise<void> {
    const sealed = await this.sealedSize();
    if (size > sealed)
      throw new QueryError('range.beyond-log', `${name} ${size} is beyond the sealed tree size ${sealed}`);
    if ((await this.log.sealWithSize(size)) === undefined) {
      throw new QueryError(
        'size.not-sealed',
        `no seal has tree size ${size}: proofs are for the sizes of seals`,
      );
    }
  }
}
