import type { ServiceSpec } from '@cryptomesh/service';
import { configureMeshBodies } from '../../gateway/src/gateway.app';
import { loadGatewayConfig } from '../../gateway/src/gateway.config';
import { loadLogSignerConfig } from '../../log-signer/src/log-signer.config';
import { loadPortalConfig, PortalConfig } from './portal.config';
import { PortalModule, PortalModuleConfig } from './portal.module';
import type { PortalSetup } from './portal-setup';

export type PortalAppConfig = PortalConfig & { readonly modules: PortalModuleConfig };

/**
 * The single-portal service, once `preparePortal` has provided the database and the log key:
 * each hosted module validates its own variables from the prepared environment, exactly as the
 * separate services do.
 */
export function portalApp(setup: PortalSetup): ServiceSpec<PortalAppConfig> {
  return {
    name: 'portal',
    loadConfig: (env) => {
      // One process within the embedded memory budget (issue #16): no signature worker threads
      // unless asked for (each is a V8 isolate of its own; docs/configuration.md SIGNATURE_WORKERS).
      const merged = { SIGNATURE_WORKERS: '0', ...env, ...setup.env };
      const portal = loadPortalConfig(merged);
      // The hosted modules listen on the portal's one server; their own PORT defaults are not used.
      const gateway = loadGatewayConfig(merged);
      const logSigner = loadLogSignerConfig(merged);
      return { ...portal, modules: { portal, gateway, logSigner } };
    },
    module: (config) => PortalModule.forRoot(config.modules),
    bodyLimitBytes: (config) => config.modules.gateway.MAX_REQUEST_BYTES,
    bodyParser: false,
    trustedProxies: (config) => config.modules.gateway.TRUSTED_PROXIES,
    beforeListen: (app, config) => configureMeshBodies(app, config.modules.gateway),
    afterClose: () => setup.embedded?.stop() ?? Promise.resolve(),
  };
}
