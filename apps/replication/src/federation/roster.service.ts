import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { RosterStore } from '@cryptomesh/audit';
import { ROSTER_STORE } from './federation-tokens';
import { FEDERATION_CONTEXT, type FederationContext } from './witness.service';

/**
 * Writes the federation this service was configured with into the database (`federation_portal`,
 * `federation_peers`) before anything else of the federation starts, so that the query service
 * serves `/federation` and the mirrors without a configuration of its own.
 */
@Injectable()
export class RosterService implements OnModuleInit {
  constructor(
    @Inject(FEDERATION_CONTEXT) private readonly context: FederationContext,
    @Inject(ROSTER_STORE) private readonly store: RosterStore,
  ) {}

  async onModuleInit(): Promise<void> {
    const { portalId, witnessKey, quorum, peers } = this.context;
    await this.store.writeRoster(
      { id: portalId, witnessKey: witnessKey?.verifierKey.text, quorum },
      peers.map((p) => ({
        id: p.id,
        origin: p.origin,
        verifierKey: p.verifierKey.text,
        witnessKey: p.witnessKey.text,
        queryUrl: p.queryUrl,
      })),
    );
  }
}
