import { Controller, Get, Header, Param, Query, UseFilters } from '@nestjs/common';
import { QueryError } from './query-error';
import { QueryErrorFilter } from './query-error.filter';
import { indexParam } from './query-params';
import { SelfLogService } from './self-log.service';

/**
 * `GET /logs/{peer}/…` (DESIGN.md "HTTP"). `{peer}` is `self` for this portal's log; mirrors of
 * peers' logs arrive with the federation (issue #6), until then any other peer is 404.
 */
@Controller('logs/:peer')
@UseFilters(QueryErrorFilter)
export class LogController {
  constructor(private readonly self: SelfLogService) {}

  @Get('checkpoint')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  async checkpoint(@Param('peer') peer: string): Promise<string> {
    return this.logOf(peer).checkpoint();
  }

  @Get('parts/:n')
  async part(@Param('peer') peer: string, @Param('n') n: string) {
    const log = this.logOf(peer);
    return log.part(indexParam('part', n));
  }

  @Get('entries')
  async entries(@Param('peer') peer: string, @Query('start') start: unknown, @Query('end') end: unknown) {
    const log = this.logOf(peer);
    return log.entries(indexParam('start', start), indexParam('end', end));
  }

  @Get('proofs/inclusion')
  async inclusion(@Param('peer') peer: string, @Query('index') index: unknown, @Query('size') size: unknown) {
    const log = this.logOf(peer);
    return log.inclusion(indexParam('index', index), indexParam('size', size));
  }

  @Get('proofs/consistency')
  async consistency(@Param('peer') peer: string, @Query('from') from: unknown, @Query('to') to: unknown) {
    const log = this.logOf(peer);
    return log.consistency(indexParam('from', from), indexParam('to', to));
  }

  private logOf(peer: string): SelfLogService {
    if (peer !== 'self')
      throw new QueryError(
        'peer.not-found',
        `no log of peer ${JSON.stringify(peer.slice(0, 80))} is mirrored here`,
      );
    return this.self;
  }
}
