export { ConfigError } from './config/config-error';
export {
  loadConfig,
  integerVar,
  portVar,
  postgresUrlVar,
  kafkaBrokersVar,
  enumVar,
  optionalPathVar,
} from './config/env';
export type { Env } from './config/env';
export { commonConfigShape } from './config/service-config';
export { databaseConfigShape } from './config/database-config';
export { logBacklogConfigShape } from './config/log-backlog-config';
export { workersConfigShape } from './cluster/service-cluster';
export { HealthRegistry } from './health/health-registry';
export type { HealthCheck, CheckResult } from './health/health-registry';
export { MetricsService } from './metrics/metrics.service';
export { registerDatabasePoolMetrics } from './metrics/database-pool.metrics';
export type { DatabasePool } from './metrics/database-pool.metrics';
export { REQUEST_ID_HEADER, acceptRequestId, requestIdOf } from './logging/request-id';
export { LogGate } from './logging/log-gate';
export { requestLines } from './logging/logger-options';
export type { LineLogger } from './logging/logger-options';
export { SerialTicker } from './serial-ticker';
export { ServiceModule } from './service.module';
export type { ServiceModuleOptions } from './service.module';
export { SERVICE_IDENTITY } from './service-identity';
export type { ServiceIdentity } from './service-identity';
export { createService, runService, EXIT_CONFIG } from './service-bootstrap';
export type { CommonConfig, ServiceSpec, RunningService } from './service-bootstrap';
export { packageVersion } from './package-version';
export { OpenApiRegistry } from './openapi/openapi-registry';
export type { OpenApiFragment } from './openapi/openapi-registry';
export { ReplacingTimer } from './replacing-timer';
export { WakeableDelay } from './wakeable-delay';
export { RetryLoop } from './retry-loop';
export type { RetryLoopOptions } from './retry-loop';
export { generateSignerKey, loadSignerKey, runKeygen } from './keys/signer-key-file';
export type { KeygenIo, SignerKeySpec } from './keys/signer-key-file';
export { readTlsMaterial } from './tls/tls-material';
export type { TlsConfig, TlsMaterial } from './tls/tls-material';
export { caTrustingFetch, readCaFile } from './tls/ca-fetch';
export type { FetchFunction } from './tls/ca-fetch';
export { SignaturePool, signatureWorkersConfigShape } from './signatures/signature-pool';
export type { SignaturePoolOptions } from './signatures/signature-pool';
export { SignatureWorkers } from './signatures/signature-workers';
