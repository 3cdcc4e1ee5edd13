import { Counter, type Registry } from 'prom-client';
import type { Logger } from '@talk-signaling/runtime';
import type { ServerConfig } from '../config';
import type { ClientSession } from '../session/client-session';
import { isValidCountry } from '../mcu/proxy/continents';
import { CountryLookup } from './country-lookup';
import { GeoipDatabase, maxmindDownloadUrl } from './geoip-database';

export interface GeoipOptions {
  log: Logger;
  registry: Registry;
  /** Refresh interval and retry delays (tests shorten them). */
  refreshMs?: number;
  retry?: { initialMs: number; maxMs: number };
}

/**
 * `[geoip]`, `[geoip-overrides]`: every client's country, from the overrides and the MaxMind
 * database, counted in `signaling_client_countries_total` (the proxy MCU places streams by it).
 */
export class Geoip {
  readonly lookup: CountryLookup;
  /** Undefined without `[geoip] url` / `license`: countries then come from the overrides only. */
  readonly database: GeoipDatabase | undefined;
  readonly #countries: Counter<'country'>;

  constructor(config: Readonly<ServerConfig>, opts: GeoipOptions) {
    const source = config.geoip.url || (config.geoip.license ? maxmindDownloadUrl(config.geoip.license) : '');
    this.database = source ? new GeoipDatabase({ source, log: opts.log, refreshMs: opts.refreshMs, retry: opts.retry }) : undefined;
    this.lookup = new CountryLookup(config.geoipOverrides, this.database);
    this.#countries = new Counter({
      name: 'signaling_client_countries_total',
      help: 'The total number of connections by country',
      labelNames: ['country'],
      registers: [opts.registry],
    });
  }

  /** The country of a client address (an ISO code or one of the pseudo-countries). */
  country(ip: string): string {
    return this.lookup.country(ip);
  }

  /** Counts a registered client session by its connection's country (upstream: on hello). */
  sessionCreated(session: ClientSession): void {
    const country = session.connection?.info.country;
    if (isValidCountry(country)) this.#countries.inc({ country });
  }

  start(): Promise<void> {
    return this.database?.start() ?? Promise.resolve();
  }

  stop(): void {
    this.database?.stop();
  }
}
