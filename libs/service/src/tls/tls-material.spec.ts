import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error';
import { readTlsMaterial, type TlsConfig } from './tls-material';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const localCa = require('../../../../deploy/tls/local-ca') as {
  createLocalCa(dir: string): Promise<{ certPem: string; keyPem: string; certFile: string }>;
  issueServerCertificate(
    dir: string,
    name: string,
    dnsNames: string[],
    ipAddresses: string[],
  ): Promise<{ certFile: string; keyFile: string; caFile: string }>;
};

let dir: string;
let alpha: { certFile: string; keyFile: string; caFile: string };
let beta: { certFile: string; keyFile: string; caFile: string };
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cmp-tls-'));
  alpha = await localCa.issueServerCertificate(dir, 'alpha', ['localhost'], ['127.0.0.1']);
  beta = await localCa.issueServerCertificate(dir, 'beta', ['beta.example'], []);
});

function configError(config: TlsConfig, now?: Date): ConfigError {
  try {
    readTlsMaterial(config, now);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('the local CA (deploy/tls/local-ca.js)', () => {
  it('issues a server certificate that chains to the CA, for the names asked, for serverAuth, for 397 days', () => {
    const ca = new X509Certificate(readFileSync(alpha.caFile));
    const cert = new X509Certificate(readFileSync(alpha.certFile));
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(397);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('evil.example')).toBeUndefined();
  });

  it('keeps private keys owner-only and reuses the CA of the directory', async () => {
    expect(statSync(alpha.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    const again = await localCa.createLocalCa(dir);
    expect(again.certPem).toBe(readFileSync(alpha.caFile, 'utf8'));
    expect(beta.caFile).toBe(alpha.caFile);
  });

  it('refuses a certificate name that is not a plain file name, and no names at all', async () => {
    await expect(localCa.issueServerCertificate(dir, '../x', ['localhost'], [])).rejects.toThrow(
      /must match/,
    );
    await expect(localCa.issueServerCertificate(dir, 'x', [], [])).rejects.toThrow(/at least one/);
  });
});

describe('readTlsMaterial', () => {
  it('is plain HTTP (undefined) without TLS_CERT_FILE and TLS_KEY_FILE', () => {
    expect(readTlsMaterial({})).toBeUndefined();
  });

  it('reads a certificate and its key, and appends the chain of TLS_CA_FILE', () => {
    const material = readTlsMaterial({ TLS_CERT_FILE: alpha.certFile, TLS_KEY_FILE: alpha.keyFile })!;
    expect(material.key).toBe(readFileSync(alpha.keyFile, 'utf8'));
    expect(material.cert).toBe(readFileSync(alpha.certFile, 'utf8'));
    expect(material.subject).toContain('CN=localhost');
    const chained = readTlsMaterial({
      TLS_CERT_FILE: alpha.certFile,
      TLS_KEY_FILE: alpha.keyFile,
      TLS_CA_FILE: alpha.caFile,
    })!;
    expect(chained.cert.endsWith(readFileSync(alpha.caFile, 'utf8'))).toBe(true);
  });

  it('wants both files or neither, and TLS_CA_FILE only with them', () => {
    expect(configError({ TLS_CERT_FILE: alpha.certFile })).toMatchObject({ variable: 'TLS_KEY_FILE' });
    expect(configError({ TLS_KEY_FILE: alpha.keyFile })).toMatchObject({ variable: 'TLS_CERT_FILE' });
    expect(configError({ TLS_CA_FILE: alpha.caFile })).toMatchObject({ variable: 'TLS_CA_FILE' });
  });

  it('names the variable and the file that cannot be read or holds the wrong thing', () => {
    const missing = join(dir, 'missing.pem');
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem\n');
    expect(configError({ TLS_CERT_FILE: missing, TLS_KEY_FILE: alpha.keyFile }).message).toBe(
      `TLS_CERT_FILE: cannot read ${missing} (ENOENT)`,
    );
    expect(configError({ TLS_CERT_FILE: garbage, TLS_KEY_FILE: alpha.keyFile }).message).toBe(
      `TLS_CERT_FILE: ${garbage} holds no PEM certificate`,
    );
    expect(configError({ TLS_CERT_FILE: alpha.certFile, TLS_KEY_FILE: garbage }).message).toContain(
      `TLS_KEY_FILE: ${garbage} holds no PEM private key`,
    );
    expect(configError({ TLS_CERT_FILE: alpha.certFile, TLS_KEY_FILE: alpha.certFile })).toMatchObject({
      variable: 'TLS_KEY_FILE',
    });
    expect(
      configError({ TLS_CERT_FILE: alpha.certFile, TLS_KEY_FILE: alpha.keyFile, TLS_CA_FILE: garbage }),
    ).toMatchObject({ variable: 'TLS_CA_FILE' });
  });

  it('refuses a key that is not the certificate’s', () => {
    expect(configError({ TLS_CERT_FILE: alpha.certFile, TLS_KEY_FILE: beta.keyFile }).message).toBe(
      `TLS_KEY_FILE: ${beta.keyFile} is not the private key of the certificate in ${alpha.certFile}`,
    );
  });

  it('refuses a certificate that expired or is not valid yet', () => {
    const config = { TLS_CERT_FILE: alpha.certFile, TLS_KEY_FILE: alpha.keyFile };
    expect(configError(config, new Date(Date.now() + 400 * 86_400_000)).message).toMatch(
      /^TLS_CERT_FILE: the certificate in .* expired on /,
    );
    expect(configError(config, new Date(Date.now() - 86_400_000)).message).toMatch(/is not valid before/);
  });
});
