/** The validated configuration, provided by GatewayModule.forRoot. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
