import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { ManagedServer, ProcessStartError, Spawned, type ManagedProcess } from './managed-process';

/** The Go proxy of the Debian package `nextcloud-spreed-signaling` (0.4.1). */
export const GO_PROXY_BINARY = '/usr/bin/nextcloud-spreed-signaling-proxy';
/** Start-up deadline per attempt (ms). */
const PROXY_READY_TIMEOUT_MS = 15_000;
const PROXY_PORT_ATTEMPTS = 3;

/** An RSA key pair for proxy tokens, as PEM files. */
export interface ProxyTokenKey {
  /** Token id (`iss`) the proxy accepts the key under (`[mcu] token_id` of the signaling server). */
  tokenId: string;
  /** Private key file (`[mcu] token_key`). */
  privateKeyPath: string;
  /** Public key file (`[tokens] <id> = <file>` of the proxy). */
  publicKeyPath: string;
}

/** Writes a fresh 2048-bit RSA key pair into `dir`. */
export async function writeProxyTokenKey(dir: string, tokenId = 'signaling'): Promise<ProxyTokenKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKeyPath = path.join(dir, `${tokenId}.key`);
  const publicKeyPath = path.join(dir, `${tokenId}.pub`);
  await writeFile(privateKeyPath, privateKey, { mode: 0o600 });
  await writeFile(publicKeyPath, publicKey);
  return { tokenId, privateKeyPath, publicKeyPath };
}

export interface SignalingProxyOptions {
  /** Janus WebSocket URL the proxy fronts. */
  janusUrl: string;
  /** Key the signaling server signs its tokens with (its public half goes into `[tokens]`). */
  tokenKey: ProxyTokenKey;
  /** `[app] country`. */
  country?: string;
  /** Binary (default the Go proxy); any upstream-compatible proxy taking `--config`. */
  binary?: string;
  /** Arguments before `--config <file>` (e.g. the script for `node`). */
  args?: string[];
  /** Path polled until it answers 200 (default `/stats`; our mcu-proxy has `/ready`). */
  readyPath?: string;
  /** Extra lines appended to the config (other sections). */
  extraConfig?: string;
}

/** A started proxy: `url` is its base URL (`http://127.0.0.1:P/`, as `[mcu] url` takes it). */
export type SignalingProxy = ManagedProcess;

/**
 * Starts an upstream-compatible signaling proxy (by default the Go proxy 0.4.1) in front of a
 * Janus, on a free loopback port, accepting tokens signed with `tokenKey`. Ready when
 * `/stats` answers (the Go proxy listens once its Janus is connected). `restart()` keeps the port.
 */
export async function startSignalingProxy(opts: SignalingProxyOptions): Promise<SignalingProxy> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'talk-proxy-'));
  const configPath = path.join(tempDir, 'proxy.conf');
  let port = 0;
  const launch = async (): Promise<Spawned> => {
    await writeFile(
      configPath,
      [
        '[http]',
        `listen = 127.0.0.1:${port}`,
        '[app]',
        'tokentype = static',
        ...(opts.country ? [`country = ${opts.country}`] : []),
        '[tokens]',
        `${opts.tokenKey.tokenId} = ${opts.tokenKey.publicKeyPath}`,
        '[mcu]',
        'type = janus',
        `url = ${opts.janusUrl}`,
        opts.extraConfig ?? '',
        '',
      ].join('\n'),
    );
    const binary = opts.binary ?? GO_PROXY_BINARY;
    const child = new Spawned(path.basename(opts.args?.[0] ?? binary), binary, [...(opts.args ?? []), '--config', configPath]);
    await child.ready(async () => {
      // `/stats` (allowed from 127.0.0.1): the Go proxy 0.4.1 has no `/welcome` yet.
      const res = await fetch(`http://127.0.0.1:${port}${opts.readyPath ?? '/stats'}`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      return res?.ok === true;
    }, PROXY_READY_TIMEOUT_MS);
    return child;
  };
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      const first = await launch();
      return new ManagedServer(`http://127.0.0.1:${port}/`, port, first, { launch, tempDir });
    } catch (err) {
      const inUse = err instanceof ProcessStartError && /address already in use/i.test(err.output);
      if (!inUse || attempt >= PROXY_PORT_ATTEMPTS) {
        await rm(tempDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}
