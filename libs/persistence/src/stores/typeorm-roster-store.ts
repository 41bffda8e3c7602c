import type { DataSource } from 'typeorm';
import type { RosterPeer, RosterPortal, RosterStore } from '@cryptomesh/audit';

/** The federation roster over PostgreSQL (`federation_portal`, `federation_peers`): the `RosterStore` port. */
export class TypeOrmRosterStore implements RosterStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Replaces the roster: this portal and its configured peers (peers no longer configured are kept, flagged). */
  async writeRoster(portal: RosterPortal, peers: readonly RosterPeer[]): Promise<void> {
    // One transaction: the query service never serves a roster half written.
    await this.dataSource.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO federation_portal (one, portal_id, witness_key, quorum, updated_at)
         VALUES (true, $1, $2, $3, now())
         ON CONFLICT (one) DO UPDATE
           SET portal_id = $1, witness_key = $2, quorum = $3, updated_at = now()`,
        [portal.id, portal.witnessKey ?? null, portal.quorum],
      );
      await tx.query(`UPDATE federation_peers SET configured = false, updated_at = now()`);
      for (const peer of peers) {
        await tx.query(
          `INSERT INTO federation_peers (peer, origin, verifier_key, witness_key, query_url, configured, updated_at)
           VALUES ($1, $2, $3, $4, $5, true, now())
           ON CONFLICT (peer) DO UPDATE
             SET origin = $2, verifier_key = $3, witness_key = $4, query_url = $5, configured = true,
                 updated_at = now()`,
          [peer.id, peer.origin, peer.verifierKey, peer.witnessKey, peer.queryUrl],
        );
      }
    });
  }
}
