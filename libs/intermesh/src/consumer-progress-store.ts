/**
 * Where a consumer keeps how far it has processed each topic partition (DESIGN.md "Kafka":
 * progress is stored in the portal's database in the same transaction as the data written).
 *
 * `Tx` is the adapter's transaction handle: `advance` MUST take effect only if that transaction
 * commits, and MUST refuse to move progress backwards (a replayed message is skipped, never
 * re-applied). `read` MUST return the value of the last committed `advance`, or undefined.
 */
export interface ConsumerProgressStore<Tx> {
  read(consumer: string, topic: string, partition: number): Promise<bigint | undefined>;
  advance(tx: Tx, consumer: string, topic: string, partition: number, nextOffset: bigint): Promise<void>;
}
