import { Controller, Get, Header, Param, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { TILE_WIDTH, isLogError, parseTilePath, type TileCoord } from '@cryptomesh/log';
import { LogsService } from './logs.service';
import { QueryError } from './query-error';
import { QueryErrorFilter } from './query-error.filter';
import { peerParam } from './query-params';

/** Full tiles and bundles never change (C2SP tlog-tiles: "This endpoint is immutable"). */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** A partial tile is a prefix of what the tile becomes; served briefly, like the checkpoint. */
export const SHORT_CACHE = 'public, max-age=5';

/**
 * `GET /logs/{peer}/tile/<L>/<N>[.p/<W>]` and `GET /logs/{peer}/tile/entries/<N>[.p/<W>]`: the log
 * as C2SP tlog-tiles (docs/design/query.md "Tiles"), `application/octet-stream`. A path not in the
 * spec's exact encoding is `400 tile.invalid`; a tile the latest seal does not reach is
 * `404 tile.not-found`. Full tiles and bundles carry `Cache-Control: immutable`, partial ones a
 * short max-age.
 */
@Controller('logs/:peer/tile')
@UseFilters(QueryErrorFilter)
export class TileController {
  constructor(private readonly logs: LogsService) {}

  @Get('*')
  @Header('Content-Type', 'application/octet-stream')
  async tile(
    @Param('peer') peer: string,
    @Param('*') path: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const tile = tileParam(path);
    const bytes = await (await this.logs.log(peerParam(peer))).tile(tile);
    void reply.header('Cache-Control', tile.width === TILE_WIDTH ? IMMUTABLE_CACHE : SHORT_CACHE);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

function tileParam(path: unknown): TileCoord {
  try {
    return parseTilePath(typeof path === 'string' ? path : '');
  } catch (error) {
    if (isLogError(error)) throw new QueryError('tile.invalid', error.message);
    throw error;
  }
}
