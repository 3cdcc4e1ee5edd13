import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSignalingProxy, writeProxyTokenKey, type SignalingProxy } from '@talk-signaling/testing';

export interface E2eProxy {
  kind: 'ours' | 'go';
  /** The signaling server's `[mcu]` section for this proxy. */
  mcuSection: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A signaling proxy in front of the run's Janus: our mcu-proxy (built) or the Go proxy 0.4.1 of
 * the Debian package, with a fresh RSA token key the signaling server signs its hellos with.
 */
export async function startE2eProxy(kind: 'ours' | 'go', janusUrl: string, mcuProxyMainJs: string): Promise<E2eProxy> {
  if (kind === 'ours' && !existsSync(mcuProxyMainJs)) throw new Error(`proxy: ${mcuProxyMainJs} missing; build it first (nx build mcu-proxy)`);
  const keyDir = await mkdtemp(path.join(tmpdir(), 'talk-e2e-proxy-key-'));
  let proxy: SignalingProxy;
  try {
    const key = await writeProxyTokenKey(keyDir, 'e2e-signaling');
    proxy = await startSignalingProxy({
      janusUrl,
      tokenKey: key,
      ...(kind === 'ours' ? { binary: process.execPath, args: [mcuProxyMainJs], readyPath: '/ready' } : {}),
    });
    const mcuSection = ['[mcu]', 'type = proxy', `url = ${proxy.url}`, `token_id = ${key.tokenId}`, `token_key = ${key.privateKeyPath}`].join('\n');
    return {
      kind,
      mcuSection,
      output: () => proxy.output,
      stop: async () => {
        await proxy.stop();
        await rm(keyDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(keyDir, { recursive: true, force: true });
    throw err;
  }
}

/** Waits until the signaling server lists its proxy as connected (`/api/v1/stats`, allowed from 127.0.0.1). */
export async function waitForProxyConnected(wsUrl: string, timeoutMs: number): Promise<void> {
  const statsUrl = new URL('/api/v1/stats', wsUrl.replace(/^ws/, 'http'));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const body = (await (await fetch(statsUrl, { signal: AbortSignal.timeout(1_000) })).json()) as { mcu?: { details?: { connected?: boolean }[] } };
      if (body.mcu?.details?.some((d) => d.connected)) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error('signaling: the proxy did not connect in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
