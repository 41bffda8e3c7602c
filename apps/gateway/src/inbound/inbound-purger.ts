import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { purgeInbound } from '@cryptomesh/persistence';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';

const PURGE_INTERVAL_MS = 60_000;

/**
 * Drops the tombstones of deleted items received more than INBOUND_MAX_AGE_MS and an hour ago
 * (`purgeInbound`), once a minute; items not yet deleted stay. A tombstone keeps a replayed
 * envelope from being delivered again; past that age every portal refuses the envelope as stale
 * anyway (docs/design/inbound.md "Access control" 6), so purging never re-opens a replay. Every
 * instance purges; the DELETE is idempotent, and a failed purge only leaves rows for the next one.
 */
@Injectable()
export class InboundPurger implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('inbound');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One purge; resolves how many rows went (0 when it failed: logged, retried next time). */
  async purge(): Promise<number> {
    try {
      const purged = await purgeInbound(this.dataSource.manager, this.config.INBOUND_MAX_AGE_MS);
      if (purged > 0) this.logger.debug({ msg: 'expired inbound items purged', purged });
      return purged;
    } catch (error) {
      this.logger.warn({ msg: 'inbound purge failed; retried in a minute', err: error });
      return 0;
    }
  }
}
