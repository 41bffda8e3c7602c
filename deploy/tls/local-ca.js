#!/usr/bin/env node
'use strict';
/**
 * A local certificate authority for the local federation and the docker-compose deployment
 * (docs/tls.md): one CA (ECDSA P-256, 10 years) and server certificates it signs (ECDSA P-256,
 * 397 days, serverAuth, subjectAltName). Not for production: there, certificates come from the
 * operator's own CA or ACME.
 *
 *   await createLocalCa(dir)                                       -> { certPem, keyPem, certFile }
 *   await issueServerCertificate(dir, name, dnsNames, ipAddresses) -> { certFile, keyFile }
 *
 * CLI: node deploy/tls/local-ca.js <dir> <name> [--dns a,b] [--ip 127.0.0.1,::1]
 * Private keys are written with mode 0600. Both functions are async (WebCrypto).
 */
require('reflect-metadata');
const fs = require('node:fs');
const path = require('node:path');
const { webcrypto, randomBytes } = require('node:crypto');
const x509 = require('@peculiar/x509');

x509.cryptoProvider.set(webcrypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
/** The longest validity browsers accept for a server certificate. */
const SERVER_DAYS = 397;
/** Issued a little in the past, so that a clock slightly behind still accepts it. */
const BACKDATE_MS = 5 * 60 * 1000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const files = (dir) => ({ cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca-key.pem') });

function serialNumber() {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // a positive INTEGER
  return bytes.toString('hex');
}

function toPem(label, der) {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

function fromPem(pem) {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

/**
 * The CA of `dir`: created (ca.pem, ca-key.pem) when absent, reused when present, so that every
 * certificate issued from `dir` chains to the same root. Resolves to its PEMs and the cert path.
 */
async function createLocalCa(dir) {
  const f = files(dir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (fs.existsSync(f.cert) && fs.existsSync(f.key)) {
    return {
      certPem: fs.readFileSync(f.cert, 'utf8'),
      keyPem: fs.readFileSync(f.key, 'utf8'),
      certFile: f.cert,
    };
  }
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: 'CN=CryptoMesh local CA, O=CryptoMesh Portal (development)',
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const certPem = cert.toString('pem') + '\n';
  fs.writeFileSync(f.key, keyPem, { mode: 0o600 });
  fs.writeFileSync(f.cert, certPem, { mode: 0o644 });
  return { certPem, keyPem, certFile: f.cert };
}

/**
 * A server certificate for `name` signed by the CA of `dir` (created if absent), valid for the
 * given DNS names and IP addresses: `<dir>/<name>.pem` (the certificate followed by the CA's, the
 * chain a server sends) and `<dir>/<name>-key.pem` (0600). Replaces an earlier one of that name.
 */
async function issueServerCertificate(dir, name, dnsNames = [], ipAddresses = []) {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new Error(`certificate name ${JSON.stringify(name)} must match ${NAME}`);
  if (dnsNames.length + ipAddresses.length === 0)
    throw new Error(`${name}: at least one DNS name or IP address`);
  const ca = await createLocalCa(dir);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', fromPem(ca.keyPem), ALGORITHM, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${dnsNames[0] ?? ipAddresses[0]}, O=CryptoMesh Portal ${name}`,
    issuer: caCert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + SERVER_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...dnsNames.map((value) => ({ type: 'dns', value })),
        ...ipAddresses.map((value) => ({ type: 'ip', value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}-key.pem`);
  fs.writeFileSync(
    keyFile,
    toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    {
      mode: 0o600,
    },
  );
  fs.writeFileSync(certFile, `${cert.toString('pem')}\n${ca.certPem}`, { mode: 0o644 });
  return { certFile, keyFile, caFile: ca.certFile };
}

module.exports = { createLocalCa, issueServerCertificate };

if (require.main === module) {
  const args = process.argv.slice(2);
  const list = (flag) => {
    const i = args.indexOf(flag);
    if (i < 0) return [];
    const value = args.splice(i, 2)[1];
    return value === undefined
      ? []
      : value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  };
  const dns = list('--dns');
  const ip = list('--ip');
  const [dir, name] = args;
  if (!dir || !name || args.length !== 2) {
    process.stderr.write('usage: node deploy/tls/local-ca.js <dir> <name> [--dns a,b] [--ip 127.0.0.1]\n');
    process.exit(2);
  }
  issueServerCertificate(
    dir,
    name,
    dns.length + ip.length > 0 ? dns : ['localhost'],
    ip.length > 0 ? ip : dns.length > 0 ? [] : ['127.0.0.1'],
  )
    .then(({ certFile, keyFile, caFile }) => process.stdout.write(`${certFile}\n${keyFile}\n${caFile}\n`))
    .catch((error) => {
      process.stderr.write(`local-ca: ${error.message}\n`);
      process.exit(1);
    });
}
