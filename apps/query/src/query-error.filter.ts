import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestLines } from '@cryptomesh/service';
import { QUERY_ERROR_STATUS, QueryError } from './query-error';

/**
 * The edge of the query API: a QueryError becomes its HTTP status and `{ "error": { "code",
 * "message" } }`. Anything else thrown by a query route is answered the same way — an HttpException
 * with its own status (code `request.invalid` below 500), any other error `500 internal` with its
 * stack logged once — and this filter MUST NOT fail itself: the body is sent as JSON text with its
 * own content type, whatever a route's `@Header` set before its handler threw (an object sent under
 * a `text/plain` type made Fastify throw on the error path, issue #16).
 */
@Catch()
export class QueryErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('query');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    answerRefusal(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}

/**
 * Answers `error` as the query API refuses (QueryErrorFilter): what the filter does for the Nest
 * routes, and what the log reads served by Fastify directly (log-routes.ts) do themselves.
 */
export function answerRefusal(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): void {
  const { status, code, message } = refusalOf(error);
  if (status >= 500) {
    // With the request's id: the query service binds no request context (query.module.ts).
    requestLines(request.raw, 'query', logger).error({
      msg: 'query failed',
      method: request.method,
      url: request.url,
      err: error,
    });
  }
  void reply
    .status(status)
    .header('content-type', 'application/json; charset=utf-8')
    .send(JSON.stringify({ error: { code, message } }));
}

function refusalOf(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof QueryError)
    return { status: QUERY_ERROR_STATUS[error.code], code: error.code, message: error.message };
  if (error instanceof HttpException && error.getStatus() < 500)
    return {
      status: error.getStatus(),
      code: error.getStatus() === 404 ? 'not-found' : 'request.invalid',
      message: error.message,
    };
  return { status: 500, code: 'internal', message: 'the portal could not answer; try again later' };
}
