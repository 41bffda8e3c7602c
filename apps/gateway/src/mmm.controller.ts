import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Logger,
  Patch,
  Post,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MetricsService, requestIdOf, requestLines } from '@cryptomesh/service';
import type { GatewayConfig } from './gateway.config';
import { GatewayMetrics } from './gateway.metrics';
import { GATEWAY_CONFIG } from './gateway.tokens';
import { checkCharset, errorEnvelope, parseEnvelope, successEnvelope } from './protocol/envelope';
import { GatewayError } from './protocol/gateway-error';
import { TokenBuckets } from './protocol/token-bucket';
import { Transaction, TRANSACTIONS } from './protocol/transaction';

/**
 * `POST /.well-known/mmm/`: the Mesh JSON web service binding. The body arrives as raw bytes (the
 * gateway installs a buffer parser for application/json) so that every malformed body is answered
 * in the Mesh envelope, never with a framework error page.
 */
@Controller('.well-known/mmm')
export class MmmController {
  private readonly logger = new Logger('mmm');
  private readonly byName: ReadonlyMap<string, Transaction>;
  private readonly perAddress: TokenBuckets;
  private readonly metrics: GatewayMetrics;

  constructor(
    @Inject(TRANSACTIONS) transactions: Transaction[],
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    metrics: MetricsService,
  ) {
    this.byName = new Map(transactions.map((t) => [t.name, t]));
    const rate = config.RATE_LIMIT_ADDRESS_PER_MINUTE;
    this.perAddress = new TokenBuckets(rate, Math.max(10, Math.ceil(rate / 6)), Date.now);
    this.metrics = new GatewayMetrics(metrics);
  }

  @Post()
  @HttpCode(200)
  async handle(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    let name: string | undefined;
    try {
      const wait = this.perAddress.take(request.ip);
      if (wait > 0) {
        throw new GatewayError('rate.limited', `too many requests from this address; retry in ${wait} s`, {
          retryAfterSeconds: wait,
        });
      }
      const raw = request.body;
      if (!(raw instanceof Uint8Array)) {
        throw new GatewayError(
          'request.unsupported-media-type',
          'send the request as Content-Type: application/json',
        );
      }
      checkCharset(request.headers['content-type']);
      const envelope = parseEnvelope(raw);
      name = envelope.name;
      const transaction = this.byName.get(envelope.name);
      if (!transaction) {
        name = undefined;
        throw new GatewayError(
          'request.unknown-transaction',
          `no transaction is named ${JSON.stringify(envelope.name)}`,
        );
      }
      const requestId = requestIdOf(request.raw);
      const fields = await transaction.handle(envelope.body, {
        clientAddress: request.ip,
        receivedAtMs: Date.now(),
        ...(requestId === undefined ? {} : { requestId }),
      });
      this.metrics.transactions.inc({ transaction: envelope.name, outcome: 'ok' });
      // Fastify's clock starts when the request arrives, before its body is read.
      this.metrics.acceptanceSeconds.observe({ transaction: envelope.name }, reply.elapsedTime / 1000);
      return successEnvelope(envelope.name, fields);
    } catch (error) {
      const refusal = asGatewayError(error);
      if (refusal.code === 'internal')
        requestLines(request.raw, 'mmm', this.logger).error({
          msg: 'transaction failed',
          transaction: name,
          err: error,
        });
      this.metrics.transactions.inc({ transaction: name ?? 'unknown', outcome: refusal.code });
      void reply.status(refusal.httpStatus);
      if (refusal.details.retryAfterSeconds)
        void reply.header('Retry-After', String(refusal.details.retryAfterSeconds));
      return errorEnvelope(name, refusal);
    }
  }
}

/**
 * Any other method on the protocol's path: `405 request.method-not-allowed` with `Allow: POST`, in
 * the Mesh envelope (RFC 9110 §15.5.6), not a 404 that says the path does not exist (issue #16).
 */
@Controller('.well-known/mmm')
export class MmmMethodController {
  @Get()
  get(@Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    return notAllowed(reply, 'GET');
  }

  @Put()
  put(@Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    return notAllowed(reply, 'PUT');
  }

  @Patch()
  patch(@Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    return notAllowed(reply, 'PATCH');
  }

  @Delete()
  delete(@Res({ passthrough: true }) reply: FastifyReply): Record<string, unknown> {
    return notAllowed(reply, 'DELETE');
  }
}

function notAllowed(reply: FastifyReply, method: string): Record<string, unknown> {
  const refusal = new GatewayError(
    'request.method-not-allowed',
    `${method} is not a method of the Mesh protocol: POST {"<Name>Request": {...}} to /.well-known/mmm/`,
  );
  void reply.status(refusal.httpStatus).header('Allow', 'POST');
  return errorEnvelope(undefined, refusal);
}

function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError(
    'internal',
    'the portal could not complete the request; nothing was changed',
    {},
    { cause: error },
  );
}
