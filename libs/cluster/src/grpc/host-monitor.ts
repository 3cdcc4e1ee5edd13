import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { Logger } from '@talk-signaling/runtime';

/** Resolves a host name to all its addresses (node's `dns.lookup(all)`; injectable for tests). */
export type HostLookup = (host: string) => Promise<string[]>;

export const systemHostLookup: HostLookup = async (host) => (await dns.lookup(host, { all: true })).map((a) => a.address);

/** Called with the addresses that appeared and disappeared since the last lookup. */
export type HostChangeListener = (added: string[], removed: string[]) => void;

interface Entry {
  host: string;
  ips: Set<string>;
  listener: HostChangeListener;
  busy: boolean;
}

/**
 * Re-resolves host names periodically (upstream `dns.Monitor`, 1 s): a failed lookup keeps the
 * last addresses, an empty answer removes them all. IP literals never change.
 */
export class HostMonitor {
  readonly #lookup: HostLookup;
  readonly #logger: Logger;
  readonly #entries = new Set<Entry>();
  readonly #timer: NodeJS.Timeout;

  constructor(lookup: HostLookup, intervalMs: number, logger: Logger) {
    this.#lookup = lookup;
    this.#logger = logger;
    this.#timer = setInterval(() => {
      for (const entry of this.#entries) void this.#check(entry);
    }, intervalMs);
    this.#timer.unref();
  }

  /** Starts resolving `host` (first lookup now); returns a function that stops it. */
  add(host: string, listener: HostChangeListener): () => void {
    const entry: Entry = { host, ips: new Set(), listener, busy: false };
    if (isIP(host) !== 0) {
      entry.ips.add(host);
      queueMicrotask(() => listener([host], []));
      return () => undefined;
    }
    this.#entries.add(entry);
    void this.#check(entry);
    return () => this.#entries.delete(entry);
  }

  /** Stops all lookups. */
  close(): void {
    clearInterval(this.#timer);
    this.#entries.clear();
  }

  async #check(entry: Entry): Promise<void> {
    if (entry.busy) return;
    entry.busy = true;
    let ips: string[];
    try {
      ips = await this.#lookup(entry.host);
    } catch (err) {
      this.#logger.warn({ host: entry.host, err: err instanceof Error ? err.message : String(err) }, 'could not resolve gRPC target, keeping its last addresses');
      return;
    } finally {
      entry.busy = false;
    }
    if (!this.#entries.has(entry)) return;
    const next = new Set(ips);
    const added = [...next].filter((ip) => !entry.ips.has(ip));
    const removed = [...entry.ips].filter((ip) => !next.has(ip));
    if (added.length === 0 && removed.length === 0) return;
    entry.ips = next;
    try {
      entry.listener(added, removed);
    } catch (err) {
      this.#logger.error({ err, host: entry.host }, 'host change listener threw');
    }
  }
}
