import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/config-error';

/** The variables of docs/tls.md, as commonConfigShape parsed them (paths, unread). */
export interface TlsConfig {
  readonly TLS_CERT_FILE?: string | undefined;
  readonly TLS_KEY_FILE?: string | undefined;
  readonly TLS_CA_FILE?: string | undefined;
}

/** What an HTTPS listener needs, read and checked. */
export interface TlsMaterial {
  /** The private key, PEM. */
  readonly key: string;
  /** The server certificate followed by the chain to send (TLS_CA_FILE), PEM. */
  readonly cert: string;
  /** The certificate's subject and expiry, for the start log line. */
  readonly subject: string;
  readonly validTo: Date;
}

/**
 * The HTTPS material of a service, or undefined when neither TLS_CERT_FILE nor TLS_KEY_FILE is set
 * (plain HTTP, for loopback development). Throws a ConfigError naming the variable and the file when
 * only one of the two is set, a file cannot be read or holds no PEM of the right kind, the key is not
 * the certificate's, or the certificate is not valid at `now` (expired or not yet valid): a service
 * never starts with TLS material that every client would refuse.
 */
export function readTlsMaterial(config: TlsConfig, now: Date = new Date()): TlsMaterial | undefined {
  const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, TLS_CA_FILE: caFile } = config;
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined)
      throw new ConfigError(
        'TLS_CA_FILE',
        'is only used with TLS_CERT_FILE and TLS_KEY_FILE; set both or unset it',
      );
    return undefined;
  }
  if (certFile === undefined)
    throw new ConfigError(
      'TLS_CERT_FILE',
      'is required when TLS_KEY_FILE is set (set both, or neither for plain HTTP)',
    );
  if (keyFile === undefined)
    throw new ConfigError(
      'TLS_KEY_FILE',
      'is required when TLS_CERT_FILE is set (set both, or neither for plain HTTP)',
    );

  const certPem = readPem('TLS_CERT_FILE', certFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new ConfigError('TLS_CERT_FILE', `${certFile} holds no PEM certificate`);
  }
  const keyPem = readPem('TLS_KEY_FILE', keyFile);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(
      'TLS_KEY_FILE',
      `${keyFile} holds no PEM private key (an encrypted key is not supported)`,
    );
  }
  if (!certificate.checkPrivateKey(key))
    throw new ConfigError(
      'TLS_KEY_FILE',
      `${keyFile} is not the private key of the certificate in ${certFile}`,
    );
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  if (now < validFrom)
    throw new ConfigError(
      'TLS_CERT_FILE',
      `the certificate in ${certFile} is not valid before ${validFrom.toISOString()}`,
    );
  if (now > validTo)
    throw new ConfigError(
      'TLS_CERT_FILE',
      `the certificate in ${certFile} expired on ${validTo.toISOString()}; issue a new one`,
    );

  let chain = '';
  if (caFile !== undefined) {
    chain = readPem('TLS_CA_FILE', caFile);
    try {
      new X509Certificate(chain);
    } catch {
      throw new ConfigError('TLS_CA_FILE', `${caFile} holds no PEM certificate`);
    }
  }
  return {
    key: keyPem,
    cert: chain === '' ? certPem : `${certPem.trimEnd()}\n${chain}`,
    subject: certificate.subject,
    validTo,
  };
}

function readPem(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(variable, `cannot read ${file} (${code})`);
  }
}
