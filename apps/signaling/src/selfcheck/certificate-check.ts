import { readFile } from 'node:fs/promises';
import forge from 'node-forge';
import type { CheckResult } from './self-check';

/** Certificates expiring within this many days get a warning. */
const EXPIRY_WARNING_DAYS = 14;

/** `[https] certificate` / `key`: readable, parseable, not expired, and the key belongs to the certificate. */
export async function checkCertificate(certificateFile: string, keyFile: string, now = new Date()): Promise<CheckResult[]> {
  const name = `[https] certificate ${certificateFile}`;
  let cert: forge.pki.Certificate;
  let key: forge.pki.rsa.PrivateKey | undefined;
  try {
    cert = forge.pki.certificateFromPem(await readFile(certificateFile, 'utf8'));
  } catch (err) {
    return [{ name, status: 'error', detail: `cannot read the certificate: ${(err as Error).message}`, hint: 'certificate must be a PEM file (the chain, server certificate first) readable by the server' }];
  }
  const keyText = await readFile(keyFile, 'utf8').catch((err: Error) => err);
  if (keyText instanceof Error) {
    return [{ name, status: 'error', detail: `cannot read the key ${keyFile}: ${keyText.message}`, hint: 'key must be a PEM private key file readable by the server' }];
  }
  try {
    key = forge.pki.privateKeyFromPem(keyText) as forge.pki.rsa.PrivateKey;
  } catch {
    key = undefined; // not an RSA key forge can read (e.g. EC): the match cannot be checked here
  }
  const results: CheckResult[] = [];
  const subject = String(cert.subject.getField('CN')?.value ?? '');
  const notAfter = cert.validity.notAfter;
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  if (notAfter <= now) {
    results.push({ name, status: 'error', detail: `expired on ${notAfter.toISOString()} (CN ${subject})`, hint: 'renew the certificate and restart the server' });
  } else if (cert.validity.notBefore > now) {
    results.push({ name, status: 'error', detail: `not valid before ${cert.validity.notBefore.toISOString()}`, hint: "check the host's clock and the certificate's dates" });
  } else if (daysLeft < EXPIRY_WARNING_DAYS) {
    results.push({ name, status: 'warning', detail: `expires in ${daysLeft} days (${notAfter.toISOString()})`, hint: 'renew the certificate soon' });
  } else {
    results.push({ name, status: 'ok', detail: `valid until ${notAfter.toISOString()} (CN ${subject})` });
  }
  const certKey = cert.publicKey as forge.pki.rsa.PublicKey;
  if (!key || !certKey.n) {
    results.push({ name: `[https] key ${keyFile}`, status: 'warning', detail: 'not an RSA key: whether it matches the certificate is not checked here' });
  } else if (key.n.equals(certKey.n) && key.e.equals(certKey.e)) {
    results.push({ name: `[https] key ${keyFile}`, status: 'ok', detail: 'belongs to the certificate' });
  } else {
    results.push({ name: `[https] key ${keyFile}`, status: 'error', detail: 'does not belong to the certificate', hint: '[https] key must be the private key the certificate was issued for' });
  }
  return results;
}
