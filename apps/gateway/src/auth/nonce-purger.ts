import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { purgeCatalogNonces } from '@cryptomesh/persistence';

const PURGE_INTERVAL_MS = 60_000;

/**
 * Deletes expired request nonces once a minute. An expired nonce belongs to a request that the clock
 * window refuses anyway, so purging never re-opens a replay. Every instance purges; the DELETE is
 * idempotent, and a failed purge only leaves rows for the next one.
 */
@Injectable()
export class NoncePurger implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('nonces');
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async purge(): Promise<void> {
    try {
      const purged = await purgeCatalogNonces(this.dataSource.manager, Date.now());
      if (purged > 0) this.logger.debug({ msg: 'expired nonces purged', purged });
    } catch (error) {
      this.logger.warn({ msg: 'nonce purge failed; retried in a minute', err: error });
    }
  }
}
