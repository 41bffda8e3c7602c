import type { ServiceSpec } from '@cryptomesh/service';
import { LogSignerConfig, loadLogSignerConfig } from './log-signer.config';
import { LogSignerModule } from './log-signer.module';

export const logSignerApp: ServiceSpec<LogSignerConfig> = {
  name: 'log-signer',
  loadConfig: loadLogSignerConfig,
  module: (config) => LogSignerModule.forRoot(config),
};
