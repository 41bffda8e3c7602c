import {
  DynamicModule,
  Global,
  Module,
  OnApplicationShutdown,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { HealthController } from './health/health.controller';
import { HealthRegistry } from './health/health-registry';
import { createRootLogger, loggerOptions } from './logging/logger-options';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { OpenApiController } from './openapi/openapi.controller';
import { OpenApiRegistry } from './openapi/openapi-registry';
import { ROOT_LOGGER, SERVICE_IDENTITY, ServiceIdentity } from './service-identity';

export interface ServiceModuleOptions {
  readonly identity: ServiceIdentity;
  readonly logLevel: string;
  /**
   * True (the default): every request runs in an async context (nestjs-pino's AsyncLocalStorage)
   * that gives its id to every line any code logs while serving it. False: no such context — Node 20
   * then runs no promise hooks, some 16 % of a checkpoint read's CPU (issue #17) — and the
   * service's request paths write their lines with `requestLines` (docs/design/observability.md
   * "Request ids"). Only for a service whose own request paths all do; what else logs during a
   * request (a warning of `/metrics`, Nest's handler of an error no filter took) has no id.
   */
  readonly requestContext?: boolean;
}

/**
 * What every service has: structured logging, `/health`, `/metrics`. Global, so feature modules
 * can inject HealthRegistry and MetricsService without importing it again.
 */
@Global()
@Module({})
export class ServiceModule implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(private readonly health: HealthRegistry) {}

  static forRoot(options: ServiceModuleOptions): DynamicModule {
    const root = createRootLogger(options.identity.name, options.logLevel);
    return {
      module: ServiceModule,
      imports: [LoggerModule.forRoot(loggerOptions(root, options.requestContext ?? true))],
      controllers: [HealthController, MetricsController, OpenApiController],
      providers: [
        { provide: SERVICE_IDENTITY, useValue: options.identity },
        { provide: ROOT_LOGGER, useValue: root },
        HealthRegistry,
        MetricsService,
        OpenApiRegistry,
      ],
      exports: [SERVICE_IDENTITY, ROOT_LOGGER, HealthRegistry, MetricsService, OpenApiRegistry],
    };
  }

  beforeApplicationShutdown(): void {
    this.health.markDraining();
  }

  onApplicationShutdown(): void {
    // Nothing to release here; the hook exists so the order of shutdown is explicit in one place:
    // readiness goes to 503 first (beforeApplicationShutdown), then modules close their resources.
  }
}
