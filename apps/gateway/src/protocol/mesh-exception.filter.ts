import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestLines } from '@cryptomesh/service';
import { errorEnvelope } from './envelope';
import { GatewayError, GatewayErrorCode } from './gateway-error';

/**
 * Errors raised before the controller runs — Fastify's body limit (413) and media-type check
 * (415), or a route Nest could not match — reach Nest's exception handling, not the controller.
 * On the protocol's path they are answered in the Mesh envelope like every other refusal;
 * elsewhere (health, metrics) Nest's usual JSON error stands.
 */
@Catch()
export class MeshExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(private readonly bodyLimitBytes: number) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const status = statusOf(exception);
    if (status >= 500) {
      // With the request's id: the gateway binds no request context (gateway.module.ts).
      requestLines(request.raw, 'http', this.logger).error({
        msg: 'request failed',
        method: request.method,
        url: request.url,
        err: exception,
      });
    }
    if (!request.url.startsWith('/.well-known/mmm')) {
      const body =
        exception instanceof HttpException
          ? exception.getResponse()
          : { statusCode: status, message: status < 500 ? messageOf(exception) : 'Internal Server Error' };
      void reply.status(status).send(body);
      return;
    }
    const refusal = new GatewayError(codeFor(status), describe(status, exception, this.bodyLimitBytes));
    void reply.status(refusal.httpStatus).send(errorEnvelope(undefined, refusal));
  }
}

function statusOf(exception: unknown): number {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function codeFor(status: number): GatewayErrorCode {
  if (status === 413) return 'request.too-large';
  if (status === 415) return 'request.unsupported-media-type';
  if (status === 404) return 'request.unknown-transaction';
  return status < 500 ? 'request.malformed' : 'internal';
}

function describe(status: number, exception: unknown, limit: number): string {
  if (status === 413) return `the body exceeds the portal's limit of ${limit} bytes`;
  if (status === 415) return 'send the request as Content-Type: application/json';
  if (status >= 500) return 'the portal could not complete the request; nothing was changed';
  return messageOf(exception);
}

function messageOf(exception: unknown): string {
  return exception instanceof Error ? exception.message : String(exception);
}
