import {
  commonConfigShape,
  databaseConfigShape,
  loadConfig,
  logBacklogConfigShape,
} from '@cryptomesh/service';

/** The query service's environment (docs/configuration.md lists every variable). */
export function queryConfigShape() {
  return { ...commonConfigShape(8082), ...databaseConfigShape(), ...logBacklogConfigShape() };
}

export type QueryConfig = ReturnType<typeof loadQueryConfig>;

export function loadQueryConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(queryConfigShape(), env);
}
