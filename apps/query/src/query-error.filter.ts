import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { QUERY_ERROR_STATUS, QueryError } from './query-error';

/** The edge of the query API: a QueryError becomes its HTTP status and `{ "error": { "code", "message" } }`. */
@Catch(QueryError)
export class QueryErrorFilter implements ExceptionFilter {
  catch(error: QueryError, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    void reply
      .status(QUERY_ERROR_STATUS[error.code])
      .header('content-type', 'application/json; charset=utf-8')
      .send({ error: { code: error.code, message: error.message } });
  }
}
