import {
  CAPABILITY_SIGNALING_V3,
  CONFIG_HELLO_V2_TOKEN_KEY,
  CONFIG_SESSION_PING_LIMIT,
  parseCapabilities,
  type Capabilities as ParsedCapabilities,
} from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';

export type { ParsedCapabilities };

/** Cache capabilities for one hour (upstream `CapabilitiesCacheDuration`). */
export const CAPABILITIES_CACHE_MS = 60 * 60 * 1000;
/** Forced invalidation at most once per minute per URL (upstream `maxInvalidateInterval`). */
export const MAX_INVALIDATE_INTERVAL_MS = 60 * 1000;

/** What {@link Capabilities} needs to GET an OCS resource (satisfied by `BackendClient`). */
export interface CapabilitiesFetcher {
  /** GETs `url` with OCS headers and resolves with the unwrapped OCS `data`. */
  getJson(url: string): Promise<unknown>;
}

export interface CapabilitiesOptions {
  client: CapabilitiesFetcher;
  log: Logger;
  /** Clock in ms since the epoch; tests inject a fake one. Default `Date.now`. */
  now?: () => number;
}

/** A capabilities lookup together with where it came from. */
export interface CapabilitiesLookup {
  /** Undefined when the fetch failed or Nextcloud sent no `spreed` capabilities. */
  capabilities: ParsedCapabilities | undefined;
  /** True when served from the cache without asking Nextcloud. */
  cached: boolean;
}

interface CacheEntry {
  capabilities: ParsedCapabilities;
  /** `now()` after which the entry must be refetched. */
  expires: number;
}

/**
 * The URL the capabilities of a backend URL are fetched from (fact sheet 3.4): cut after
 * `/ocs/v2.php` and append `/cloud/capabilities` when the path points into OCS, else append
 * `ocs/v2.php/cloud/capabilities` below the path. Query and fragment are kept like Go's
 * `url.URL` copy does.
 */
export function capabilitiesUrl(backendUrl: string): string {
  const url = new URL(backendUrl);
  const path = url.pathname;
  if (!path.includes('ocs/v2.php')) {
    url.pathname = `${path.endsWith('/') ? path : `${path}/`}ocs/v2.php/cloud/capabilities`;
  } else {
    // Upstream cuts only at "/ocs/v2.php/" (a path ending in "ocs/v2.php" stays as is there,
    // which can never work); "/ocs/v2.php" without the slash is accepted here too.
    const pos = path.indexOf('/ocs/v2.php');
    if (pos >= 0) url.pathname = `${path.slice(0, pos + '/ocs/v2.php'.length)}/cloud/capabilities`;
  }
  return url.toString();
}

/**
 * Nextcloud capabilities per backend URL (upstream `capabilities.go`): fetched on demand,
 * cached for {@link CAPABILITIES_CACHE_MS} under the backend URL string as passed in (not the
 * capabilities URL), and invalidated on request at most once per {@link MAX_INVALIDATE_INTERVAL_MS}.
 * Concurrent lookups of the same URL share one request (upstream does this since 2.0.1).
 * Failures are logged and read as "no capabilities", never thrown; they are not cached, so the
 * next lookup asks again.
 */
export class Capabilities {
  readonly #client: CapabilitiesFetcher;
  readonly #log: Logger;
  readonly #now: () => number;
  /** Successful fetches by backend URL; entries past `expires` are stale. */
  readonly #entries = new Map<string, CacheEntry>();
  /** Earliest `now()` at which the key may be invalidated again. */
  readonly #nextInvalidate = new Map<string, number>();
  /** The one request in flight per backend URL. */
  readonly #inFlight = new Map<string, Promise<ParsedCapabilities | undefined>>();

  constructor(opts: CapabilitiesOptions) {
    this.#client = opts.client;
    this.#log = opts.log;
    this.#now = opts.now ?? Date.now;
  }

  /** The `spreed` capabilities for `url`, or undefined when they cannot be had. */
  async getCapabilities(url: string): Promise<ParsedCapabilities | undefined> {
    return (await this.lookup(url)).capabilities;
  }

