import forge from 'node-forge';

/** A PEM certificate and its private key, for TLS listeners in tests. */
export interface TestCertificate {
  /** PEM certificate (self-signed, so it is also the CA to trust). */
  cert: string;
  /** PEM private key (PKCS#1 RSA). */
  key: string;
  notBefore: Date;
  notAfter: Date;
}

export interface TestCertificateOptions {
  /** Subject common name; default `localhost`. */
  commonName?: string;
  /** IP subject alternative names; default `127.0.0.1` and `::1`. */
  ips?: string[];
  /** DNS subject alternative names; default `localhost`. */
  dnsNames?: string[];
  /** Validity start; default one hour ago. */
  notBefore?: Date;
  /** Validity end; default one day from now. */
  notAfter?: Date;
  /** RSA key size; default 2048 (forge generates it in pure JS: ~0.1–1 s). */
  bits?: number;
}

/** A self-signed RSA certificate for loopback, made with node-forge (no openssl at test time). */
export function makeTestCertificate(opts: TestCertificateOptions = {}): TestCertificate {
  const keys = forge.pki.rsa.generateKeyPair({ bits: opts.bits ?? 2048, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  const now = Date.now();
  cert.validity.notBefore = opts.notBefore ?? new Date(now - 3_600_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(now + 86_400_000);
  const subject = [{ name: 'commonName', value: opts.commonName ?? 'localhost' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...(opts.dnsNames ?? ['localhost']).map((value) => ({ type: 2, value })),
        ...(opts.ips ?? ['127.0.0.1', '::1']).map((ip) => ({ type: 7, ip })),
      ],
    },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
  };
}
