import { EtcdClient, jsonValue, type EtcdOptions, type WatchedPrefix } from '@talk-signaling/cluster';
import type { Logger } from '@talk-signaling/runtime';
import type { ProxyTarget } from './proxy-sfu';

/** Upstream's prefix when `[mcu] keyprefix` is empty (kept for compatibility, odd as it is). */
export const DEFAULT_PROXY_KEY_PREFIX = '/%s';

/**
 * An etcd entry of a proxy (`{"address": "https://proxy.example.com/"}`); the address gets a
 * trailing `/` so that `proxy` resolves below it. Throws for anything else (the entry is ignored).
 */
export function proxyAddress(value: unknown): string {
  const address = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['address'] : undefined;
  if (typeof address !== 'string' || address === '') throw new Error('address missing');
  const withSlash = address.endsWith('/') ? address : `${address}/`;
  if (!URL.canParse(withSlash)) throw new Error(`invalid address ${address}`);
  return withSlash;
}

export interface EtcdProxyTargetsOptions {
  etcd: EtcdOptions;
  /** `[mcu] keyprefix`. */
  prefix: string;
  onTargets: (targets: ProxyTarget[]) => void;
  log: Logger;
}

/**
 * The proxy list of `[mcu] urltype = etcd`: every valid entry under the key prefix, watched
 * (the shared watched-prefix helper keeps the last known list while etcd is away and re-reads
 * it when etcd is back). An address listed under two keys counts once.
 */
export class EtcdProxyTargets {
  readonly #options: EtcdProxyTargetsOptions;
  #client: EtcdClient | undefined;
  #watch: WatchedPrefix<string> | undefined;
  #stopped = false;

  constructor(options: EtcdProxyTargetsOptions) {
    this.#options = options;
  }

  start(): void {
    void this.#start();
  }

  stop(): void {
    this.#stopped = true;
    this.#watch?.close();
    this.#client?.close();
  }

  async #start(): Promise<void> {
    const { log } = this.#options;
    try {
      this.#client = await EtcdClient.create(this.#options.etcd, log);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'could not create the etcd client for the proxy list');
      return;
    }
    if (!this.#client) {
      log.error('[mcu] urltype = etcd but no etcd endpoints are configured: no proxies');
      return;
    }
    if (this.#stopped) return this.#client.close();
    const prefix = this.#options.prefix || DEFAULT_PROXY_KEY_PREFIX;
    const watch = this.#client.watchPrefix(prefix, { decode: jsonValue(proxyAddress) });
    this.#watch = watch;
    const publish = (): void => {
      const urls = new Set<string>();
      for (const [, url] of [...watch.entries()].sort(([a], [b]) => a.localeCompare(b))) urls.add(url);
      this.#options.onTargets([...urls].map((url) => ({ url })));
    };
    for (const event of ['added', 'changed', 'removed', 'synced'] as const) watch.on(event, publish);
    log.info({ prefix }, 'watching etcd for proxies');
  }
}
