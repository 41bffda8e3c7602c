import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LogsService } from './logs.service';
import { answerRefusal } from './query-error.filter';
import { indexParam, peerParam } from './query-params';
import type { ServedLog } from './served-log';
import { SHORT_CACHE } from './tile.controller';

type LogRequest = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, unknown> }>;

/**
 * `GET /logs/{peer}/…` (DESIGN.md "HTTP"; federation.md "Query"): the checkpoint, parts, entries,
 * key transitions and proofs of `self` or of a peer's mirror. `{peer}` is `self` or a peer id from
 * `federation_peers`; any other name is `404 peer.unknown`; a name that is not a portal id at all
 * (alphabet, length) is `400 peer.invalid`. Parameters are checked before the peer is looked up.
 *
 * These are the reads a verifying client or a monitor polls, so they are plain Fastify routes, not
 * a Nest controller (docs/decisions.md "Performance, fourteenth slice"): Nest's router, pipes,
 * interceptors and filters were a fifth of a checkpoint or proof read's CPU. Everything a request
 * meets before and after its handler is the same — the Fastify hooks for the request id, the
 * body-time bound, the metrics and the access line — and a refusal is answered exactly as the
 * QueryErrorFilter answers it for the Nest routes (`answerRefusal`).
 */
@Injectable()
export class LogRoutes implements OnModuleInit {
  private readonly logger = new Logger('query');

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly logs: LogsService,
  ) {}

  /** After Nest registered its own routes and before the server listens. */
  onModuleInit(): void {
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    this.read(fastify, 'checkpoint', () => (log) => log.checkpoint(), {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': SHORT_CACHE,
    });
    this.read(fastify, 'parts/:n', ({ params }) => {
      const part = indexParam('part', params['n']);
      return (log) => log.part(part);
    });
    this.read(fastify, 'entries', ({ query }) => {
      const [start, end] = [indexParam('start', query['start']), indexParam('end', query['end'])];
      return (log) => log.entries(start, end);
    });
    this.read(fastify, 'key-transitions', () => (log) => log.keyTransitions());
    this.read(fastify, 'proofs/inclusion', ({ query }) => {
      const [index, size] = [indexParam('index', query['index']), indexParam('size', query['size'])];
      return (log) => log.inclusion(index, size);
    });
    this.read(fastify, 'proofs/consistency', ({ query }) => {
      const [from, to] = [indexParam('from', query['from']), indexParam('to', query['to'])];
      return (log) => log.consistency(from, to);
    });
  }

  /**
   * `GET /logs/:peer/<path>`: `asked` checks the request's parameters and gives what to answer of
   * the log `{peer}` names, which is looked up only then; `headers` go with a successful answer.
   */
  private read(
    fastify: FastifyInstance,
    path: string,
    asked: (request: LogRequest) => (log: ServedLog) => Promise<unknown>,
    headers: Record<string, string> = {},
  ): void {
    fastify.get(`/logs/:peer/${path}`, async (request: LogRequest, reply: FastifyReply) => {
      try {
        const answer = asked(request);
        const body = await answer(await this.logs.log(peerParam(request.params['peer'])));
        void reply.headers(headers);
        return body;
      } catch (error) {
        answerRefusal(error, request, reply, this.logger);
        return reply;
      }
    });
  }
}
