import type { ServiceSpec } from '@cryptomesh/service';
import { QueryConfig, loadQueryConfig } from './query.config';
import { QueryModule } from './query.module';

export const queryApp: ServiceSpec<QueryConfig> = {
  name: 'query',
  loadConfig: loadQueryConfig,
  module: (config) => QueryModule.forRoot(config),
  workers: (config) => config.WORKERS,
};
