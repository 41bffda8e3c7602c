import { Controller, Get, Header, Param, Query, UseFilters } from '@nestjs/common';
import { LogsService } from './logs.service';
import { QueryErrorFilter } from './query-error.filter';
import { indexParam, peerParam } from './query-params';
import { SHORT_CACHE } from './tile.controller';

/**
 * `GET /logs/{peer}/…` (DESIGN.md "HTTP"; federation.md "Query"). `{peer}` is `self` for this
 * portal's log or a peer id from `federation_peers` for its mirror; any other name is
 * `404 peer.unknown`; a name that is not a portal id at all (alphabet, length) is `400 peer.invalid`.
 * Parameters are checked before the peer is looked up.
 */
@Controller('logs/:peer')
@UseFilters(QueryErrorFilter)
export class LogController {
  constructor(private readonly logs: LogsService) {}

  @Get('checkpoint')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', SHORT_CACHE)
  async checkpoint(@Param('peer') peer: string): Promise<string> {
    return (await this.logs.log(peerParam(peer))).checkpoint();
  }

  @Get('parts/:n')
  async part(@Param('peer') peer: string, @Param('n') n: string) {
    const part = indexParam('part', n);
    return (await this.logs.log(peerParam(peer))).part(part);
  }

  @Get('entries')
  async entries(@Param('peer') peer: string, @Query('start') start: unknown, @Query('end') end: unknown) {
    const range = [indexParam('start', start), indexParam('end', end)] as const;
    return (await this.logs.log(peerParam(peer))).entries(...range);
  }

  @Get('key-transitions')
  async keyTransitions(@Param('peer') peer: string) {
    return (await this.logs.log(peerParam(peer))).keyTransitions();
  }

  @Get('proofs/inclusion')
  async inclusion(@Param('peer') peer: string, @Query('index') index: unknown, @Query('size') size: unknown) {
    const asked = [indexParam('index', index), indexParam('size', size)] as const;
    return (await this.logs.log(peerParam(peer))).inclusion(...asked);
  }

  @Get('proofs/consistency')
  async consistency(@Param('peer') peer: string, @Query('from') from: unknown, @Query('to') to: unknown) {
    const asked = [indexParam('from', from), indexParam('to', to)] as const;
    return (await this.logs.log(peerParam(peer))).consistency(...asked);
  }
}
