import { commonConfigShape, databaseConfigShape, loadConfig } from '@cryptomesh/service';

/** The gateway service's environment (docs/configuration.md lists every variable). */
export function gatewayConfigShape() {
  return { ...commonConfigShape(8081), ...databaseConfigShape() };
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv) {
  return loadConfig(gatewayConfigShape(), env);
}
