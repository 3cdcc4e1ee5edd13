import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** A signaling server's identity towards the proxy: token id and RSA key pair. */
export interface ProxyTokenKey {
  id: string;
  privateKey: KeyObject;
  /** Public key PEM written to `dir`; the proxy's [tokens] names it. */
  publicKeyFile: string;
  /** Private key PEM written to `dir`; the signaling server's [mcu] token_key. */
  privateKeyFile: string;
}

/** Makes an RSA key pair and writes both halves (the public one mode 0644: readable by uid 1000). */
export function makeProxyTokenKey(dir: string, id: string): ProxyTokenKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyFile = path.join(dir, `${id}.pub`);
  const privateKeyFile = path.join(dir, `${id}.key`);
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { id, privateKey, publicKeyFile, privateKeyFile };
}

/**
 * proxy.conf of the deployment tests: loopback listener, static tokens (`tokenFiles`: token id
 * -> key file path as the proxy sees it), Janus at `janusUrl`, /metrics for 127.0.0.1.
 */
export function mcuProxyConf(port: number, janusUrl: string, tokenFiles: Record<string, string>): string {
  return [
    '[http]',
    `listen = 127.0.0.1:${port}`,
    '[app]',
    'tokentype = static',
    '[mcu]',
    'type = janus',
    `url = ${janusUrl}`,
    '[tokens]',
    ...Object.entries(tokenFiles).map(([id, file]) => `${id} = ${file}`),
    '[stats]',
    'allowed_ips = 127.0.0.1',
  ].join('\n');
}
