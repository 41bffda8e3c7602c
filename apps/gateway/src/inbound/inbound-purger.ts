import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { purgeInbound } from '@cryptomesh/persistence';
import type { GatewayConfig } from '../gateway.config';
import { GATEWAY_CONFIG } from '../gateway.tokens';

const PURGE_INTERVAL_MS = 60_000;

/**
 * Drops the spool's tombstones (deleted inbound items) older than INBOUND_MAX_AGE_MS once a minute.
 * A tombstone keeps a replayed envelope from being delivered again; past that age no portal takes the
 * envelope anyway (the gateway takes none older than CLOCK_SKEW_MS, a relay none older than
 * INBOUND_MAX_AGE_MS), so purging never re-opens a replay. Every instance purges; the DELETE is
 * idempotent, and a failed purge only leaves rows for the next one.
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

  /** One purge; resolves how many tombstones went (0 when it failed: logged, retried next time). */
  async purge(): Promise<number> {
    try {
      const purged = await purgeInbound(this.dataSource.manager, this.config.INBOUND_MAX_AGE_MS);
      if (purged > 0) this.logger.debug({ msg: 'expired inbound tombstones purged', purged });
      return purged;
    } catch (error) {
      this.logger.warn({ msg: 'inbound purge failed; retried in a minute', err: error });
      return 0;
    }
  }
}
