import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { ConfigError } from '../config/config-error';

/** The `fetch` of the platform, as the SDK and the peer clients call it. */
export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * A `fetch` that trusts the certificates in `caPem` (one or more PEM blocks) — and only them — for
 * HTTPS, and verifies the server's name against its certificate as usual. For a federation behind a
 * private CA (docs/tls.md): the platform's global `fetch` trusts only the system's roots.
 */
export function caTrustingFetch(caPem: string): FetchFunction {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  return (input, init) => undiciFetch(input, { ...(init as object), dispatcher });
}

/**
 * The PEM text of the CA file `variable` names, checked to hold a certificate; a ConfigError naming
 * the variable when it cannot be read or holds none.
 */
export function readCaFile(variable: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      variable,
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(variable, `${file} holds no PEM certificate`);
  return text;
}
