import { Test } from '@nestjs/testing';
import { HealthController } from './health/health.controller';
import { HealthRegistry } from './health/health-registry';
import { MetricsService } from './metrics/metrics.service';
import { ServiceModule } from './service.module';

/**
 * Proves constructor injection by type works under the test transform: HealthController and
 * MetricsService receive their dependencies only through emitted decorator metadata
 * (`design:paramtypes`). The built services prove the same for the `tsc` build
 * (test/integration/services.spec.ts).
 */
describe('ServiceModule dependency injection', () => {
  it('injects by constructor parameter type', async () => {
    expect(Reflect.getMetadata('design:paramtypes', HealthController)).toEqual([HealthRegistry, Object]);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServiceModule.forRoot({ identity: { name: 'di-test', version: '9.9.9' }, logLevel: 'silent' }),
      ],
    }).compile();
    const registry = moduleRef.get(HealthRegistry);
    registry.register('always-down', () => Promise.reject(new Error('nope')));
    const controller = moduleRef.get(HealthController);
    const reply = { status: jest.fn() };
    const body = await controller.health(reply as never);
    expect(body).toMatchObject({ status: 'unavailable', service: 'di-test', version: '9.9.9' });
    expect(body.checks['always-down']).toMatchObject({ status: 'down', error: 'nope' });
    expect(reply.status).toHaveBeenCalledWith(503);
    expect(await moduleRef.get(MetricsService).registry.metrics()).toContain('service="di-test"');
    await moduleRef.close();
  });
});
