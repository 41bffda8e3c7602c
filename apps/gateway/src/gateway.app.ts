import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceSpec } from '@cryptomesh/service';
import { MeshExceptionFilter } from './protocol/mesh-exception.filter';
import { GatewayConfig, loadGatewayConfig } from './gateway.config';
import { GatewayModule } from './gateway.module';

export const gatewayApp: ServiceSpec<GatewayConfig> = {
  name: 'gateway',
  loadConfig: loadGatewayConfig,
  module: (config) => GatewayModule.forRoot(config),
  bodyLimitBytes: (config) => config.MAX_REQUEST_BYTES,
  bodyParser: false,
  trustedProxies: (config) => config.TRUSTED_PROXIES,
  beforeListen: configureMeshBodies,
  workers: (config) => config.WORKERS,
};

/**
 * JSON bodies reach the controller as raw bytes: the Mesh envelope is parsed there, so that a
 * malformed body gets a Mesh answer. Fastify still enforces the body limit (413) first; the
 * filter answers that, and any other error raised before the controller, in the Mesh envelope.
 */
export function configureMeshBodies(app: INestApplication, config: GatewayConfig): Promise<void> {
  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  app.useGlobalFilters(new MeshExceptionFilter(config.MAX_REQUEST_BYTES));
  return Promise.resolve();
}
