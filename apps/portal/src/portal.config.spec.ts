import { ConfigError } from '@cryptomesh/service';
import { loadPortalConfig } from './portal.config';

describe('portal configuration: EMBEDDED_WASM_OPTIMISE (issue #16)', () => {
  it('defaults to the baseline WebAssembly tier, the one that keeps the portal under 250 MB', () => {
    expect(loadPortalConfig({}).EMBEDDED_WASM_OPTIMISE).toBe(false);
    expect(loadPortalConfig({ EMBEDDED_WASM_OPTIMISE: 'false' }).EMBEDDED_WASM_OPTIMISE).toBe(false);
    expect(loadPortalConfig({ EMBEDDED_WASM_OPTIMISE: 'true' }).EMBEDDED_WASM_OPTIMISE).toBe(true);
  });

  it('refuses anything but true or false, naming the variable', () => {
    let error: unknown;
    try {
      loadPortalConfig({ EMBEDDED_WASM_OPTIMISE: 'yes' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('EMBEDDED_WASM_OPTIMISE');
  });
});
