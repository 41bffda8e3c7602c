import type { ServiceSpec } from '@cryptomesh/service';
import { GatewayConfig, loadGatewayConfig } from './gateway.config';
import { GatewayModule } from './gateway.module';

export const gatewayApp: ServiceSpec<GatewayConfig> = {
  name: 'gateway',
  loadConfig: loadGatewayConfig,
  module: (config) => GatewayModule.forRoot(config),
};