  /** Like {@link getCapabilities}, also telling whether the answer came from the cache. */
  async lookup(url: string): Promise<CapabilitiesLookup> {
    const entry = this.#entries.get(url);
    if (entry !== undefined && entry.expires > this.#now()) return { capabilities: entry.capabilities, cached: true };
    let pending = this.#inFlight.get(url);
    if (pending === undefined) {
      pending = this.#fetch(url).finally(() => this.#inFlight.delete(url));
      this.#inFlight.set(url, pending);
    }
    return { capabilities: await pending, cached: false };
  }

  /**
   * Drops the cached capabilities of `url` so the next lookup refetches, unless that was
   * already done within the last minute. Returns whether the entry was dropped.
   */
  invalidate(url: string): boolean {
    const now = this.#now();
    const next = this.#nextInvalidate.get(url);
    if (next !== undefined && next > now) return false;
    this.#entries.delete(url);
    this.#nextInvalidate.set(url, now + MAX_INVALIDATE_INTERVAL_MS);
    return true;
  }

  /** Whether `spreed.features` of `url` lists `feature` (false when unknown). */
  async hasFeature(url: string, feature: string): Promise<boolean> {
    return (await this.getCapabilities(url))?.features.includes(feature) ?? false;
  }

  /** `spreed.config.signaling[key]` when it is a string. */
  async getString(url: string, key: string): Promise<string | undefined> {
    const value = signalingConfig(await this.getCapabilities(url))?.[key];
    return typeof value === 'string' ? value : undefined;
  }

  /** `spreed.config.signaling[key]` when it is a number, truncated to an integer like Go's `int(v)`. */
  async getNumber(url: string, key: string): Promise<number | undefined> {
    const value = signalingConfig(await this.getCapabilities(url))?.[key];
    return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : undefined;
  }

  /**
   * The hello 2.0 public key (`config.signaling["hello-v2-token-key"]`) and whether it came
   * from the cache. `forceRefresh` first invalidates the entry (subject to the once-per-minute
   * limit; `cached` tells whether the refresh really happened).
   */
  async helloV2TokenKey(url: string, opts: { forceRefresh?: boolean } = {}): Promise<{ key: string | undefined; cached: boolean }> {
    if (opts.forceRefresh) this.invalidate(url);
    const { capabilities, cached } = await this.lookup(url);
    const value = signalingConfig(capabilities)?.[CONFIG_HELLO_V2_TOKEN_KEY];
    return { key: typeof value === 'string' && value !== '' ? value : undefined, cached };
  }

  /**
   * `config.signaling["session-ping-limit"]` when it is a positive integer: room pings for
   * `url` are then combined and chunked to at most this many entries (fact sheet 3.3.3).
   */
  async sessionPingLimit(url: string): Promise<number | undefined> {
    const limit = await this.getNumber(url, CONFIG_SESSION_PING_LIMIT);
    return limit !== undefined && limit > 0 ? limit : undefined;
  }

  /** Whether requests to `url` use the `/api/v3/signaling/` endpoints (fact sheet 3.1). */
  hasSignalingV3(url: string): Promise<boolean> {
    return this.hasFeature(url, CAPABILITY_SIGNALING_V3);
  }

  async #fetch(url: string): Promise<ParsedCapabilities | undefined> {
    let target: string;
    try {
      target = capabilitiesUrl(url);
    } catch {
      this.#log.warn({ url }, 'cannot derive capabilities URL');
      return undefined;
    }
    let data: unknown;
    try {
      this.#log.debug({ url: target }, 'capabilities expired, updating');
      data = await this.#client.getJson(target);
    } catch (err) {
      this.#log.warn({ url: target, err: (err as Error).message }, 'could not get capabilities');
      return undefined;
    }
    if (!hasSpreedCapabilities(data)) {
      // Not cached, like upstream: Talk may be enabled any moment.
      this.#log.warn({ url: target }, 'no capabilities received for app spreed');
      return undefined;
    }
    const capabilities = parseCapabilities(data);
    this.#entries.set(url, { capabilities, expires: this.#now() + CAPABILITIES_CACHE_MS });
    this.#log.debug({ url: target, features: capabilities.features }, 'received capabilities');
    return capabilities;
  }
}

function signalingConfig(capabilities: ParsedCapabilities | undefined): Record<string, unknown> | undefined {
  const signaling = capabilities?.config['signaling'];
  return typeof signaling === 'object' && signaling !== null && !Array.isArray(signaling)
    ? (signaling as Record<string, unknown>)
    : undefined;
}

function hasSpreedCapabilities(data: unknown): boolean {
  const caps = isObject(data) ? data['capabilities'] : undefined;
  const spreed = isObject(caps) ? caps['spreed'] : undefined;
  return isObject(spreed);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
