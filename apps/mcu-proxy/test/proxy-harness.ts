import { silentLogger, type Logger } from '@talk-signaling/runtime';
import { parseProxyConfig } from '../src/config/proxy-config';
import { ProxyApp, type ProxyAppOptions } from '../src/proxy-app';
import type { TokenIdentity } from './proxy-test-client';

export interface TestProxy {
  app: ProxyApp;
  /** `ws://127.0.0.1:P/proxy` */
  wsUrl: string;
  /** `http://127.0.0.1:P` */
  httpUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a proxy in this process on a free loopback port in front of `janusUrl`, accepting
 * tokens of `signaling` identities. `extra` is appended to the generated `proxy.conf`.
 */
export async function startTestProxy(opts: {
  janusUrl: string;
  signaling: TokenIdentity[];
  extra?: string;
  options?: Partial<ProxyAppOptions>;
  log?: Logger;
}): Promise<TestProxy> {
  const text = proxyConfText(opts.janusUrl, opts.signaling, opts.extra);
  const app = await ProxyApp.create(parseProxyConfig(text, {}), { log: opts.log ?? silentLogger(), ...opts.options });
  const [address] = await app.start();
  const base = `127.0.0.1:${address!.port}`;
  return { app, wsUrl: `ws://${base}/proxy`, httpUrl: `http://${base}`, stop: () => app.stop() };
}

/** A `proxy.conf` for tests (sections merge, so `extra` may add keys to any section). */
export function proxyConfText(janusUrl: string, signaling: TokenIdentity[], extra = '', listen = '127.0.0.1:0'): string {
  return [
    '[http]',
    `listen = ${listen}`,
    '[app]',
    '[mcu]',
    'type = janus',
    `url = ${janusUrl}`,
    '[tokens]',
    ...signaling.map((s) => `${s.id} = ${s.publicKeyFile}`),
    extra,
  ].join('\n');
}
