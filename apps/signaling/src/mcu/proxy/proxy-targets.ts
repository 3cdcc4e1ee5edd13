import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '@talk-signaling/runtime';
import type { ProxyTarget } from './proxy-sfu';

/** Upstream re-resolves proxy names every second. */
export const DEFAULT_DNS_INTERVAL_MS = 1_000;

export type AddressLookup = (hostname: string) => Promise<string[]>;

const systemLookup: AddressLookup = async (hostname) => (await lookup(hostname, { all: true })).map((a) => a.address);

export interface StaticProxyTargetsOptions {
  /** `[mcu] url` (space separated in the config). */
  urls: readonly string[];
  /** `[mcu] dnsdiscovery`: one connection per resolved address, re-resolved periodically. */
  dnsDiscovery: boolean;
  onTargets: (targets: ProxyTarget[]) => void;
  log: Logger;
  intervalMs?: number;
  lookup?: AddressLookup;
}

/**
 * The proxy list of `[mcu] urltype = static`. Without DNS discovery the URLs themselves; with it
 * every address their names resolve to, looked up again every second (a failed lookup keeps
 * the addresses of the last one that worked, so a DNS hiccup closes nothing).
 */
export class StaticProxyTargets {
  #options: StaticProxyTargetsOptions;
  readonly #lookup: AddressLookup;
  readonly #addresses = new Map<string, string[]>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #started = false;
  /** Bumped by every (re)start, so that a lookup loop of an older configuration ends. */
  #generation = 0;
  #last = '';

  constructor(options: StaticProxyTargetsOptions) {
    this.#options = options;
    this.#lookup = options.lookup ?? systemLookup;
  }

  start(): void {
    this.#started = true;
    this.#generation += 1;
    clearTimeout(this.#timer);
    if (!this.#options.dnsDiscovery) {
      this.#publish(this.#options.urls.map((url) => ({ url })));
      return;
    }
    void this.#loop(this.#generation);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** SIGHUP: a new URL list or DNS discovery setting (applied at once when running). */
  update(urls: readonly string[], dnsDiscovery: boolean): void {
    this.#options = { ...this.#options, urls, dnsDiscovery };
    if (this.#started && !this.#stopped) this.start();
  }

  /** One round of lookups (exposed for tests). */
  async refresh(): Promise<void> {
    const targets: ProxyTarget[] = [];
    for (const url of this.#options.urls) {
      let hostname: string;
      try {
        hostname = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
      } catch {
        this.#options.log.warn({ url }, 'invalid proxy URL; skipped');
        continue;
      }
      if (isIP(hostname)) {
        targets.push({ url });
        continue;
      }
      try {
        const addresses = [...new Set(await this.#lookup(hostname))].sort();
        this.#addresses.set(url, addresses);
      } catch (err) {
        this.#options.log.warn({ url, err: (err as Error).message }, 'could not resolve proxy name; keeping the last addresses');
      }
      for (const ip of this.#addresses.get(url) ?? []) targets.push({ url, ip });
    }
    this.#publish(targets);
  }

  #publish(targets: ProxyTarget[]): void {
    const summary = JSON.stringify(targets);
    if (summary === this.#last) return;
    this.#last = summary;
    this.#options.onTargets(targets);
  }

  async #loop(generation: number): Promise<void> {
    if (this.#stopped || generation !== this.#generation) return;
    await this.refresh();
    if (this.#stopped || generation !== this.#generation) return;
    this.#timer = setTimeout(() => void this.#loop(generation), this.#options.intervalMs ?? DEFAULT_DNS_INTERVAL_MS);
    this.#timer.unref();
  }
}
