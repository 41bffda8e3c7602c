import { commonConfigShape, databaseConfigShape, loadConfig } from '@cryptomesh/service';

/** The log-signer service's environment (docs/configuration.md lists every variable). */
export function logSignerConfigShape() {
  return { ...commonConfigShape(8084), ...databaseConfigShape() };
}

export type LogSignerConfig = ReturnType<typeof loadLogSignerConfig>;

export function loadLogSignerConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(logSignerConfigShape(), env);
}
