import type { PartSeal } from './log-message';

/** A sealed part as the outbox hands it to the publisher: its seal, then its entries streamed in order. */
export interface OutboxPart {
  readonly seal: PartSeal;
  /** Exactly `seal.size − seal.first` entries, in index order, read lazily (constant memory). */
  readonly entries: AsyncIterable<Uint8Array>;
}

export type PublishOutcome =
  /** `publish` resolved and the cursor now points past this part. */
  | { readonly kind: 'published'; readonly seal: PartSeal }
  /** Every sealed part is published. */
  | { readonly kind: 'idle' }
  /** Another publisher holds the cursor of this topic right now. */
  | { readonly kind: 'busy' };

/**
 * The outbox of this portal's log topic (docs/design/replication.md "Publishing"). The source of
 * publication is the seals table: a seal row exists only once its entries are committed, so every
 * part the outbox hands out is complete and final.
 *
 * `publishNext` MUST, under a lock that excludes every other publisher of `topic` until it
 * returns: read the part at the cursor (or answer `idle`, or `busy` without waiting when another
 * publisher holds the lock), call `publish`, and advance the cursor by one part if and only if
 * `publish` resolved — in one database transaction. If `publish` rejects, or the commit fails, the
 * cursor MUST stay where it was: the part is handed out again (at least once, in order).
 * `status` MUST return the committed cursor and the number of sealed parts.
 */
export interface PublicationOutbox {
  publishNext(topic: string, publish: (part: OutboxPart) => Promise<void>): Promise<PublishOutcome>;
  status(topic: string): Promise<{ readonly nextPart: number; readonly sealedParts: number }>;
}
