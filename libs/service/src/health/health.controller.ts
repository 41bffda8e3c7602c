import { Controller, Get, HttpStatus, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HealthRegistry } from './health-registry';
import { SERVICE_IDENTITY, ServiceIdentity } from '../service-identity';

/**
 * `GET /health`: readiness — 200 when every registered check is up, 503 otherwise or while
 * draining. `GET /health/live`: liveness — 200 while the process serves HTTP at all.
 * Orchestrators use `/health/live` to restart and `/health` (or `/health/ready`) to route.
 */
@Controller('health')
export class HealthController {
  private readonly startedAt = Date.now();

  constructor(
    private readonly registry: HealthRegistry,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  @Get()
  async health(@Res({ passthrough: true }) reply: FastifyReply) {
    return this.readiness(reply);
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    return this.readiness(reply);
  }

  @Get('live')
  live() {
    return { status: 'ok', service: this.identity.name, uptimeSeconds: this.uptimeSeconds() };
  }

  private async readiness(reply: FastifyReply) {
    const checks = await this.registry.runAll();
    const allUp = Object.values(checks).every((c) => c.status === 'up');
    const status = this.registry.isDraining ? 'draining' : allUp ? 'ok' : 'unavailable';
    void reply.status(status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status,
      service: this.identity.name,
      version: this.identity.version,
      uptimeSeconds: this.uptimeSeconds(),
      checks,
    };
  }

  private uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }
}
