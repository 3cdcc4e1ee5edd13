import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSignalingProxy, writeProxyTokenKey, type SignalingProxy } from '@talk-signaling/testing';

export interface E2eProxy {
  kind: 'ours' | 'go';
  /** The signaling server's `[mcu]` section for these proxies. */
  mcuSection: string;
  /** Base URLs, in the order of the Janus URLs given. */
  urls: string[];
  output(): string;
  stop(): Promise<void>;
}

export interface E2eProxyOptions {
  kind: 'ours' | 'go';
  /** One proxy per Janus. */
  janusUrls: string[];
  /** `[app] country` per proxy (same order). */
  countries?: string[];
  /** Our mcu-proxy: the later proxies may pull streams from the first (remote streams). */
  remoteStreams?: boolean;
  mcuProxyMainJs: string;
}

/**
 * Signaling proxies in front of the run's Janus servers: our mcu-proxy (built) or the Go proxy
 * 0.4.1 of the Debian package, with a fresh RSA token key the signaling server signs its hellos
 * with (and, for remote streams, one the pulling proxies sign theirs with).
 */
export async function startE2eProxies(opts: E2eProxyOptions): Promise<E2eProxy> {
  if (opts.kind === 'ours' && !existsSync(opts.mcuProxyMainJs)) throw new Error(`proxy: ${opts.mcuProxyMainJs} missing; build it first (nx build mcu-proxy)`);
  const keyDir = await mkdtemp(path.join(tmpdir(), 'talk-e2e-proxy-key-'));
  const proxies: SignalingProxy[] = [];
  const stop = async (): Promise<void> => {
    for (const p of proxies) await p.stop();
    await rm(keyDir, { recursive: true, force: true });
  };
  try {
    const key = await writeProxyTokenKey(keyDir, 'e2e-signaling');
    const puller = opts.remoteStreams ? await writeProxyTokenKey(keyDir, 'e2e-proxy') : undefined;
    for (const [i, janusUrl] of opts.janusUrls.entries()) {
      const country = opts.countries?.[i];
      const extra = !puller ? '' : i === 0 ? `[tokens]\n${puller.tokenId} = ${puller.publicKeyPath}` : `[app]\ntoken_id = ${puller.tokenId}\ntoken_key = ${puller.privateKeyPath}\nhostname = 127.0.0.1`;
      proxies.push(
        await startSignalingProxy({
          janusUrl,
          tokenKey: key,
          ...(country ? { country } : {}),
          ...(extra ? { extraConfig: extra } : {}),
          ...(opts.kind === 'ours' ? { binary: process.execPath, args: [opts.mcuProxyMainJs], readyPath: '/ready' } : {}),
        }),
      );
    }
    const urls = proxies.map((p) => p.url);
    const mcuSection = ['[mcu]', 'type = proxy', `url = ${urls.join(' ')}`, `token_id = ${key.tokenId}`, `token_key = ${key.privateKeyPath}`].join('\n');
    return { kind: opts.kind, mcuSection, urls, output: () => proxies.map((p) => p.output).join('\n--- next proxy ---\n'), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The signaling server's `mcu` stats (`/api/v1/stats`, allowed from 127.0.0.1). */
export async function mcuStats(wsUrl: string): Promise<{ details?: { url: string; connected?: boolean; publishers?: number; clients?: number }[] } | undefined> {
  const statsUrl = new URL('/api/v1/stats', wsUrl.replace(/^ws/, 'http'));
  const body = (await (await fetch(statsUrl, { signal: AbortSignal.timeout(1_000) })).json()) as { mcu?: never };
  return body.mcu;
}

/** Waits until the signaling server lists `count` connected proxies. */
export async function waitForProxiesConnected(wsUrl: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await mcuStats(wsUrl).catch(() => undefined);
    if ((stats?.details?.filter((d) => d.connected).length ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`signaling: ${count} proxies did not connect in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
