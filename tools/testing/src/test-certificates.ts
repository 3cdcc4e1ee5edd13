import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A PEM certificate with its private key. */
export interface TestKeyPair {
  certPem: string;
  keyPem: string;
}

/** What {@link TestCa.issue} puts into a certificate. */
export interface IssueOptions {
  commonName: string;
  /** SAN IP addresses (default `127.0.0.1`, `::1`). */
  ipAddresses?: string[];
  /** SAN DNS names (default `localhost`). */
  dnsNames?: string[];
  /** Extended key usages (default server and client auth). */
  usage?: ('server' | 'client')[];
  /** Validity in days from now (default 1; negative = already expired). */
  days?: number;
}

/** A throw-away CA for TLS tests that need a chain (mTLS); `makeTestCertificate` makes a single self-signed one. */
export interface TestCa {
  readonly certPem: string;
  issue(options: IssueOptions): TestKeyPair;
}

/** RSA keys come from node's crypto (fast); node-forge builds and signs the certificates. */
function rsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), keyPem: privateKey };
}

function serial(): string {
  // Positive, non-zero serial.
  return `01${randomBytes(15).toString('hex')}`;
}

function validity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(Math.min(now, now + days * 86_400_000) - 60_000 - (days < 0 ? 86_400_000 : 0));
  cert.validity.notAfter = new Date(now + days * 86_400_000);
}

/** Creates a CA (self-signed, RSA 2048) that issues leaf certificates for loopback TLS tests. */
export function createTestCa(commonName = 'talk-signaling test CA'): TestCa {
  const ca = rsaKeyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serial();
  validity(caCert, 1);
  const caSubject = [{ name: 'commonName', value: commonName }];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(caCert);

  return {
    certPem,
    issue(options: IssueOptions): TestKeyPair {
      const leaf = rsaKeyPair();
      const cert = forge.pki.createCertificate();
      cert.publicKey = leaf.publicKey;
      cert.serialNumber = serial();
      validity(cert, options.days ?? 1);
      cert.setSubject([{ name: 'commonName', value: options.commonName }]);
      cert.setIssuer(caSubject);
      const usage = options.usage ?? ['server', 'client'];
      const altNames = [
        ...(options.dnsNames ?? ['localhost']).map((value) => ({ type: 2, value })),
        ...(options.ipAddresses ?? ['127.0.0.1', '::1']).map((ip) => ({ type: 7, ip })),
      ];
      cert.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: usage.includes('server'), clientAuth: usage.includes('client') },
        { name: 'subjectAltName', altNames },
      ]);
      cert.sign(ca.privateKey, forge.md.sha256.create());
      return { certPem: forge.pki.certificateToPem(cert), keyPem: leaf.keyPem };
    },
  };
}
